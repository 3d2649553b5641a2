// Containerise in a real VS Code, on the workspace `npm run demo` gives a newcomer: the button on
// the toolbar of the demo's notebook (in notebooks/, reading ../data/customers.csv) builds an
// image whose smoke test passes, and so does Containerise Model on the demo's registered model
// in the Experiments view.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { prepareDemoDocker } from '../../scripts/lib/demoDocker.mjs';
import { createDemoWorkspace } from '../../scripts/lib/demoWorkspace.mjs';
import { ensureMlflow } from '../../scripts/lib/mlflow.mjs';
import { testBaseImage } from '../support/docker';
import { needService } from '../support/services';
import {
  openMlopsContainer,
  openWorkbench,
  rowFinder,
  screenshot,
  workbenchUnavailableReason,
  type Workbench,
} from '../support/workbench';

describe('Containerise in the demo workspace', { timeout: 1_200_000 }, () => {
  let workbench: Workbench | undefined;
  let unavailable = workbenchUnavailableReason();

  before(async () => {
    if (unavailable) return;
    const image = await testBaseImage();
    const mlflow = ensureMlflow();
    if (!image.ok) return void (unavailable = image.reason);
    if (!mlflow.ok) return void (unavailable = mlflow.reason);
    // What `npm run demo` does before it starts VS Code: the workspace with its MLflow runs and
    // registered model, and the settings that point Containerise at the offline base image.
    const workspace = createDemoWorkspace(join(mkdtempSync(join(tmpdir(), 'mlops-e2e-containerize-')), 'workspace'));
    await prepareDemoDocker(workspace);
    workbench = await openWorkbench(workspace);
  });
  after(() => workbench?.close());

  /** The notification that ends a Containerise of `image`, once it shows. */
  const finished = (image: RegExp) =>
    workbench!.page
      .locator('.notification-toast', { hasText: image })
      .filter({ hasText: /smoke test (passed|FAILED)/ })
      .first();

  test("the notebook toolbar's Containerise builds notebooks/churn.ipynb, which reads ../data/customers.csv, and the smoke test passes", async (t) => {
    if (!needService(t, !unavailable, `containerise cannot run end to end: ${unavailable}`)) return;
    const { page } = workbench!;
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('churn.ipynb');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'churn.ipynb' }).first().click();
    const button = page.locator('.notebook-toolbar-container .action-item a[aria-label*="Containerise"]').first();
    await button.waitFor({ timeout: 60_000 });
    await page
      .locator('.notebookOverlay .view-line', { hasText: 'RandomForestClassifier(' })
      .first()
      .waitFor({ timeout: 30_000 });
    await screenshot(page, 'notebook-toolbar');
    await button.click();
    // What was detected, before anything is built: the model, its data and its packages.
    const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'clf' }).first();
    await pick.waitFor({ timeout: 120_000 });
    assert.match(await pick.innerText(), /RandomForestClassifier.*cell 6[\s\S]*\.\.\/data\/customers\.csv/);
    await screenshot(page, 'containerize-detected');
    await page.keyboard.press('Enter');
    const done = finished(/mlops\/churn:/);
    await done.waitFor({ timeout: 600_000 });
    await screenshot(page, 'containerize-done');
    assert.match(
      await done.innerText(),
      /(Built|Reused) mlops\/churn:[0-9a-f]{12} — smoke test passed: healthy after \d+ ms; 5 sample rows predicted \[[01](,[01]){4}\]/,
    );
  });

  test('Containerise Model on the registered model churn-classifier v1 in the Experiments view builds it, and the smoke test passes', async (t) => {
    if (!needService(t, !unavailable, `containerise cannot run end to end: ${unavailable}`)) return;
    const { page } = workbench!;
    const { row } = rowFinder(page);
    await openMlopsContainer(page);
    await (await row({ label: 'Registered Models' })).click();
    const model = await row({ label: 'churn-classifier' });
    assert.match(await model.innerText(), /@champion → v1/);
    await model.click();
    const version = await row({ label: 'v1' });
    assert.match(await version.innerText(), /@champion/);
    await version.click({ button: 'right' });
    const item = page.locator('.monaco-menu .action-item', { hasText: 'Containerise Model' }).first();
    await item.waitFor({ timeout: 10_000 });
    await screenshot(page, 'containerize-model-menu');
    await item.click();
    const done = finished(/mlops\/churn-classifier-1:/);
    await done.waitFor({ timeout: 600_000 });
    await screenshot(page, 'containerize-model-done');
    // The sample is the input example MLflow logged with the model: five customers.
    assert.match(
      await done.innerText(),
      /(Built|Reused) mlops\/churn-classifier-1:[0-9a-f]{12} — smoke test passed: healthy after \d+ ms; 5 sample rows predicted \[[01](,[01]){4}\]/,
    );
  });
});
