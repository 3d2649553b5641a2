// The Experiments view and its panels in a real VS Code, on the demo workspace whose runs were
// logged by the real MLflow: experiments, nested runs, registered models, metric charts and the
// comparison of two runs; and on a store MLflow made and something then damaged, whose problems
// show on the nodes they belong to.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createDemoWorkspace } from '../../scripts/lib/demoWorkspace.mjs';
import { mlflowPaths } from '../../scripts/lib/mlflow.mjs';
import { brokenStores, mlflowUnavailableReason } from '../support/mlflow';
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

const unavailable = workbenchUnavailableReason() ?? mlflowUnavailableReason();

describe('the Experiments view on the demo runs', { timeout: 300_000 }, () => {
  let workbench: Workbench | undefined;
  let workspace = '';

  before(async () => {
    if (unavailable) return;
    workspace = createDemoWorkspace(join(mkdtempSync(join(tmpdir(), 'mlops-e2e-runs-')), 'workspace'));
    workbench = await openWorkbench(workspace);
  });
  after(() => workbench?.close());

  const row = (label: string) =>
    workbench!.page.locator('[id="workbench.view.extension.mlops"] .monaco-list-row', { hasText: label }).first();

  test('shows experiments, nested runs with their metrics, and registered models', async (t) => {
    if (!needService(t, !unavailable, `code-server or MLflow cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    await openMlopsContainer(page);
    await row('churn-model').waitFor({ timeout: 30_000 });
    await row('churn-model').click();
    await row('gbm-tuned').waitFor({ timeout: 30_000 });
    assert.match(await row('gbm-tuned').innerText(), /val\/accuracy=0\.8/);
    await row('rf-sweep').locator('.monaco-tl-twistie').click();
    await row('rf-400-trees').waitFor({ timeout: 10_000 });
    assert.equal(await row('rf-100-trees').count(), 1, 'child runs sit under their parent');
    await row('Registered Models').click();
    await row('churn-classifier').waitFor();
    assert.match(await row('churn-classifier').innerText(), /@champion → v1/);
    await screenshot(page, 'experiments-view');
  });

  test('shows a run that MLflow logs while the view is open, without a refresh', async (t) => {
    if (!needService(t, !unavailable, `code-server or MLflow cannot run: ${unavailable}`)) return;
    execFileSync(
      mlflowPaths().python,
      [
        '-c',
        `import mlflow, sys
mlflow.set_tracking_uri('sqlite:///' + sys.argv[1])
mlflow.set_experiment('churn-model')
with mlflow.start_run(run_name='late-run'):
    mlflow.log_metric('val/accuracy', 0.9)`,
        join(workspace, 'mlflow.db'),
      ],
      { env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true' }, stdio: 'pipe' },
    );
    await row('late-run').waitFor({ timeout: 20_000 });
    assert.match(await row('late-run').innerText(), /val\/accuracy=0\.9/);
  });

  test('charts the metrics of a run in the metrics panel', async (t) => {
    if (!needService(t, !unavailable, `code-server or MLflow cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    await row('gbm-tuned').click();
    const frame = await webviewFrame(page, '.chart-grid canvas', 60_000);
    await page.waitForTimeout(1000);
    await screenshot(page, 'metrics-panel');
    assert.ok((await frame.locator('.chart-grid canvas').count()) >= 2, 'one chart per metric');
    assert.match(await frame.locator('body').innerText(), /val\/accuracy/);
    await page.waitForTimeout(500);
    await screenshot(page, 'metrics-panel');
  });

  test('compares two selected runs side by side', async (t) => {
    if (!needService(t, !unavailable, `code-server or MLflow cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    await row('gbm-tuned').click();
    await row('logreg-baseline').click({ modifiers: ['Control'] });
    await runCommand(page, 'MLOps: Compare Runs');
    const frame = await webviewFrame(page, 'table.compare', 60_000);
    const text = await frame.locator('table.compare').innerText();
    for (const expected of ['gbm-tuned', 'logreg-baseline', 'learning_rate', 'val/accuracy'])
      assert.ok(text.includes(expected), `${expected} in the table`);
    await page.waitForTimeout(500);
    await screenshot(page, 'compare-panel');
  });
});

describe('the Experiments view on a damaged mlruns/', { timeout: 300_000 }, () => {
  let workbench: Workbench | undefined;

  before(async () => {
    if (unavailable) return;
    const broken = await brokenStores();
    const workspace = join(mkdtempSync(join(tmpdir(), 'mlops-e2e-broken-')), 'workspace');
    mkdirSync(workspace);
    cpSync(broken.mlrunsPath, join(workspace, 'mlruns'), { recursive: true });
    writeFileSync(
      join(workspace, 'mlruns', broken.healthyExperimentId, broken.runIdsByName['good-run']!, 'meta.yaml'),
      'run_id: [unclosed\n',
    );
    workbench = await openWorkbench(workspace);
  });
  after(() => workbench?.close());

  const row = (label: string) =>
    workbench!.page.locator('[id="workbench.view.extension.mlops"] .monaco-list-row', { hasText: label }).first();

  test('an unreadable experiment, run meta.yaml and metric file are named on their own nodes', async (t) => {
    if (!needService(t, !unavailable, `code-server or MLflow cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    await openMlopsContainer(page);
    await row('111111111111111111').waitFor({ timeout: 30_000 });
    assert.match(await row('111111111111111111').innerText(), /meta\.yaml is missing/);
    assert.match(await row('222222222222222222').innerText(), /meta\.yaml is not valid: line 1/);
    await row('healthy').click();
    await row('bad-metric-run').waitFor({ timeout: 30_000 });
    assert.match(
      await row('bad-metric-run').innerText(),
      /metrics\/loss has lines that are not '<timestamp_ms> <value> \[<step>\]', skipped: line 11/,
    );
    assert.match(await row('good-run').innerText(), /meta\.yaml is not valid: line 1/);
    assert.equal(await row('good-run').locator('.codicon-warning').count(), 1, 'a warning icon, not FINISHED');
    await screenshot(page, 'experiments-view-damaged-store');
  });
});
