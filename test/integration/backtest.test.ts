// Back-tests against the real Docker Engine: the churn model's two versions replay the customer
// table and their metrics are checked against scikit-learn's on the same predictions; a
// regression model against sklearn's MAE, RMSE and R²; the CLI gate fails collapsed, inverted and
// random candidates (and one answering a class no label holds) and passes an equal one; the lake's
// logged requests labelled by feedback; and
// a cancelled back-test leaves no container behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test, type TestContext } from 'node:test';
import { ensureSwarm, PROXY_IMAGE } from '../../scripts/lib/docker.mjs';
import { ensureMlflow } from '../../scripts/lib/mlflow.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { runCli } from '../../src/shared/cliFramework';
import { openLake } from '../../src/datasets/lake/duckdbLake';
import { connectDocker } from '../../src/containerize/docker/dockerClient';
import { containerizeNotebook } from '../../src/containerize/containerize';
import { openSwarmTarget } from '../../src/deploy/targets/swarm/swarmTarget';
import { ingestRequestLines } from '../../src/monitor/requestsTable';
import { backtestCommand } from '../../src/release/backtest/cli';
import { aucOf, classificationMetrics, classKey, regressionMetrics } from '../../src/release/backtest/metrics';
import type { BacktestReport, VersionResult } from '../../src/release/backtest/model';
import { BACKTEST_LABEL } from '../../src/release/backtest/modelContainer';
import type { ReplayResult } from '../../src/release/backtest/replay';
import { dataColumns } from '../../src/release/backtest/replayData';
import { runBacktest } from '../../src/release/backtest/runBacktest';
import { testBaseImage } from '../support/docker';
import { modelImages, notebookImage } from '../support/modelImages';
import { needService } from '../support/services';

const fixtures = join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace');
const customers = join(fixtures, 'data', 'customers.csv');
const houses = join(fixtures, 'data', 'houses.csv');
const TOLERANCE = 1e-9;

let python = '';
let unavailable = '';

/** Runs a Python snippet that reads a JSON file (sys.argv[1]) and prints JSON. */
function sklearn(script: string, input: unknown): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-backtest-sklearn-'));
  const file = join(dir, 'input.json');
  writeFileSync(file, JSON.stringify(input));
  const result = spawnSync(
    python,
    ['-c', `import json, sys\nfrom sklearn import metrics\nd = json.load(open(sys.argv[1]))\n${script}`, file],
    { encoding: 'utf8' },
  );
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, number>;
}

const CLASSIFICATION_SCRIPT = `
kw = {'pos_label': d['pos']} if d['pos'] is not None else {'average': 'macro'}
out = {
  'accuracy': metrics.accuracy_score(d['y'], d['p']),
  'precision': metrics.precision_score(d['y'], d['p'], zero_division=0, **kw),
  'recall': metrics.recall_score(d['y'], d['p'], zero_division=0, **kw),
  'f1': metrics.f1_score(d['y'], d['p'], zero_division=0, **kw),
}
if d['scores'] is not None:
  if d['pos'] is not None:
    out['rocAuc'] = metrics.roc_auc_score([y == d['pos'] for y in d['y']], [s[d['classes'].index(d['pos'])] for s in d['scores']])
  else:
    out['rocAuc'] = metrics.roc_auc_score(d['y'], d['scores'], multi_class='ovr', average='macro', labels=d['classes'])
print(json.dumps(out))`;

function assertClose(actual: number | null | undefined, expected: number, what: string): void {
  assert.ok(
    typeof actual === 'number' && Math.abs(actual - expected) <= TOLERANCE,
    `${what}: ours ${actual}, scikit-learn's ${expected}`,
  );
}

function checkClassification(
  report: BacktestReport,
  version: VersionResult,
  replay: ReplayResult,
  labels: unknown[],
): void {
  const input = {
    y: labels.map(classKey),
    p: replay.predictions.map(classKey),
    pos: report.positiveClass,
    scores: replay.scores,
    classes: replay.classes,
  };
  const expected = sklearn(CLASSIFICATION_SCRIPT, input);
  for (const key of ['accuracy', 'precision', 'recall', 'f1'] as const)
    assertClose(version.classification?.[key], expected[key], `${version.role} ${key}`);
  if (replay.scores) assertClose(version.classification?.rocAuc, expected.rocAuc, `${version.role} ROC AUC`);
  else assert.equal(version.classification?.rocAuc, null, 'a ROC AUC without scores');
}

async function backtestContainers(): Promise<string[]> {
  const docker = await connectDocker();
  return (await docker.listContainers({ all: true, filters: { label: [BACKTEST_LABEL] } })).map((c) => c.Id);
}

before(async () => {
  const mlflow = ensureMlflow();
  if (!mlflow.ok) unavailable = `the MLflow virtualenv cannot be installed: ${mlflow.reason}`;
  else python = mlflow.python;
});

function ready(t: TestContext): boolean {
  return needService(t, !unavailable, unavailable);
}

test("the metrics equal scikit-learn's on random labels with tied scores, binary and multiclass", (t) => {
  if (!ready(t)) return;
  let state = 7;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const n = 500;
  const binaryLabels = Array.from({ length: n }, () => (random() < 0.3 ? 'yes' : 'no'));
  const binaryPredictions = binaryLabels.map((y) => (random() < 0.8 ? y : y === 'yes' ? 'no' : 'yes'));
  // Two decimals: many ties.
  const binaryScores = binaryLabels.map((y) => {
    const p = Math.round(Math.min(1, Math.max(0, (y === 'yes' ? 0.6 : 0.4) + (random() - 0.5) * 0.8)) * 100) / 100;
    return [1 - p, p];
  });
  const ours = classificationMetrics({
    labels: binaryLabels,
    predictions: binaryPredictions,
    positive: 'yes',
    scores: binaryScores,
    classes: ['no', 'yes'],
  });
  const theirs = sklearn(CLASSIFICATION_SCRIPT, {
    y: binaryLabels,
    p: binaryPredictions,
    pos: 'yes',
    scores: binaryScores,
    classes: ['no', 'yes'],
  });
  for (const key of ['accuracy', 'precision', 'recall', 'f1', 'rocAuc'] as const)
    assertClose(ours[key], theirs[key], `binary ${key}`);

  const classes = ['a', 'b', 'c', 'd'];
  const labels = Array.from({ length: n }, () => classes[Math.floor(random() * 4)]);
  const predictions = labels.map((y) => (random() < 0.6 ? y : classes[Math.floor(random() * 3)]));
  const scores = labels.map((y) => {
    const raw = classes.map((c) => Math.round((c === y ? 2 : 1) * random() * 10) / 10 + 0.1);
    const total = raw.reduce((a, b) => a + b, 0);
    return raw.map((r) => r / total);
  });
  const multi = classificationMetrics({ labels, predictions, scores, classes });
  const expected = sklearn(CLASSIFICATION_SCRIPT, { y: labels, p: predictions, pos: null, scores, classes });
  for (const key of ['accuracy', 'precision', 'recall', 'f1', 'rocAuc'] as const)
    assertClose(multi[key], expected[key], `multiclass ${key}`);
  assert.equal(aucOf([true, false], [0.5, 0.5]), 0.5);

  const y = Array.from({ length: n }, () => random() * 100);
  const p = y.map((v) => v + (random() - 0.5) * 20);
  const regression = regressionMetrics(y, p);
  const sk = sklearn(
    `print(json.dumps({'mae': metrics.mean_absolute_error(d['y'], d['p']), 'rmse': metrics.mean_squared_error(d['y'], d['p']) ** 0.5, 'r2': metrics.r2_score(d['y'], d['p'])}))`,
    { y, p },
  );
  for (const key of ['mae', 'rmse', 'r2'] as const) assertClose(regression[key], sk[key], `regression ${key}`);
});

describe('back-tests in local containers', { timeout: 1_800_000 }, () => {
  let v1 = '';
  let v2 = '';
  let imagesMissing = '';
  before(async () => {
    const images = await modelImages();
    if (!images.ok) imagesMissing = images.reason;
    [v1, v2] = [images.v1, images.v2];
  });
  const haveImages = (t: TestContext) => ready(t) && needService(t, !imagesMissing, imagesMissing);

  test("churn v2 against v1: each version's metrics equal scikit-learn's, with progress, disagreements and no container left", async (t) => {
    if (!haveImages(t)) return;
    const progress: { done: number; total: number }[] = [];
    const run = await runBacktest({
      candidate: v2,
      baseline: v1,
      data: customers,
      label: 'churned',
      workspace: repoRoot,
      batchSize: 25,
      parallelism: 4,
      onProgress: (p) => progress.push(p),
    });
    const { report } = run;
    assert.equal(report.task, 'classification');
    assert.equal(report.data.rows, 240);
    assert.deepEqual(report.data.columns, [
      'customer_id',
      'tenure_months',
      'monthly_charges',
      'contract',
      'support_calls',
    ]);
    assert.equal(report.averaging, 'binary');
    assert.equal(report.positiveClass, '1');
    assert.ok(report.baseline);
    for (const version of [report.candidate, report.baseline]) {
      assert.equal(version.predicted, 240, `${version.role}: ${version.errors.join('; ')}`);
      assert.equal(version.requests, 10);
      assert.equal(version.latencySeries.length, 10);
      assert.ok(version.latencyMs.p50! > 0 && version.latencyMs.p95! >= version.latencyMs.p50!);
      assert.equal(
        version.confusion!.flat().reduce((a, b) => a + b, 0),
        240,
      );
    }
    checkClassification(report, report.candidate, run.candidate, run.data.labels);
    checkClassification(report, report.baseline, run.baseline!, run.data.labels);
    // Progress counts every row of both versions, never backwards.
    const last = progress.at(-1)!;
    assert.equal(last.done, 480);
    assert.equal(last.total, 480);
    assert.ok(progress.every((p, i) => i === 0 || p.done >= progress[i - 1].done));
    const differing = run.candidate.predictions.filter(
      (p, i) => classKey(p) !== classKey(run.baseline!.predictions[i]),
    ).length;
    assert.equal(report.comparison!.disagreements, differing);
    assert.equal(report.comparison!.top.length, Math.min(20, differing));
    for (const row of report.comparison!.top) {
      assert.notEqual(classKey(row.candidate), classKey(row.baseline));
      assert.equal(row.inputs.customer_id, run.data.rows[row.row][0]);
    }
    assert.deepEqual(await backtestContainers(), []);
  });

  test("a regression model: MAE, RMSE and R² equal scikit-learn's", async (t) => {
    if (!haveImages(t)) return;
    const base = await testBaseImage();
    const root = mkdtempSync(join(tmpdir(), 'mlops-backtest-houses-'));
    cpSync(fixtures, root, { recursive: true });
    const { image } = await containerizeNotebook({
      notebook: join(root, 'house_prices.ipynb'),
      workspaceRoot: root,
      python,
      baseImage: base.image,
      smoke: false,
      tag: 'mlops-test-backtest/houses:v1',
    });
    const run = await runBacktest({ candidate: image!, data: houses, label: 'price', workspace: root, batchSize: 64 });
    assert.equal(run.report.task, 'regression');
    assert.equal(run.report.candidate.predicted, 200);
    assert.equal(run.report.baseline, null);
    assert.equal(run.report.gate.passed, true);
    const expected = sklearn(
      `print(json.dumps({'mae': metrics.mean_absolute_error(d['y'], d['p']), 'rmse': metrics.mean_squared_error(d['y'], d['p']) ** 0.5, 'r2': metrics.r2_score(d['y'], d['p'])}))`,
      {
        y: run.data.labels,
        p: run.candidate.predictions,
      },
    );
    for (const key of ['mae', 'rmse', 'r2'] as const)
      assertClose(run.report.candidate.regression?.[key], expected[key], key);
    // The notebook's model fits its training data: R² well above 0.
    assert.ok(run.report.candidate.regression!.r2 > 0.5);
  });

  describe('the CLI gate on real model images', () => {
    const load =
      "import pandas as pd\nfrom sklearn.dummy import DummyClassifier\nfrom sklearn.ensemble import RandomForestClassifier\ndf = pd.read_csv('data/customers.csv')\nfeatures = ['tenure_months', 'monthly_charges', 'support_calls']";
    const gated = async (...args: string[]) => {
      const out = { stdout: '', stderr: '' };
      const program = { name: 'mlops', version: '0', commands: [backtestCommand] };
      const code = await runCli(program, ['backtest', '--max-regression', '0.01', ...args], {
        stdout: (s) => (out.stdout += s),
        stderr: (s) => (out.stderr += s),
      });
      return { code, ...out };
    };
    const churnGate = (candidate: string, ...args: string[]) =>
      gated('--candidate', candidate, '--baseline', v1, '--data', customers, '--label', 'churned', ...args);

    test('a collapsed candidate (always 0) fails with exit 1 and says so', async (t) => {
      if (!haveImages(t)) return;
      const image = await notebookImage('mlops-test-backtest/collapsed:v1', [
        load,
        "clf = DummyClassifier(strategy='constant', constant=0)\nclf.fit(df[features], df['churned'])",
      ]);
      const text = await churnGate(image);
      assert.equal(text.code, 1, text.stderr);
      assert.match(
        text.stdout,
        /gate metric accuracy \(higher is better\): candidate 0\.\d{4}, baseline 0\.\d{4}, regression 0\.\d{4} \(at most 0\.01\)/,
      );
      assert.match(
        text.stdout,
        /gate FAILED: the candidate answers 0 for every row, where the labels hold 0 and 1 and the baseline answers 2 classes: it has collapsed to one class/,
      );
      assert.match(
        text.stderr,
        /The back-test gate failed for mlops-test-backtest\/collapsed:v1: the candidate answers 0 for every row/,
      );
      const json = await churnGate(image, '--json');
      assert.equal(json.code, 1);
      const report = JSON.parse(json.stdout) as BacktestReport;
      assert.equal(report.gate.passed, false);
      assert.equal(report.gate.metric, 'accuracy');
      assert.equal(report.positiveClass, '1');
      assert.equal(report.candidate.classification!.f1, 0);
      assert.ok(report.gate.regression! > 0.01);
      // Every row the constant model calls 0 and v1 calls 1 disagrees.
      assert.ok(report.comparison!.disagreements > 0);
    });

    test('an inverted candidate (trained on flipped labels) fails with exit 1 and says by how much', async (t) => {
      if (!haveImages(t)) return;
      const image = await notebookImage('mlops-test-backtest/inverted:v1', [
        load,
        "clf = RandomForestClassifier(n_estimators=50, max_depth=5, random_state=0)\nclf.fit(df[features], 1 - df['churned'])",
      ]);
      const result = await churnGate(image, '--json');
      assert.equal(result.code, 1, result.stderr);
      const report = JSON.parse(result.stdout) as BacktestReport;
      assert.equal(report.gate.passed, false);
      // Right where v1 is wrong: far below the baseline, and both answer 0 and 1.
      assert.ok(
        report.gate.candidate! < 0.5 && report.gate.baseline! > 0.7,
        `accuracy ${report.gate.candidate} vs ${report.gate.baseline}`,
      );
      assert.deepEqual(report.gate.unknownClasses, []);
      assert.match(
        report.gate.reason,
        /^accuracy 0\.\d{4} vs 0\.\d{4} \(-0\.\d{4}\): worse than the allowed regression of 0\.01$/,
      );
      assert.match(
        result.stderr,
        /The back-test gate failed for mlops-test-backtest\/inverted:v1: accuracy .* worse than the allowed regression of 0\.01/,
      );
    });

    test('a random candidate fails with exit 1', async (t) => {
      if (!haveImages(t)) return;
      const image = await notebookImage('mlops-test-backtest/random:v1', [
        load,
        "clf = DummyClassifier(strategy='uniform', random_state=0)\nclf.fit(df[features], df['churned'])",
      ]);
      const result = await churnGate(image, '--json');
      assert.equal(result.code, 1, result.stderr);
      const report = JSON.parse(result.stdout) as BacktestReport;
      assert.equal(report.gate.passed, false);
      assert.ok(report.gate.candidate! < 0.65, `a random model's accuracy ${report.gate.candidate}`);
      assert.match(
        result.stderr,
        /The back-test gate failed for mlops-test-backtest\/random:v1: accuracy .* worse than the allowed regression/,
      );
    });

    test('an equal candidate passes with exit 0, and --out keeps the report', async (t) => {
      if (!haveImages(t)) return;
      const out = join(mkdtempSync(join(tmpdir(), 'mlops-backtest-out-')), 'report.json');
      const equal = await churnGate(v1, '--out', out);
      assert.equal(equal.code, 0, equal.stderr);
      assert.match(
        equal.stdout,
        /gate metric accuracy \(higher is better\): candidate (0\.\d{4}), baseline \1, regression 0\.0000 \(at most 0\.01\)/,
      );
      assert.match(equal.stdout, /gate PASSED: accuracy /);
      assert.match(equal.stdout, /disagreement: 0 of 240 rows/);
      assert.equal(equal.stderr.includes('gate failed'), false);
      const saved = JSON.parse(readFileSync(out, 'utf8')) as BacktestReport;
      assert.equal(saved.kind, 'mlops.backtest');
      assert.equal(saved.gate.regression, 0);
      assert.equal(saved.gate.passed, true);
      // By another metric, named: F1 of the positive class, equal too.
      const f1 = await churnGate(v1, '--metric', 'f1', '--positive-class', '0', '--json');
      assert.equal(f1.code, 0, f1.stderr);
      const byF1 = JSON.parse(f1.stdout) as BacktestReport;
      assert.equal(byF1.gate.metric, 'f1');
      assert.equal(byF1.positiveClass, '0');
      assert.equal(byF1.gate.candidate, byF1.candidate.classification!.f1);
    });

    test('issue 15: labels all 1, the baseline answering 1 and the candidate answering 2 fails, naming class 2', async (t) => {
      if (!haveImages(t)) return;
      const rows = Array.from({ length: 40 }, (_, i) => `${i},${(i * 7) % 13},1`);
      const ones = `x1,x2,label\n${rows.join('\n')}\n`;
      // DummyClassifier's constant must be a class it was fitted on: one row labelled 2 in training.
      const cells = (constant: number) => [
        "import pandas as pd\nfrom sklearn.dummy import DummyClassifier\ndf = pd.read_csv('data/ones.csv')\ny = df['label'].copy()\ny.iloc[0] = 2",
        `clf = DummyClassifier(strategy='constant', constant=${constant})\nclf.fit(df[['x1', 'x2']], y)`,
      ];
      const [one, two] = await Promise.all([
        notebookImage('mlops-test-backtest/answers-1:v1', cells(1), { 'data/ones.csv': ones }),
        notebookImage('mlops-test-backtest/answers-2:v1', cells(2), { 'data/ones.csv': ones }),
      ]);
      const data = join(mkdtempSync(join(tmpdir(), 'mlops-backtest-ones-')), 'ones.csv');
      writeFileSync(data, ones);
      const result = await gated('--candidate', two, '--baseline', one, '--data', data, '--label', 'label');
      assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /positive class 1\b/);
      assert.match(
        result.stdout,
        /gate metric accuracy \(higher is better\): candidate 0\.0000, baseline 1\.0000, regression 1\.0000 \(at most 0\.01\)/,
      );
      assert.match(
        result.stderr,
        /The back-test gate failed for mlops-test-backtest\/answers-2:v1: the candidate answers the class 2, which no label holds \(the labels hold 1; .*\); accuracy 0\.0000 vs 1\.0000 \(-1\.0000\)\./,
      );
      // A positive class the labels do not hold is refused before any container starts.
      const refused = await gated(
        '--candidate',
        two,
        '--baseline',
        one,
        '--data',
        data,
        '--label',
        'label',
        '--positive-class',
        '2',
      );
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /The positive class '2' is not a class of the labels, which hold 1/);
    });
  });

  test('a baseline that names a deployment on the swarm is back-tested as the image it runs', async (t) => {
    if (!haveImages(t)) return;
    const swarm = await ensureSwarm();
    if (!needService(t, swarm.ok, swarm.ok ? '' : `no swarm: ${swarm.reason}`)) return;
    const target = await openSwarmTarget({ proxyImage: PROXY_IMAGE });
    const name = `mlops-backtest-${Date.now().toString(36)}`;
    try {
      await target.deploy({ name, image: v1 });
      const deployed = (await target.status(name)).image;
      const out = { stdout: '', stderr: '' };
      const program = { name: 'mlops', version: '0', commands: [backtestCommand] };
      const code = await runCli(
        program,
        [
          'backtest',
          '--candidate',
          v2,
          '--baseline',
          name,
          '--target',
          'swarm',
          '--data',
          customers,
          '--label',
          'churned',
          '--limit',
          '50',
          '--json',
        ],
        {
          stdout: (text) => (out.stdout += text),
          stderr: (text) => (out.stderr += text),
        },
      );
      assert.equal(code, 0, out.stderr);
      const report = JSON.parse(out.stdout) as BacktestReport;
      assert.equal(report.baseline?.image, deployed);
      assert.equal(report.data.rows, 50);
      assert.equal(report.baseline?.predicted, 50);
    } finally {
      await target.remove(name).catch(() => undefined);
    }
  });

  test("the lake's logged requests replay with the labels of their feedback; a request without feedback is skipped", async (t) => {
    if (!haveImages(t)) return;
    const workspace = mkdtempSync(join(tmpdir(), 'mlops-backtest-lake-'));
    const lake = openLake(join(workspace, '.mlops', 'lake'));
    const table = readFileSync(customers, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));
    const row = (f: string[]) => ({
      tenure_months: Number(f[1]),
      monthly_charges: Number(f[2]),
      support_calls: Number(f[4]),
    });
    // 20 requests of one row and 10 of three rows; the last 5 single-row requests get no feedback.
    const requests = [
      ...table.slice(0, 20).map((f, i) => ({ id: `r${i}`, rows: [f] })),
      ...Array.from({ length: 10 }, (_, i) => ({ id: `m${i}`, rows: table.slice(20 + 3 * i, 23 + 3 * i) })),
    ];
    const lines = requests.map((r, i) =>
      JSON.stringify({
        ts: `2026-12-01T10:00:${String(i).padStart(2, '0')}.000Z`,
        request_id: r.id,
        version: 'v1',
        status: 200,
        latency_ms: 1,
        inputs: r.rows.map(row),
        predictions: r.rows.map(() => 0),
      }),
    );
    // Feedback as the model server logs it (POST /feedback); a later line corrects r0's label.
    const feedback = requests
      .filter((r) => !/^r1[5-9]$/.test(r.id))
      .map((r) => ({
        ts: '2026-12-01T11:00:00.000Z',
        kind: 'feedback',
        request_id: r.id,
        label: r.rows.length === 1 ? Number(r.rows[0][5]) : r.rows.map((f) => Number(f[5])),
      }));
    feedback.unshift({
      ts: '2026-12-01T10:30:00.000Z',
      kind: 'feedback',
      request_id: 'r0',
      label: 1 - Number(table[0][5]),
    });
    try {
      const ingest = await ingestRequestLines(lake, [...lines, ...feedback.map((f) => JSON.stringify(f))], {
        target: 'swarm',
        deployment: 'churn',
      });
      assert.equal(ingest.feedback, 26);
    } finally {
      await lake.close();
    }
    assert.deepEqual(await dataColumns('lake:requests', workspace), ['label', 'reward']);
    const run = await runBacktest({ candidate: v1, data: 'lake:requests', label: 'label', workspace, batchSize: 10 });
    assert.equal(run.report.data.source, 'lake:requests');
    assert.equal(run.report.data.rows, 15 + 30);
    assert.equal(run.report.data.skipped, 5);
    assert.deepEqual(run.report.data.columns, ['tenure_months', 'monthly_charges', 'support_calls']);
    const expectedLabels = [...table.slice(0, 15), ...table.slice(20, 50)].map((f) => Number(f[5]));
    assert.deepEqual(run.data.labels, expectedLabels);
    assert.equal(run.report.candidate.predicted, 45);
  });

  test('a cancelled back-test rejects and leaves no container behind', async (t) => {
    if (!haveImages(t)) return;
    const controller = new AbortController();
    const cancelled = runBacktest({
      candidate: v2,
      baseline: v1,
      data: customers,
      label: 'churned',
      workspace: repoRoot,
      batchSize: 1,
      parallelism: 2,
      signal: controller.signal,
      onProgress: ({ done }) => done >= 10 && controller.abort(),
    });
    await assert.rejects(cancelled, /The back-test was cancelled/);
    assert.deepEqual(await backtestContainers(), []);
    // Cancelled while the containers start.
    const early = new AbortController();
    const starting = runBacktest({
      candidate: v2,
      data: customers,
      label: 'churned',
      workspace: repoRoot,
      signal: early.signal,
      onProgress: ({ message }) => message.startsWith('Starting') && setTimeout(() => early.abort(), 300),
    });
    await assert.rejects(starting, /The back-test was cancelled/);
    assert.deepEqual(await backtestContainers(), []);
  });
});
