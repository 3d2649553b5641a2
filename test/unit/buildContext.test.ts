// The build context of a notebook on a real file system: every folder the image needs is sent,
// even empty, and no link brings a file from outside the workspace into it; a failed model build
// reports its own error whole.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { contextEntries, notebookError } from '../../src/containerize/image/buildImage';
import { writeNotebookContext, type NotebookContextInput } from '../../src/containerize/image/buildContext';
import type { NotebookAnalysis } from '../../src/containerize/notebook/notebookAnalysis';
import { notebookWorkspace } from '../../src/containerize/notebook/notebookWorkspace';
import { runtimeDir } from '../../src/containerize/runtimeFiles';
import { MlopsError } from '../../src/shared/errors';

const temp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

function analysis(extra: Partial<NotebookAnalysis> = {}): NotebookAnalysis {
  return {
    script: '# %% [cell 1]\ndef predict(records):\n    return [1 for _ in records]\n',
    cells: [{ index: 1, role: 'train', notes: [] }],
    syntaxErrors: [],
    models: [],
    predict: { cell: 1, line: 1, params: ['records'], serve: false },
    serveCells: [],
    sampleInputCell: null,
    dataFiles: [],
    missingDataFiles: [],
    localModules: [],
    requirements: [],
    ...extra,
  };
}

function input(workspaceRoot: string, notebook: string, extra: Partial<NotebookAnalysis> = {}): NotebookContextInput {
  writeFileSync(notebook, '{}');
  return {
    notebook,
    workspaceRoot,
    analysis: analysis(extra),
    choice: { mode: 'function', source: 'predict function', variable: 'predict', x: null, cell: 1 },
    requirements: { source: 'inferred from imports', lines: [] },
    baseImage: 'python:3.11-slim',
    runtimeDir: runtimeDir(),
    outDir: temp('mlops-unit-context-'),
    git: { commit: null, dirty: false, remote: null },
  };
}

/** A workspace with data/x.csv and a notebooks/ folder. */
function workspace(): string {
  const root = temp('mlops-unit-ws-');
  mkdirSync(join(root, 'data'));
  mkdirSync(join(root, 'notebooks'));
  writeFileSync(join(root, 'data', 'x.csv'), 'a,b\n1,2\n');
  return root;
}

async function refused(promise: Promise<unknown>, patterns: RegExp[]): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.ok(error instanceof MlopsError, error.stack);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

test('a notebook that reads no file sends an empty workdir/ to the engine', async () => {
  const root = workspace();
  const context = await writeNotebookContext(input(root, join(root, 'predict.ipynb')));
  const entries = await contextEntries(context.dir);
  assert.ok(entries.includes('workdir'), entries.join(' '));
  assert.deepEqual(context.dataFiles, {});
  assert.equal(JSON.parse(readFileSync(join(context.dir, 'build.json'), 'utf8')).notebookDir, '');
});

test('a notebook in notebooks/ reading ../data/x.csv sends its own (empty) folder and the data beside it', async () => {
  const root = workspace();
  const context = await writeNotebookContext(
    input(root, join(root, 'notebooks', 'churn.ipynb'), { dataFiles: ['../data/x.csv'] }),
  );
  const entries = await contextEntries(context.dir);
  assert.ok(entries.includes('workdir/notebooks'), entries.join(' '));
  assert.ok(entries.includes('workdir/data/x.csv'), entries.join(' '));
  assert.ok(!entries.includes('workdir/data'), 'a folder with files is sent through its files, not twice');
  assert.deepEqual(Object.keys(context.dataFiles), ['data/x.csv']);
  assert.equal(context.labels['mlops.notebook'], 'notebooks/churn.ipynb');
  assert.equal(JSON.parse(readFileSync(join(context.dir, 'build.json'), 'utf8')).notebookDir, 'notebooks');
  assert.match(readFileSync(join(context.dir, 'Dockerfile'), 'utf8'), /^WORKDIR \/opt\/mlops\/workdir\/notebooks$/m);
});

test('a folder linked to a place outside the workspace is refused, naming the file and the link', async () => {
  const root = workspace();
  const outside = temp('mlops-unit-outside-');
  writeFileSync(join(outside, 'secret.csv'), 'password\nhunter2\n');
  symlinkSync(outside, join(root, 'shared'));
  const context = input(root, join(root, 'model.ipynb'), { dataFiles: ['shared/secret.csv'] });
  await refused(writeNotebookContext(context), [
    /model\.ipynb reads shared\/secret\.csv through the link .*\/shared, which points to .*mlops-unit-outside-\w+, outside the workspace/,
  ]);
  assert.deepEqual(readdirSync(context.outDir), [], 'nothing was written: every file is checked first');
});

test('a file linked to one outside the workspace is refused; a link inside the workspace is copied as its content', async () => {
  const root = workspace();
  const outside = temp('mlops-unit-outside-');
  writeFileSync(join(outside, 'passwd'), 'root:x:0:0\n');
  symlinkSync(join(outside, 'passwd'), join(root, 'data', 'users.csv'));
  await refused(writeNotebookContext(input(root, join(root, 'model.ipynb'), { dataFiles: ['data/users.csv'] })), [
    /reads data\/users\.csv through the link .*data\/users\.csv, which points to .*passwd/,
  ]);

  symlinkSync(join(root, 'data', 'x.csv'), join(root, 'data', 'latest.csv'));
  const context = await writeNotebookContext(
    input(root, join(root, 'model.ipynb'), { dataFiles: ['data/latest.csv'] }),
  );
  const copied = join(context.dir, 'workdir', 'data', 'latest.csv');
  assert.ok(lstatSync(copied).isFile(), 'a file, not a link');
  assert.equal(readFileSync(copied, 'utf8'), 'a,b\n1,2\n');
  assert.deepEqual(Object.keys(context.dataFiles), ['data/latest.csv']);
});

test('a path that climbs out of the workspace through ../ is refused without naming a link', async () => {
  const root = workspace();
  const outside = temp('mlops-unit-outside-');
  writeFileSync(join(outside, 'x.csv'), '1\n');
  const relative = `../${outside.split('/').pop()}/x.csv`;
  await refused(writeNotebookContext(input(root, join(root, 'model.ipynb'), { dataFiles: [relative] })), [
    /model\.ipynb reads \.\.\/mlops-unit-outside-\w+\/x\.csv, which is outside the workspace/,
  ]);
});

test('a local package with a link out of the workspace is refused', async () => {
  const root = workspace();
  const outside = temp('mlops-unit-outside-');
  writeFileSync(join(outside, 'keys.py'), 'KEY = 1\n');
  mkdirSync(join(root, 'helpers'));
  writeFileSync(join(root, 'helpers', '__init__.py'), '');
  symlinkSync(join(outside, 'keys.py'), join(root, 'helpers', 'keys.py'));
  await refused(writeNotebookContext(input(root, join(root, 'model.ipynb'), { localModules: ['helpers'] })), [
    /reads helpers\/keys\.py through the link/,
  ]);
});

test('a notebook outside the workspace is named as such, and never as a file it reads', async () => {
  const root = workspace();
  const elsewhere = temp('mlops-unit-elsewhere-');
  await refused(writeNotebookContext(input(root, join(elsewhere, 'model.ipynb'))), [
    /^The notebook .*model\.ipynb is outside the workspace /,
  ]);
});

test('a notebook that names itself does not copy itself as data', async () => {
  const root = workspace();
  const context = await writeNotebookContext(
    input(root, join(root, 'notebooks', 'model.ipynb'), { dataFiles: ['model.ipynb', '../data/x.csv'] }),
  );
  assert.deepEqual(Object.keys(context.dataFiles), ['data/x.csv']);
  assert.equal(existsSync(join(context.dir, 'workdir', 'notebooks', 'model.ipynb')), false);
});

test("a notebook's workspace is the git repository that holds it, else its folder", async () => {
  const root = workspace();
  spawnSync('git', ['init', '-q'], { cwd: root });
  assert.equal(await notebookWorkspace(join(root, 'notebooks', 'churn.ipynb')), root);
  const loose = temp('mlops-unit-loose-');
  assert.equal(await notebookWorkspace(join(loose, 'model.ipynb')), loose);
});

test("the model build's own error is read whole when its text spans lines, and ends where the engine's lines start", () => {
  const log = [
    'Step 10/19 : RUN ["python3", "-m", "mlops_runtime.train", "/opt/mlops"]',
    ' ---> Running in 7d550afed26d',
    'MLOPS-ERROR: the MLflow model file model.pkl (cloudpickle) did not load: ValueError: node array from the pickle has an incompatible dtype:',
    "- expected: [('left_child', '<i8')]",
    "- got     : {'names': ['left_child', 'missing_go_to_left']}. The base image's packages may be older than the ones the model was saved with (its requirements.txt)",
    '\u001b[91m/usr/lib/python3/dist-packages/sklearn/base.py:299: UserWarning: Trying to unpickle estimator',
    'Removing intermediate container 7d550afed26d',
  ];
  assert.equal(
    notebookError(log),
    "the MLflow model file model.pkl (cloudpickle) did not load: ValueError: node array from the pickle has an incompatible dtype: - expected: [('left_child', '<i8')] - got : {'names': ['left_child', 'missing_go_to_left']}. The base image's packages may be older than the ones the model was saved with (its requirements.txt)",
  );
  assert.equal(
    notebookError(['MLOPS-ERROR: cell 3, line 2: NameError: x', 'Removing intermediate container 1']),
    'cell 3, line 2: NameError: x',
  );
  assert.equal(notebookError(['Step 1/2 : FROM x']), undefined);
});
