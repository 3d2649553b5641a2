// The extension in a real VS Code (code-server in Chromium): the MLOps container, its views'
// welcome content, the palette, the datasets of a workspace and the Environment panel.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { needService } from '../support/services';
import {
  openMlopsContainer,
  openWorkbench,
  paletteEntries,
  runCommand,
  screenshot,
  webviewFrame,
  workbenchUnavailableReason,
  type Workbench,
} from '../support/workbench';

const unavailable = workbenchUnavailableReason();

describe('an empty workspace', { timeout: 240_000 }, () => {
  let workbench: Workbench | undefined;

  before(async () => {
    if (unavailable) return;
    workbench = await openWorkbench(mkdtempSync(join(tmpdir(), 'mlops-empty-')));
  });
  after(() => workbench?.close());

  test('shows the MLOps container with three views and their welcome content', async (t) => {
    if (!needService(t, !unavailable, `code-server cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    await openMlopsContainer(page);
    for (const view of ['Datasets', 'Experiments', 'Deployments']) {
      const header = page.locator(`.pane-header[aria-label^="${view}"]`).first();
      await header.waitFor();
      if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    }
    const welcome = page.locator('.welcome-view-content');
    await welcome.nth(2).waitFor({ timeout: 20_000 });
    const texts = await welcome.allInnerTexts();
    await screenshot(page, 'views-welcome');
    assert.ok(
      texts.some((text) => text.includes('No datasets found')),
      `datasets welcome in: ${texts.join(' | ')}`,
    );
    assert.ok(texts.some((text) => text.includes('No MLflow experiments found')));
    assert.ok(texts.some((text) => text.includes('No deployments yet')));
    assert.ok((await page.locator('.welcome-view-content .monaco-button', { hasText: 'Refresh' }).count()) >= 3);
  });

  test('lists the MLOps commands in the palette', async (t) => {
    if (!needService(t, !unavailable, `code-server cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    await paletteEntries(page, 'MLOps:');
    await screenshot(page, 'palette');
    await page.keyboard.press('Escape');
    // One query per title: the palette renders only the rows it has room for.
    const titles = [
      'MLOps: Refresh Datasets',
      'MLOps: Refresh Experiments',
      'MLOps: Refresh Deployments',
      'MLOps: Check Environment',
      'MLOps: Show Log',
      'MLOps: Containerise Notebook',
    ];
    for (const title of titles) {
      const entries = await paletteEntries(page, title);
      await page.keyboard.press('Escape');
      assert.ok(
        entries.some((entry) => entry.includes(title)),
        `${title} in ${entries.join(' | ')}`,
      );
    }
  });
});

describe('a workspace with data', { timeout: 240_000 }, () => {
  let workbench: Workbench | undefined;

  before(async () => {
    if (unavailable) return;
    const workspace = mkdtempSync(join(tmpdir(), 'mlops-data-'));
    mkdirSync(join(workspace, 'data'));
    writeFileSync(join(workspace, 'data', 'customers.csv'), 'id,age,churned\n1,34,0\n2,51,1\n');
    writeFileSync(join(workspace, 'data', 'events.jsonl'), '{"id":1}\n');
    writeFileSync(join(workspace, 'package.json'), '{}');
    workbench = await openWorkbench(workspace);
  });
  after(() => workbench?.close());

  test('lists the dataset files and leaves out tool configuration', async (t) => {
    if (!needService(t, !unavailable, `code-server cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    await openMlopsContainer(page);
    const rows = page.locator('[id="workbench.view.extension.mlops"] .monaco-list-row');
    await rows.filter({ hasText: 'customers.csv' }).first().waitFor({ timeout: 30_000 });
    const labels = await rows.allInnerTexts();
    await screenshot(page, 'datasets');
    assert.ok(
      labels.some((label) => label.includes('events.jsonl')),
      labels.join(' | '),
    );
    assert.ok(!labels.some((label) => label.includes('package.json')), labels.join(' | '));
  });

  test('opens the Environment panel from the palette and shows the checks', async (t) => {
    if (!needService(t, !unavailable, `code-server cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    await runCommand(page, 'MLOps: Check Environment');
    const frame = await webviewFrame(page, 'tr[data-check="python"]', 60_000);
    const rows = await Promise.all(
      (await frame.locator('tr[data-check]').all()).map(
        async (row) => `${await row.getAttribute('data-check')}:${await row.getAttribute('data-status')}`,
      ),
    );
    await screenshot(page, 'environment-panel');
    assert.ok(rows.includes('python:ok'), rows.join(' '));
    assert.ok(
      rows.some((row) => row.startsWith('docker:')),
      rows.join(' '),
    );
    assert.ok(
      rows.some((row) => row.startsWith('git:')),
      rows.join(' '),
    );
  });
});
