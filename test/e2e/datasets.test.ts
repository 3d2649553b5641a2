// The Datasets view in a real VS Code on the demo workspace: its data files, its pipeline, and
// the lake tables that running the pipeline from the palette writes.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createDemoWorkspace } from '../../scripts/lib/demoWorkspace.mjs';
import { needService } from '../support/services';
import {
  openMlopsContainer,
  openWorkbench,
  runCommand,
  screenshot,
  webviewFrame,
  workbenchUnavailableReason,
  type Workbench,
} from '../support/workbench';

const unavailable = workbenchUnavailableReason();

describe('the Datasets view on the demo workspace', { timeout: 300_000 }, () => {
  let workbench: Workbench | undefined;

  before(async () => {
    if (unavailable) return;
    workbench = await openWorkbench(
      createDemoWorkspace(join(mkdtempSync(join(tmpdir(), 'mlops-e2e-data-')), 'workspace')),
    );
  });
  after(() => workbench?.close());

  const row = (label: string) =>
    workbench!.page.locator('[id="workbench.view.extension.mlops"] .monaco-list-row', { hasText: label }).first();

  test('lists the data files and the pipeline steps, never run yet', async (t) => {
    if (!needService(t, !unavailable, `code-server cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    await openMlopsContainer(page);
    await row('customers.csv').waitFor({ timeout: 30_000 });
    // Row and column counts arrive in the background; the columns are listed under the file.
    await workbench!.page
      .locator('[id="workbench.view.extension.mlops"] .monaco-list-row', { hasText: /customers\.csv.*500 × 6/ })
      .first()
      .waitFor({ timeout: 30_000 });
    await row('customers.csv').locator('.monaco-tl-twistie').click();
    await row('monthly_charges').waitFor({ timeout: 30_000 });
    assert.match(await row('monthly_charges').innerText(), /DOUBLE/);
    await row('customers.csv').locator('.monaco-tl-twistie').click();
    await row('mlops.pipeline.yaml').waitFor({ timeout: 30_000 });
    assert.match(await row('features').innerText(), /sql · → churn_features .*never run/);
  });

  test('previews a dataset page by page, and profiles it with charts', async (t) => {
    if (!needService(t, !unavailable, `code-server cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    await row('customers.csv').click();
    const grid = await webviewFrame(page, '[role="grid"]', 60_000);
    await grid.locator('[role="columnheader"]', { hasText: 'monthly_charges' }).first().waitFor({ timeout: 30_000 });
    assert.ok((await grid.locator('[role="gridcell"]', { hasText: 'C0001' }).count()) > 0, 'the first row is shown');
    await screenshot(page, 'preview-panel');

    await row('customers.csv').hover();
    await row('customers.csv').locator('.action-label[aria-label="Profile Dataset"]').click();
    const profile = await webviewFrame(page, 'canvas', 90_000);
    await profile.getByText('tenure_months').first().waitFor({ timeout: 30_000 });
    assert.match(await profile.locator('body').innerText(), /500 rows/);
    assert.ok((await profile.locator('canvas').count()) >= 3, 'a chart per column');
    await page.waitForTimeout(500);
    await screenshot(page, 'profile-panel');
  });

  test('runs the pipeline from the palette: the steps succeed and the lake shows the tables', async (t) => {
    if (!needService(t, !unavailable, `code-server cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    await runCommand(page, 'MLOps: Run Pipeline');
    const table = workbench!.page
      .locator('[id="workbench.view.extension.mlops"] .monaco-list-row', { hasText: /^churn_features/ })
      .first();
    await table.waitFor({ timeout: 60_000 });
    assert.match(await table.innerText(), /v1 · 500 rows × 8 columns/);
    await page
      .locator('[id="workbench.view.extension.mlops"] .monaco-list-row', { hasText: /^check.*succeeded/ })
      .first()
      .waitFor({ timeout: 30_000 });
    await screenshot(page, 'datasets-lake-pipeline');
  });

  test('queries a lake table with SQL in the query panel', async (t) => {
    if (!needService(t, !unavailable, `code-server cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    const table = page
      .locator('[id="workbench.view.extension.mlops"] .monaco-list-row', { hasText: /^churn_features/ })
      .first();
    await table.hover();
    await table.locator('.action-label[aria-label="Query the Lake with SQL"]').click();
    const frame = await webviewFrame(page, 'vscode-textarea', 60_000);
    await frame.locator('vscode-button', { hasText: 'Run' }).first().click();
    await frame.locator('.summary', { hasText: /rows/ }).waitFor({ timeout: 30_000 });
    assert.match(await frame.locator('.summary').innerText(), /100 rows/);
    assert.ok(
      (await frame.locator('[role="columnheader"]', { hasText: 'support_minutes' }).count()) > 0,
      'the result has the derived column',
    );
    await page.waitForTimeout(500);
    await screenshot(page, 'query-panel');
  });
});
