// The bad-input catalogue: broken notebooks through `mlops containerize`. Those the analysis can
// judge are refused before any build (no Docker needed), naming the notebook and the cell and
// line at fault; an import the base image lacks is found by the real build, which tags nothing.
// No case writes a build context or changes the workspace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { engineRequest } from '../../../scripts/lib/docker.mjs';
import { mlflowPaths } from '../../../scripts/lib/mlflow.mjs';
import { repoRoot } from '../../../scripts/lib/setup.mjs';
import { expectRefused } from '../../support/badInput';
import { testBaseImage } from '../../support/docker';
import { mlflowUnavailableReason } from '../../support/mlflow';
import { needService } from '../../support/services';

const fixtures = join(repoRoot, 'test', 'fixtures', 'notebooks');
/** A git repository holding the fixture workspace and the broken notebooks in bad/, as a data scientist's project would. */
let root = '';
let scratch = '';

before(() => {
  root = mkdtempSync(join(tmpdir(), 'mlops-bad-notebooks-'));
  scratch = mkdtempSync(join(tmpdir(), 'mlops-bad-notebooks-out-'));
  cpSync(join(fixtures, 'workspace'), root, { recursive: true });
  cpSync(join(fixtures, 'bad'), join(root, 'bad'), { recursive: true });
  for (const args of [
    ['init', '-q'],
    ['add', '.'],
    ['-c', 'user.email=t@example.org', '-c', 'user.name=t', 'commit', '-qm', 'notebooks'],
  ]) {
    assert.equal(spawnSync('git', args, { cwd: root }).status, 0, `git ${args.join(' ')}`);
  }
});

after(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/** `mlops containerize NOTEBOOK --no-build` from the workspace, refused with `message`; the workspace and the context folder stay as they were. */
async function refusedBeforeBuild(notebook: string, message: RegExp | RegExp[], ...extra: string[]): Promise<void> {
  const out = join(scratch, notebook.replace(/\W/g, '-'));
  await expectRefused({
    args: ['containerize', notebook, '--no-build', '--out', out, ...extra],
    cwd: root,
    message,
    unchanged: [root, out],
  });
}

test('a notebook that is not valid JSON: the notebook, the line and the column are named', async () => {
  await refusedBeforeBuild(
    'bad/invalid_json.ipynb',
    /bad\/invalid_json\.ipynb is not valid notebook JSON: .* line 2, column 1/,
  );
});

test('an nbformat 3 notebook: refused, with how to upgrade it', async () => {
  await refusedBeforeBuild(
    'bad/nbformat3.ipynb',
    /bad\/nbformat3\.ipynb is nbformat 3; only nbformat 4 is read\. Open and save it in Jupyter or VS Code to upgrade it/,
  );
});

test('a notebook with a syntax error: the cell, the line and the code are named', async () => {
  await refusedBeforeBuild('bad/syntax_error.ipynb', [
    /bad\/syntax_error\.ipynb: cell 2, line 1: invalid syntax: def broken\(:/,
    /Fix the cell and save the notebook/,
  ]);
});

test('a notebook that fits no model: refused, with the two shapes that serve', async () => {
  await refusedBeforeBuild('bad/no_model.ipynb', [
    /bad\/no_model\.ipynb fits no model \(no `model\.fit\(X, y\)`\) and defines no predict\(records\)/,
    /define predict\(records\) in a cell tagged serve/,
  ]);
});

test('a notebook reading a data file that does not exist: the cell, the line and the path are named', async () => {
  await refusedBeforeBuild('bad/missing_data.ipynb', [
    /bad\/missing_data\.ipynb: cell 1, line 2 reads data\/does_not_exist\.csv, which does not exist/,
    /Create the file or correct the path/,
  ]);
});

test('--model naming a variable the notebook never fits: the fitted variables are listed', async () => {
  await refusedBeforeBuild(
    'churn_forest.ipynb',
    /churn_forest\.ipynb never fits 'nope'\. Fitted variables: clf\./,
    '--model',
    'nope',
  );
});

test('a notebook path that does not exist: named as missing', async () => {
  await refusedBeforeBuild('absent.ipynb', /absent\.ipynb does not exist\./);
});

test(
  'an import the base image lacks (lightgbm_is_not_installed): the real build names the package and tags nothing',
  { timeout: 600_000 },
  async (t) => {
    const image = await testBaseImage();
    if (!needService(t, image.ok, image.reason)) return;
    const mlflow = mlflowUnavailableReason();
    if (
      !needService(
        t,
        !mlflow,
        `MLflow's Python (the workspace interpreter, with pandas and scikit-learn) cannot be installed: ${mlflow}`,
      )
    )
      return;
    const tag = `mlops-test/catalogue-missing-import:${process.pid}-${Date.now()}`;
    try {
      await expectRefused({
        args: [
          'containerize',
          'bad/missing_import.ipynb',
          '--tag',
          tag,
          '--base-image',
          image.image,
          '--python',
          mlflowPaths().python,
          '--no-smoke',
          '--out',
          join(scratch, 'missing-import'),
        ],
        cwd: root,
        message: /lightgbm_is_not_installed, which the base image lacks/,
        unchanged: [root],
        timeoutMs: 540_000,
      });
      assert.equal(
        (await engineRequest('GET', `/images/${encodeURIComponent(tag)}/json`)).status,
        404,
        'nothing was tagged',
      );
    } finally {
      await engineRequest('DELETE', `/images/${encodeURIComponent(tag)}?noprune=1`);
    }
  },
);
