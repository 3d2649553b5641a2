// Containerise against a real Docker Engine, with the offline Python base image: notebooks
// written the usual way build, start and predict what the notebook's model predicted; editing
// only the notebook reuses the dependency layers; bad input fails clearly and tags nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import Dockerode from 'dockerode';
import { ensureMlflow } from '../../scripts/lib/mlflow.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { runCli } from '../../src/shared/cliFramework';
import { containerizeModel, containerizeNotebook, type ContainerizeOptions } from '../../src/containerize/containerize';
import { containerizeCommand } from '../../src/containerize/cli';
import { waitHealthy } from '../../src/containerize/image/smokeTest';
import { describeError, MlopsError } from '../../src/shared/errors';
import { runCli as runBuiltCli } from '../support/badInput';
import { dockerAvailable, testBaseImage } from '../support/docker';
import { needService } from '../support/services';

const fixtures = join(repoRoot, 'test', 'fixtures', 'notebooks');
const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });
let baseImage = '';
let unavailable = '';
let python = 'python3';

/** A fresh git repository holding the fixture workspace, as a data scientist's project would be. */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-containerize-'));
  cpSync(join(fixtures, 'workspace'), dir, { recursive: true });
  cpSync(join(fixtures, 'bad'), join(dir, 'bad'), { recursive: true });
  return commitAll(dir);
}

/** One of the shapes notebooks come in (test/fixtures/notebooks/shapes), as its own git repository. */
function shape(name: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'mlops-shape-')), name);
  cpSync(join(fixtures, 'shapes', name), dir, { recursive: true });
  return commitAll(dir);
}

function commitAll(dir: string): string {
  for (const args of [
    ['init', '-q'],
    ['add', '.'],
    ['-c', 'user.email=t@example.org', '-c', 'user.name=t', 'commit', '-qm', 'notebooks'],
  ]) {
    spawnSync('git', args, { cwd: dir });
  }
  return dir;
}

/** Starts the image as a user would, sends records to /invocations, and removes the container. */
async function invoke(
  image: string,
  records: Record<string, unknown>[],
): Promise<{ status: number; body: { predictions?: unknown[] } }> {
  const container = await docker.createContainer({
    Image: image,
    HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
    ExposedPorts: { '8080/tcp': {} },
  });
  try {
    await container.start();
    const port = (await container.inspect()).NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(container, base, 90_000);
    const response = await fetch(`${base}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dataframe_records: records }),
    });
    return { status: response.status, body: (await response.json()) as { predictions?: unknown[] } };
  } finally {
    await container.remove({ force: true });
  }
}

function options(root: string, notebook: string, extra: Partial<ContainerizeOptions> = {}): ContainerizeOptions {
  return {
    notebook: join(root, notebook),
    workspaceRoot: root,
    python,
    baseImage,
    outDir: mkdtempSync(join(tmpdir(), 'mlops-context-')),
    ...extra,
  };
}

async function imageExists(tag: string): Promise<boolean> {
  return docker
    .getImage(tag)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

function ready(t: TestContext): boolean {
  return needService(t, !unavailable, unavailable);
}

before(async () => {
  const engine = await dockerAvailable();
  if (!engine.ok) return void (unavailable = engine.reason);
  const image = await testBaseImage();
  if (!image.ok) return void (unavailable = image.reason);
  baseImage = image.image;
  // The workspace interpreter: the MLflow virtualenv has pandas and scikit-learn, as a data scientist's would.
  const mlflow = ensureMlflow();
  if (mlflow.ok) python = mlflow.python;
});

// The tags the tests made go; the layers stay cached under the default names for the next run.
after(async () => {
  if (unavailable) return;
  const images = await docker.listImages({ filters: JSON.stringify({ reference: ['mlops-test/*'] }) });
  for (const tag of images.flatMap((image) => image.RepoTags ?? []))
    await docker
      .getImage(tag)
      .remove({ noprune: true })
      .catch(() => undefined);
});

describe('containerise a notebook', { timeout: 600_000 }, () => {
  test('a random forest notebook with plots and magics builds, passes its smoke test, and carries its labels', async (t) => {
    if (!ready(t)) return;
    const root = workspace();
    const tag = `mlops-test/churn:${Date.now()}`;
    // Every layer built for real, so the image's labels are this build's.
    const result = await containerizeNotebook(options(root, 'churn_forest.ipynb', { tag, noCache: true }));
    assert.equal(result.image, tag);
    assert.equal(result.reused, false);
    assert.deepEqual(result.model, { variable: 'clf', kind: 'estimator', estimator: 'RandomForestClassifier' });
    assert.ok(result.smoke?.ok, result.smoke?.message);
    assert.equal(result.smoke.sample?.length, 5);
    assert.deepEqual(result.smoke.predictions, result.smoke.expected);
    assert.ok(
      result.smoke.predictions?.every((p) => p === 0 || p === 1),
      JSON.stringify(result.smoke.predictions),
    );

    const image = await docker.getImage(tag).inspect();
    const labels = image.Config.Labels;
    assert.equal(image.Config.User, 'mlops');
    assert.ok(image.Config.Healthcheck?.Test?.join(' ').includes('/ping'));
    assert.equal(labels['mlops.notebook'], 'churn_forest.ipynb');
    assert.match(labels['mlops.git.commit']!, /^[0-9a-f]{40}$/);
    assert.equal(labels['mlops.context.hash'], result.contextHash);
    assert.ok(labels['org.opencontainers.image.created']);
    assert.deepEqual(Object.keys(JSON.parse(labels['mlops.data.sha256']!)), ['data/customers.csv']);
    // The exported script: plots, magics and the skip-export cell are gone.
    const script = readFileSync(join(result.contextDir, 'notebook.py'), 'utf8');
    assert.ok(!/plt\.|sns\.|hist\(|!ls|to_csv/.test(script.replace(/#.*$/gm, '')), script);
  });

  test('editing only the notebook reuses the dependency layers; the same inputs reuse the image', async (t) => {
    if (!ready(t)) return;
    const root = workspace();
    const first = await containerizeNotebook(options(root, 'house_prices.ipynb', { smoke: false }));
    assert.equal(first.model.variable, 'model', 'the pipeline, not the scaler fitted before it');
    const notebook = join(root, 'house_prices.ipynb');
    // A value no earlier run used, so that this build cannot be an image reused from one.
    writeFileSync(notebook, readFileSync(notebook, 'utf8').replace('alpha=1.0', `alpha=1.${Date.now()}`));
    const lines: string[] = [];
    const second = await containerizeNotebook(
      options(root, 'house_prices.ipynb', { smoke: false, onLine: (line) => lines.push(line) }),
    );
    assert.notEqual(second.contextHash, first.contextHash);
    const requirementsStep = lines.findIndex((line) => /^Step \d+\/\d+ : RUN .*requirements_check\.py/.test(line));
    assert.ok(requirementsStep >= 0, lines.join('\n'));
    assert.match(lines[requirementsStep + 1]!, /Using cache/);
    assert.ok(lines.some((line) => /Step \d+\/\d+ : RUN \["python3", "-m", "mlops_runtime.train"/.test(line)));
    const third = await containerizeNotebook(options(root, 'house_prices.ipynb', { smoke: false }));
    assert.equal(third.reused, true);
    assert.equal(third.contextHash, second.contextHash);
  });

  test('mlops containerize --json serves a regression pipeline and prints what it built', async (t) => {
    if (!ready(t)) return;
    const root = workspace();
    const out: string[] = [];
    const cwd = process.cwd();
    process.chdir(root);
    let code: number;
    try {
      code = await runCli(
        { name: 'mlops', version: '0', commands: [containerizeCommand] },
        [
          'containerize',
          'house_prices.ipynb',
          '--base-image',
          baseImage,
          '--python',
          python,
          '--out',
          mkdtempSync(join(tmpdir(), 'mlops-cli-')),
          '--json',
        ],
        {
          stdout: (text) => out.push(text),
          stderr: (text) => out.push(text),
        },
      );
    } finally {
      process.chdir(cwd);
    }
    assert.equal(code, 0, out.join(''));
    const printed = JSON.parse(out.join('')) as {
      image: string;
      contextHash: string;
      model: { variable: string };
      labels: Record<string, string>;
      smoke: { ok: boolean; predictions: number[] };
    };
    assert.equal(printed.model.variable, 'model');
    assert.equal(printed.labels['mlops.context.hash'], printed.contextHash);
    assert.ok(printed.smoke.ok);
    assert.ok(
      printed.smoke.predictions.every((p) => typeof p === 'number' && p > 50),
      JSON.stringify(printed.smoke.predictions),
    );
    assert.ok(await imageExists(printed.image));
  });

  test('the explicit predict(records) contract serves the function, with its helper and the sample-input cell', async (t) => {
    if (!ready(t)) return;
    const root = workspace();
    const result = await containerizeNotebook(options(root, 'explicit_predict.ipynb'));
    assert.equal(result.model.kind, 'function');
    assert.ok(result.smoke?.ok, result.smoke?.message);
    assert.equal(result.smoke.sample?.length, 3);
    assert.ok(result.smoke.predictions?.every((p) => typeof p === 'number' && p >= 0 && p <= 1));
  });
});

describe('containerise the shapes notebooks come in', { timeout: 900_000 }, () => {
  test('a notebook in notebooks/ that reads ../data/houses.csv trains in its own folder and serves', async (t) => {
    if (!ready(t)) return;
    const root = shape('project');
    const result = await containerizeNotebook(
      options(root, 'notebooks/train_price.ipynb', { tag: `mlops-test/train-price:${Date.now()}` }),
    );
    assert.deepEqual(result.model, { variable: 'model', kind: 'estimator', estimator: 'GradientBoostingRegressor' });
    assert.ok(result.smoke?.ok, result.smoke?.message);
    assert.ok(
      result.smoke.predictions?.every((p) => typeof p === 'number' && p > 50),
      JSON.stringify(result.smoke.predictions),
    );
    const { Config } = await docker.getImage(result.image!).inspect();
    assert.equal(Config.WorkingDir, '/opt/mlops/workdir/notebooks');
    assert.equal(Config.Labels['mlops.notebook'], 'notebooks/train_price.ipynb');
    assert.deepEqual(Object.keys(JSON.parse(Config.Labels['mlops.data.sha256']!)), ['data/houses.csv']);
  });

  test('a notebook that trains on load_iris() and reads no file builds and answers /invocations', async (t) => {
    if (!ready(t)) return;
    const root = shape('iris');
    const result = await containerizeNotebook(
      options(root, 'iris_classifier.ipynb', { tag: `mlops-test/iris:${Date.now()}` }),
    );
    assert.deepEqual(result.model, { variable: 'clf', kind: 'estimator', estimator: 'LogisticRegression' });
    assert.ok(result.smoke?.ok, result.smoke?.message);
    assert.equal(result.labels['mlops.data.sha256'], '{}');
    // A setosa and a virginica from the iris table, as a client would send them.
    const flowers = [
      { 'sepal length (cm)': 5.1, 'sepal width (cm)': 3.5, 'petal length (cm)': 1.4, 'petal width (cm)': 0.2 },
      { 'sepal length (cm)': 7.7, 'sepal width (cm)': 3.0, 'petal length (cm)': 6.1, 'petal width (cm)': 2.3 },
    ];
    const answer = await invoke(result.image!, flowers);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.predictions, [0, 2]);
  });

  test('a predict(records) notebook with no data and no fitted model builds and serves its function', async (t) => {
    if (!ready(t)) return;
    const root = shape('rules');
    const result = await containerizeNotebook(
      options(root, 'predict_rules.ipynb', { tag: `mlops-test/rules:${Date.now()}` }),
    );
    assert.equal(result.model.kind, 'function');
    assert.ok(result.smoke?.ok, result.smoke?.message);
    assert.deepEqual(result.smoke.predictions, [20, 35]);
    const answer = await invoke(result.image!, [{ support_calls: 2, contract: 'one-year' }]);
    assert.deepEqual(answer.body.predictions, [25]);
  });

  test('mlops containerize on a notebook outside the current folder takes its repository as the workspace', async (t) => {
    if (!ready(t)) return;
    const root = shape('project');
    const elsewhere = mkdtempSync(join(tmpdir(), 'mlops-cwd-'));
    const cli = await runBuiltCli(
      [
        'containerize',
        join(root, 'notebooks', 'train_price.ipynb'),
        '--base-image',
        baseImage,
        '--python',
        python,
        '--tag',
        `mlops-test/elsewhere:${Date.now()}`,
        '--json',
      ],
      { cwd: elsewhere },
    );
    assert.equal(cli.code, 0, cli.stderr);
    const printed = JSON.parse(cli.stdout) as {
      image: string;
      contextDir: string;
      labels: Record<string, string>;
      smoke: { ok: boolean; message: string };
    };
    assert.ok(printed.smoke.ok, printed.smoke.message);
    assert.equal(printed.labels['mlops.notebook'], 'notebooks/train_price.ipynb');
    assert.deepEqual(Object.keys(JSON.parse(printed.labels['mlops.data.sha256']!)), ['data/houses.csv']);
    assert.equal(
      printed.contextDir,
      join(root, '.mlops', 'images', 'train_price'),
      "the context is written in the notebook's repository",
    );
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing is written where the command ran');
    assert.ok(await imageExists(printed.image));
  });

  test('a data file linked inside the workspace goes into the context as its content', async () => {
    const linked = shape('project');
    renameSync(join(linked, 'data', 'houses.csv'), join(linked, 'data', 'houses-2024.csv'));
    symlinkSync('houses-2024.csv', join(linked, 'data', 'houses.csv'));
    const plain = await containerizeNotebook(
      options(shape('project'), 'notebooks/train_price.ipynb', { build: false }),
    );
    const viaLink = await containerizeNotebook(options(linked, 'notebooks/train_price.ipynb', { build: false }));
    const copied = join(viaLink.contextDir, 'workdir', 'data', 'houses.csv');
    assert.ok(lstatSync(copied).isFile(), 'a file, not a link');
    assert.equal(viaLink.contextHash, plain.contextHash, 'the same context as with the file itself');
  });

  test('a data folder linked outside the workspace is refused, naming the file and the link, and nothing is built', async () => {
    const root = shape('project');
    const outside = mkdtempSync(join(tmpdir(), 'mlops-outside-'));
    renameSync(join(root, 'data', 'houses.csv'), join(outside, 'houses.csv'));
    rmSync(join(root, 'data'), { recursive: true });
    symlinkSync(outside, join(root, 'data'));
    const tag = `mlops-test/never-linked:${Date.now()}`;
    await assert.rejects(
      containerizeNotebook(options(root, 'notebooks/train_price.ipynb', { tag })),
      (error: Error) => {
        assert.ok(error instanceof MlopsError, error.stack);
        assert.match(
          error.message,
          /train_price\.ipynb reads \.\.\/data\/houses\.csv through the link .*\/data, which points to .*mlops-outside-\w+, outside the workspace/,
        );
        return true;
      },
    );
    if (unavailable) return;
    assert.equal(await imageExists(tag), false);
  });
});

// Logged by the real MLflow client into a SQLite store, and registered, as a notebook would.
const LOG_MODEL = `import sys, mlflow, numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
mlflow.set_tracking_uri(sys.argv[1])
X = pd.DataFrame({"tenure": np.arange(60.0), "calls": np.arange(60.0) % 7})
y = (X.calls > 3).astype(int)
with mlflow.start_run() as run:
    model = LogisticRegression().fit(X, y)
    mlflow.sklearn.log_model(model, name="model", input_example=X.head(4), serialization_format="pickle", registered_model_name="churn-lr")
print(run.info.run_id)
print(model.predict(X.head(4)).tolist())`;

describe('containerise an MLflow model', { timeout: 300_000 }, () => {
  test('a registered model version builds and serves what the logged model predicts', async (t) => {
    if (!ready(t)) return;
    const root = workspace();
    const trackingUri = `sqlite:///${join(root, 'mlflow.db')}`;
    const logged = spawnSync(python, ['-c', LOG_MODEL, trackingUri], { cwd: root, encoding: 'utf8' });
    assert.equal(logged.status, 0, logged.stderr);
    const [runId, predicted] = logged.stdout.trim().split('\n').slice(-2);
    const result = await containerizeModel({
      modelUri: 'models:/churn-lr/1',
      trackingUri,
      workspaceRoot: root,
      python,
      baseImage,
      outDir: mkdtempSync(join(tmpdir(), 'mlops-model-')),
    });
    assert.equal(result.model.kind, 'mlflow');
    assert.equal(result.labels['mlops.mlflow.run_id'], runId);
    assert.equal(result.labels['mlops.mlflow.model_uri'], 'models:/churn-lr/1');
    assert.ok(!result.requirements.lines.some((line) => /^mlflow/.test(line)), result.requirements.lines.join(' '));
    assert.ok(result.smoke?.ok, result.smoke?.message);
    assert.deepEqual(result.smoke.predictions, JSON.parse(predicted!));
  });

  test('a run without a logged model is named', async (t) => {
    if (!ready(t)) return;
    const root = workspace();
    await assert.rejects(
      containerizeModel({
        modelUri: 'runs:/0123456789abcdef0123456789abcdef/model',
        trackingUri: `sqlite:///${join(root, 'mlflow.db')}`,
        workspaceRoot: root,
        python,
        baseImage,
      }),
      /MLflow could not resolve runs:\/0123456789abcdef0123456789abcdef\/model: /,
    );
  });
});

describe('containerise: bad input', { timeout: 300_000 }, () => {
  const failsBeforeBuild: [string, RegExp][] = [
    ['bad/invalid_json.ipynb', /invalid_json\.ipynb is not valid notebook JSON: .* line 2, column 1/],
    ['bad/nbformat3.ipynb', /nbformat 3; only nbformat 4/],
    ['bad/syntax_error.ipynb', /cell 2, line 1: invalid syntax: def broken\(:/],
    ['bad/no_model.ipynb', /fits no model .* defines no predict\(records\)/],
    ['bad/missing_data.ipynb', /cell 1, line 2 reads data\/does_not_exist\.csv, which does not exist/],
  ];
  for (const [notebook, message] of failsBeforeBuild) {
    test(`${notebook} is refused with a message naming the problem`, async (t) => {
      if (!ready(t)) return;
      const root = workspace();
      await assert.rejects(
        containerizeNotebook(options(root, notebook, { tag: 'mlops-test/never:bad' })),
        (error: Error) => {
          assert.ok(error instanceof MlopsError, error.stack);
          assert.match(error.message, message);
          return true;
        },
      );
      assert.equal(await imageExists('mlops-test/never:bad'), false);
    });
  }

  test('an import the base image lacks fails the build naming the package, and tags nothing', async (t) => {
    if (!ready(t)) return;
    const root = workspace();
    const tag = `mlops-test/missing-import:${Date.now()}`;
    await assert.rejects(
      containerizeNotebook(options(root, 'bad/missing_import.ipynb', { tag })),
      /lightgbm_is_not_installed, which the base image lacks/,
    );
    assert.equal(await imageExists(tag), false);
  });

  test('a daemon that does not answer is named, with what to do', async (t) => {
    if (!ready(t)) return;
    const root = workspace();
    await assert.rejects(
      containerizeNotebook(options(root, 'churn_forest.ipynb', { dockerHost: 'unix:///tmp/no-such-docker.sock' })),
      (error: Error) => {
        assert.match(describeError(error), /No Docker Engine answered at \/tmp\/no-such-docker\.sock.*Start Docker/s);
        return true;
      },
    );
  });

  test('a build cancelled midway stops and leaves no image under the tag', async (t) => {
    if (!ready(t)) return;
    const root = workspace();
    const tag = `mlops-test/cancelled:${Date.now()}`;
    const controller = new AbortController();
    // Cancel as the training step starts: the layers before it are done, the image is not.
    const onLine = (line: string) => line.includes('mlops_runtime.train') && controller.abort();
    const notebook = join(root, 'churn_forest.ipynb');
    writeFileSync(notebook, readFileSync(notebook, 'utf8').replace('n_estimators=50', 'n_estimators=51'));
    await assert.rejects(
      containerizeNotebook(options(root, 'churn_forest.ipynb', { tag, signal: controller.signal, onLine })),
      /cancelled; no image was tagged/,
    );
    assert.equal(await imageExists(tag), false);
  });
});
