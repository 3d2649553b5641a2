// Containerise from the notebook toolbar in a real VS Code: the button is there on a Jupyter
// notebook, and pressing it builds an image whose smoke test passes.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureMlflow } from '../../scripts/lib/mlflow.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { testBaseImage } from '../support/docker';
import { needService } from '../support/services';
import { openWorkbench, screenshot, workbenchUnavailableReason, type Workbench } from '../support/workbench';

describe('Containerise on the notebook toolbar', { timeout: 420_000 }, () => {
  let workbench: Workbench | undefined;
  let unavailable = workbenchUnavailableReason();

  before(async () => {
    if (unavailable) return;
    const image = await testBaseImage();
    const mlflow = ensureMlflow();
    if (!image.ok) return void (unavailable = image.reason);
    if (!mlflow.ok) return void (unavailable = mlflow.reason);
    const workspace = join(mkdtempSync(join(tmpdir(), 'mlops-e2e-containerize-')), 'churn');
    cpSync(join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace'), workspace, { recursive: true });
    mkdirSync(join(workspace, '.vscode'));
    // The workspace's interpreter and the offline base image, as a user would set them.
    writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'mlops.pythonPath': mlflow.python, 'mlops.baseImage': image.image }));
    workbench = await openWorkbench(workspace);
  });
  after(() => workbench?.close());

  test('builds the notebook into an image whose smoke test passes', async (t) => {
    if (!needService(t, !unavailable, `containerise cannot run end to end: ${unavailable}`)) return;
    const { page } = workbench!;
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('churn_forest.ipynb');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'churn_forest.ipynb' }).first().click();
    const button = page.locator('.notebook-toolbar-container .action-item a[aria-label*="Containerise"]').first();
    await button.waitFor({ timeout: 60_000 });
    await screenshot(page, 'notebook-toolbar');
    await button.click();
    // What was detected, before anything is built: the model, its data and its packages.
    const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'clf' }).first();
    await pick.waitFor({ timeout: 60_000 });
    assert.match(await pick.innerText(), /RandomForestClassifier.*cell 8[\s\S]*data\/customers\.csv/);
    await screenshot(page, 'containerize-detected');
    await page.keyboard.press('Enter');
    const done = page.locator('.notification-toast', { hasText: /smoke test (passed|FAILED)/ }).first();
    await done.waitFor({ timeout: 300_000 });
    const text = await done.innerText();
    await screenshot(page, 'containerize-done');
    assert.match(text, /(Built|Reused) mlops\/churn_forest:[0-9a-f]{12} — smoke test passed: healthy after \d+ ms; 5 sample rows predicted \[/);
  });
});
