// The bad-input catalogue of `mlops containerize`: notebooks that are missing, broken or outside
// their workspace, links that lead out of the workspace, an engine that does not answer. Each
// refusal names the file (and the link, cell or host), exits 1, changes nothing in the workspace
// and builds nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../../../scripts/lib/setup.mjs';
import { expectRefused } from '../../support/badInput';

const NEVER_TAG = 'mlops-test/never:bad-input';
let dir = '';
/** A workspace of its own: notebooks/ with a notebook for each case, data/ with what they read. */
let workspace = '';
let outside = '';
const notebook = (name: string) => join(workspace, 'notebooks', name);

/** A notebook that reads one CSV and fits a model, as the cases below write it. */
function readsCsv(name: string, path: string): void {
  const cells = [
    `import pandas as pd\nfrom sklearn.linear_model import LinearRegression\ndf = pd.read_csv('${path}')`,
    "model = LinearRegression()\nmodel.fit(df[['a']], df['b'])",
  ];
  const notebookJson = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: cells.map((source) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source })),
  };
  writeFileSync(notebook(name), JSON.stringify(notebookJson));
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-bad-containerize-'));
  workspace = join(dir, 'workspace');
  outside = join(dir, 'outside');
  mkdirSync(join(workspace, 'notebooks'), { recursive: true });
  mkdirSync(join(workspace, 'data'));
  mkdirSync(outside);
  writeFileSync(join(workspace, 'data', 'x.csv'), 'a,b\n1,2\n2,4\n');
  writeFileSync(join(outside, 'secret.csv'), 'a,b\n7,7\n');
  symlinkSync(outside, join(workspace, 'shared'));
  symlinkSync(join(outside, 'secret.csv'), join(workspace, 'data', 'linked.csv'));
  readsCsv('good.ipynb', '../data/x.csv');
  readsCsv('via_folder_link.ipynb', '../shared/secret.csv');
  readsCsv('via_file_link.ipynb', '../data/linked.csv');
  readsCsv('climbs_out.ipynb', '../../outside/secret.csv');
  mkdirSync(notebook('folder.ipynb'));
  cpSync(join(repoRoot, 'test', 'fixtures', 'notebooks', 'bad'), join(workspace, 'bad'), { recursive: true });
  cpSync(
    join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace', 'data', 'customers.csv'),
    join(workspace, 'data', 'customers.csv'),
  );
  // A project in git, as most are: its repository is the workspace of every notebook in it.
  spawnSync('git', ['init', '-q'], { cwd: workspace });
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
  // Every case is refused before a build: the tag they all ask for never exists.
  assert.notEqual(spawnSync('docker', ['image', 'inspect', NEVER_TAG]).status, 0, `${NEVER_TAG} was built`);
});

/** The CLI on one notebook, with the context written outside the workspace; nothing in the workspace may change. */
const refused = (args: string[], message: RegExp | RegExp[], env?: NodeJS.ProcessEnv) =>
  expectRefused({
    args: ['containerize', ...args, '--out', join(dir, 'context'), '--tag', NEVER_TAG],
    message,
    cwd: dir,
    env,
    unchanged: [workspace, outside],
  });

test('a notebook that does not exist (nope.ipynb)', async () => {
  await refused([notebook('nope.ipynb')], [/The notebook .*notebooks\/nope\.ipynb does not exist\./, /Check the path/]);
});

test('a folder named like a notebook (folder.ipynb/)', async () => {
  await refused(
    [notebook('folder.ipynb')],
    [/folder\.ipynb is a folder, not a notebook\./, /Give the path of an \.ipynb file\./],
  );
});

test('a notebook outside the workspace given with --workspace', async () => {
  await refused(
    [notebook('good.ipynb'), '--workspace', outside],
    [/The notebook .*good\.ipynb is outside the workspace .*outside\./, /--workspace DIR/],
  );
});

test('a --workspace that does not exist', async () => {
  await refused(
    [notebook('good.ipynb'), '--workspace', join(dir, 'no-such-folder')],
    /The workspace .*no-such-folder does not exist\./,
  );
});

test('a data folder linked to a place outside the workspace (shared -> ../outside)', async () => {
  await refused(
    [notebook('via_folder_link.ipynb')],
    [
      /via_folder_link\.ipynb reads \.\.\/shared\/secret\.csv through the link .*workspace\/shared, which points to .*\/outside, outside the workspace/,
      /Copy the data into the workspace instead of linking to it/,
    ],
  );
});

test('a data file linked to a file outside the workspace (data/linked.csv -> outside/secret.csv)', async () => {
  await refused(
    [notebook('via_file_link.ipynb')],
    /via_file_link\.ipynb reads \.\.\/data\/linked\.csv through the link .*data\/linked\.csv, which points to .*outside\/secret\.csv, outside the workspace/,
  );
});

test('a notebook outside a git repository reads a file beside its own folder: the workspace is its folder', async () => {
  const loose = join(dir, 'loose');
  mkdirSync(join(loose, 'notebooks'), { recursive: true });
  mkdirSync(join(loose, 'data'));
  writeFileSync(join(loose, 'data', 'x.csv'), 'a,b\n1,2\n');
  cpSync(notebook('good.ipynb'), join(loose, 'notebooks', 'good.ipynb'));
  await refused(
    [join(loose, 'notebooks', 'good.ipynb')],
    [/good\.ipynb reads \.\.\/data\/x\.csv, which is outside the workspace .*loose\/notebooks\./, /--workspace DIR/],
  );
});

test('a path that climbs out of the workspace (../../outside/secret.csv)', async () => {
  await refused(
    [notebook('climbs_out.ipynb')],
    /climbs_out\.ipynb reads \.\.\/\.\.\/outside\/secret\.csv, which is outside the workspace .*workspace\./,
  );
});

const broken: [string, string, RegExp][] = [
  ['invalid JSON', 'invalid_json', /invalid_json\.ipynb is not valid notebook JSON: .* line 2, column 1/],
  ['nbformat 3', 'nbformat3', /nbformat 3; only nbformat 4/],
  [
    'a syntax error (cell 2, line 1)',
    'syntax_error',
    /syntax_error\.ipynb: cell 2, line 1: invalid syntax: def broken\(:/,
  ],
  ['no model and no predict(records)', 'no_model', /no_model\.ipynb fits no model .* defines no predict\(records\)/],
  [
    'a data file that does not exist',
    'missing_data',
    /missing_data\.ipynb: cell 1, line 2 reads data\/does_not_exist\.csv, which does not exist/,
  ],
];
for (const [name, file, message] of broken) {
  test(`a broken notebook: ${name}`, async () => {
    await refused([join(workspace, 'bad', `${file}.ipynb`)], message);
  });
}

test('a model variable the notebook never fits (--model nope)', async () => {
  await refused(
    [notebook('good.ipynb'), '--model', 'nope'],
    /good\.ipynb never fits 'nope'\. Fitted variables: model\./,
  );
});

test('a Docker host where no engine answers (DOCKER_HOST=unix:///…/no-docker.sock)', async () => {
  const socket = join(dir, 'no-docker.sock');
  await refused([notebook('good.ipynb')], [new RegExp(`No Docker Engine answered at ${socket}`), /Start Docker/], {
    DOCKER_HOST: `unix://${socket}`,
  });
});

test('a folder without an MLmodel file given as a model', async () => {
  await refused(
    [join(workspace, 'data')],
    /workspace\/data is neither a folder with an MLmodel file nor a runs:\/ or models:\/ URI\./,
  );
});
