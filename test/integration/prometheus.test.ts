// Monitoring through a real Prometheus (Debian's 2.42): a real model server from runtime/ (no
// Docker), scraped every second with the scrape config our generator writes, loaded by reload;
// then the counts through our client, every Grafana dashboard query evaluated, the client's
// errors (bad PromQL, nothing listening, not Prometheus, basic auth), and promtool on every
// generated prometheus.yml.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../scripts/lib/codeServer.mjs';
import { ensureMlflow } from '../../scripts/lib/mlflow.mjs';
import {
  ensurePrometheus,
  promtoolCheckConfig,
  startPrometheus,
  type RunningPrometheus,
} from '../../scripts/lib/prometheus.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { dashboardExprs, grafanaDashboard } from '../../src/monitor/export/grafanaDashboard';
import { prometheusYaml, type ScrapeConfigOptions } from '../../src/monitor/export/prometheusConfig';
import {
  queryPrometheus,
  queryPrometheusRange,
  queryVector,
  type PrometheusConnection,
} from '../../src/monitor/prometheusApi';
import { describeError, MlopsError } from '../../src/shared/errors';
import { needService } from '../support/services';

const NAME = 'churn';
const GOOD = 7;
const BAD = 3;

// A classifier on one feature, written as the image build writes model directories.
const WRITE_MODEL = String.raw`
import sys
from serving import features, write_model
import toy_models
write_model(sys.argv[1], model=toy_models.Threshold(0.5), task="classification", classes=["no", "yes"], features=features(("score", "float64")))
`;

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not happen within ${timeoutMs / 1000} s${last ? `: ${describeError(last)}` : ''}`);
}

async function rejection(promise: Promise<unknown>): Promise<MlopsError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MlopsError, `an MlopsError, not ${String(error)}`);
    return error;
  }
  assert.fail('it should have failed');
}

describe('a model server scraped by a real Prometheus with the generated config', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-prometheus-test-'));
  let unavailable = '';
  let server: ChildProcess | undefined;
  let serverLog = '';
  let serverPort = 0;
  let prometheus: RunningPrometheus | undefined;
  let connection: PrometheusConnection;

  before(async () => {
    const installed = ensurePrometheus();
    if (!installed.ok) return void (unavailable = `Prometheus cannot be started: ${installed.reason}`);
    const mlflow = ensureMlflow();
    if (!mlflow.ok)
      return void (unavailable = `the model server needs the MLflow virtualenv's Python, which is missing: ${mlflow.reason}`);
    const runtime = join(repoRoot, 'runtime');
    const env = {
      ...process.env,
      PYTHONPATH: [runtime, join(runtime, 'tests')].join(':'),
      PYTHONDONTWRITEBYTECODE: '1',
    };
    const modelDir = join(dir, 'model');
    const written = spawnSync(mlflow.python, ['-c', WRITE_MODEL, modelDir], { env, encoding: 'utf8' });
    assert.equal(written.status, 0, written.stderr);
    // The real server, `python -m mlops_runtime`, on a free loopback port it reports on stderr.
    server = spawn(mlflow.python, ['-m', 'mlops_runtime'], {
      env: {
        ...env,
        MLOPS_MODEL_DIR: modelDir,
        MLOPS_HOST: '127.0.0.1',
        PORT: '0',
        MLOPS_LABELS_FILE: join(dir, 'no-labels.json'),
        MLOPS_MODEL_VERSION: 'v1',
        MLOPS_DRAIN_SECONDS: '0',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    server.stderr!.setEncoding('utf8').on('data', (chunk: string) => (serverLog += chunk));
    serverPort = await eventually('the model server listening', async () => {
      if (server!.exitCode !== null) throw new Error(`the model server exited with ${server!.exitCode}:\n${serverLog}`);
      const match = / port (\d+)$/m.exec(serverLog);
      return match ? Number(match[1]) : undefined;
    });
    // Started with no jobs, then given ours by a reload, as a user adds it to a running Prometheus.
    prometheus = await startPrometheus({ configYaml: 'global:\n  scrape_interval: 1s\nscrape_configs: []\n' });
    connection = { url: prometheus.url, timeoutMs: 10_000 };
  });

  after(async () => {
    await prometheus?.stop();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const scrape = (): ScrapeConfigOptions => ({
    name: NAME,
    target: 'swarm',
    mode: 'static',
    address: `127.0.0.1:${serverPort}`,
    direct: true,
    scrapeInterval: '1s',
  });

  test('the generated config scrapes the server; requests and errors add up through the client', async (t) => {
    if (!needService(t, !unavailable, unavailable)) return;
    const config = prometheusYaml(scrape());
    await prometheus!.reload(config);
    assert.equal(readFileSync(prometheus!.configPath, 'utf8'), config);
    const up = await eventually('the target up', async () => {
      const samples = await queryVector(connection, `up{job="mlops-${NAME}"}`);
      return samples[0]?.value === 1 ? samples[0] : undefined;
    });
    assert.deepEqual(
      [up.metric.deployment, up.metric.mlops_target, up.metric.instance],
      [NAME, 'swarm', `127.0.0.1:${serverPort}`],
    );

    const invocations = `http://127.0.0.1:${serverPort}/invocations`;
    const bad = async () => {
      const response = await fetch(invocations, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'score\n0.3\n',
      });
      assert.equal(response.status, 415);
      await response.text();
    };
    // The common error codes start at 0 (as the model server sets them), so rate() sees the first error too.
    await eventually('the error series in Prometheus', async () =>
      (await queryVector(connection, `sum(mlops_request_errors_total{deployment="${NAME}",code="415"})`))[0]?.value ===
      0
        ? true
        : undefined,
    );
    await bad();
    for (let i = 0; i < GOOD; i++) {
      const response = await fetch(invocations, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dataframe_records: [{ score: i / GOOD }, { score: 0.9 }] }),
      });
      assert.equal(response.status, 200, await response.text());
    }
    for (let i = 1; i < BAD; i++) await bad();
    const total = await eventually(`${GOOD + BAD} requests in Prometheus`, async () => {
      const [sample] = await queryVector(connection, `sum(mlops_requests_total{deployment="${NAME}"})`);
      return sample?.value === GOOD + BAD ? sample : undefined;
    });
    assert.deepEqual(total.metric, {});
    const errors = await queryVector(
      connection,
      `sum by (code, version) (mlops_request_errors_total{deployment="${NAME}"})`,
    );
    assert.deepEqual(
      errors.filter((s) => s.value > 0).map((s) => [s.metric.code, s.metric.version, s.value]),
      [['415', 'v1', BAD]],
    );
    assert.deepEqual(
      errors.map((s) => s.metric.code).sort(),
      ['400', '413', '415', '500'],
      'the common codes are there from the start',
    );
    const [predictions] = await queryVector(connection, `sum(mlops_predictions_total{deployment="${NAME}"})`);
    assert.equal(predictions?.value, 2 * GOOD, 'two rows per good request');
    const classes = await queryVector(connection, `sum by (class) (mlops_predicted_class_total{deployment="${NAME}"})`);
    assert.deepEqual(Object.fromEntries(classes.map((s) => [s.metric.class, s.value])), { no: 4, yes: GOOD + 3 });

    const now = Date.now();
    const range = await queryPrometheusRange(connection, `sum(mlops_requests_total{deployment="${NAME}"})`, {
      start: now - 60_000,
      end: now,
      step: 1,
    });
    assert.equal(range.series.length, 1);
    assert.ok(range.series[0]!.points.length >= 2, 'several scrapes');
    assert.equal(range.series[0]!.points.at(-1)!.value, GOOD + BAD);
    assert.ok(
      range.series[0]!.points.every((p, i, all) => i === 0 || p.time > all[i - 1]!.time),
      'points in time order',
    );
  });

  test('every Grafana dashboard query evaluates, and the panels that have data show it', async (t) => {
    if (!needService(t, !unavailable, unavailable)) return;
    // rate() needs two samples: the series that the requests created (features) must be scraped twice.
    await eventually('two scrapes of every series', async () => {
      const counts = await Promise.all(
        ['mlops_feature_value_count', 'mlops_request_errors_total', 'mlops_requests_total'].map(
          async (metric) =>
            (await queryVector(connection, `min(count_over_time(${metric}{deployment="${NAME}"}[1m]))`))[0]?.value ?? 0,
        ),
      );
      return Math.min(...counts) >= 2 ? counts : undefined;
    });
    const dashboard = grafanaDashboard({ name: NAME });
    const results = new Map<string, number>();
    for (const expr of dashboardExprs(dashboard)) {
      const concrete = expr.replaceAll('$__rate_interval', '1m').replaceAll('$version', '.*');
      const result = await queryPrometheus(connection, concrete);
      assert.equal(result.resultType, 'vector', concrete);
      if (result.resultType === 'vector') results.set(expr, result.samples.length);
    }
    const panel = (title: string) =>
      dashboard.panels.find((p) => p.title === title)!.targets.map((target) => results.get(target.expr));
    assert.deepEqual(panel('Requests per second'), [1], 'one series: version v1');
    assert.deepEqual(panel('Error rate'), [1]);
    assert.deepEqual(panel('Latency'), [1, 1, 1]);
    assert.deepEqual(panel('Predictions per class'), [2]);
    assert.deepEqual(panel('Feature means'), [1]);
    const [errorRate] = await queryVector(
      connection,
      dashboard.panels[1]!.targets[0]!.expr.replaceAll('$__rate_interval', '1m').replaceAll('$version', 'v1'),
    );
    assert.ok(
      errorRate && errorRate.value > 0 && errorRate.value < 1,
      `an error rate between 0 and 1: ${errorRate?.value}`,
    );
    // The version variable is Grafana's label_values(); its PromQL equivalent finds v1.
    const versions = await queryVector(connection, `group by (version) (mlops_model_info{deployment="${NAME}"})`);
    assert.deepEqual(
      versions.map((s) => s.metric.version),
      ['v1'],
    );
  });

  test('the client reads NaN and infinities, and its errors name the URL and the cause', async (t) => {
    if (!needService(t, !unavailable, unavailable)) return;
    const nan = await queryPrometheus(connection, '0/0');
    assert.ok(nan.resultType === 'scalar' && Number.isNaN(nan.value.value));
    const inf = await queryVector(connection, 'vector(1/0) or vector(-1/0)');
    assert.deepEqual(
      inf.map((s) => s.value),
      [Infinity],
    );
    const negative = await queryVector(connection, 'vector(-1/0)');
    assert.deepEqual(
      negative.map((s) => s.value),
      [-Infinity],
    );

    const bad = await rejection(queryPrometheus(connection, 'sum(rate(mlops_requests_total[1m])'));
    assert.match(
      bad.message,
      new RegExp(`^Prometheus at ${prometheus!.url}/api/v1/query answered HTTP 400 \\(bad_data\\): .*parse error`),
    );
    assert.match(bad.remedy ?? '', /not valid PromQL/);
    const badRange = await rejection(
      queryPrometheusRange(connection, 'up', { start: Date.now(), end: Date.now() - 60_000, step: 1 }),
    );
    assert.match(
      badRange.message,
      /api\/v1\/query_range answered HTTP 400 \(bad_data\): .*end timestamp must not be before start time/,
    );

    const port = await freePort();
    const unreachable = await rejection(queryPrometheus({ url: `http://127.0.0.1:${port}` }, 'up'));
    assert.match(
      unreachable.message,
      new RegExp(`^Prometheus at http://127.0.0.1:${port}/api/v1/query cannot be reached: ECONNREFUSED`),
    );
    // The model server is no Prometheus: its own 404 answer is reported as such.
    const notPrometheus = await rejection(queryPrometheus({ url: `http://127.0.0.1:${serverPort}` }, 'up'));
    assert.match(
      notPrometheus.message,
      new RegExp(
        `^http://127.0.0.1:${serverPort}/api/v1/query did not answer like the Prometheus HTTP API \\(HTTP 404 .*\\): .*ENDPOINT_NOT_FOUND`,
      ),
    );
  });

  test('basic auth: refused without credentials, accepted with them or in the URL, never echoed', async (t) => {
    if (!needService(t, !unavailable, unavailable)) return;
    const hashed = spawnSync('htpasswd', ['-nbBC', '5', 'ana', 's3cret-pw'], { encoding: 'utf8' });
    if (
      !needService(
        t,
        hashed.status === 0,
        `htpasswd (apache2-utils) cannot make a bcrypt hash: ${hashed.error?.message ?? hashed.stderr}`,
      )
    )
      return;
    const webConfig = join(dir, 'web.yml');
    writeFileSync(webConfig, `basic_auth_users:\n  ana: '${hashed.stdout.trim().split(':')[1]}'\n`);
    const guarded = await startPrometheus({
      configYaml: 'global:\n  scrape_interval: 1s\nscrape_configs: []\n',
      args: [`--web.config.file=${webConfig}`],
      headers: { authorization: `Basic ${Buffer.from('ana:s3cret-pw').toString('base64')}` },
    });
    try {
      const refused = await rejection(queryPrometheus({ url: guarded.url }, 'vector(1)'));
      assert.match(
        refused.message,
        new RegExp(`^Prometheus at ${guarded.url}/api/v1/query refused the credentials \\(HTTP 401`),
      );
      assert.match(refused.remedy ?? '', /needs a bearer token or basic auth/);
      const wrong = await rejection(
        queryPrometheus({ url: guarded.url, username: 'ana', password: 'guess' }, 'vector(1)'),
      );
      assert.ok(!describeError(wrong).includes('guess'));
      assert.deepEqual(
        (await queryVector({ url: guarded.url, username: 'ana', password: 's3cret-pw' }, 'vector(1)')).map(
          (s) => s.value,
        ),
        [1],
      );
      const inUrl = guarded.url.replace('http://', 'http://ana:s3cret-pw@');
      assert.deepEqual(
        (await queryVector({ url: inUrl }, 'vector(2)')).map((s) => s.value),
        [2],
      );
      const wrongInUrl = await rejection(
        queryPrometheus({ url: guarded.url.replace('http://', 'http://ana:nope@') }, 'vector(1)'),
      );
      assert.ok(
        !describeError(wrongInUrl).includes('nope') &&
          describeError(wrongInUrl).includes(guarded.url.replace('http://', 'http://***@')),
        describeError(wrongInUrl),
      );
    } finally {
      await guarded.stop();
    }
  });

  test('promtool accepts every generated prometheus.yml', async (t) => {
    if (!needService(t, !unavailable, unavailable)) return;
    const installed = ensurePrometheus();
    if (!needService(t, installed.ok && Boolean(installed.promtool), 'promtool is not installed beside prometheus'))
      return;
    const check = (name: string, yaml: string) => {
      const file = join(dir, `${name}.yml`);
      writeFileSync(file, yaml);
      return promtoolCheckConfig(file);
    };
    const variants: ScrapeConfigOptions[] = [
      scrape(),
      { name: NAME, target: 'swarm', mode: 'static', address: 'swarm.example.com:30080' },
      { name: NAME, target: 'swarm', mode: 'dns' },
    ];
    for (const options of variants) {
      const checked = check(`prometheus-${options.mode}`, prometheusYaml(options));
      assert.ok(checked.ok, `${options.mode}: ${checked.output}`);
      assert.match(checked.output, /SUCCESS/);
    }
    // Debian builds Prometheus without Kubernetes service discovery, so its promtool refuses
    // kubernetes_sd_configs as an unknown field; a full build accepts the file. Either way the
    // relabelling is checked: with the discovery swapped for a static target, promtool accepts it.
    const kubernetes = prometheusYaml({
      name: NAME,
      target: 'kubernetes',
      mode: 'annotations',
      namespace: 'ml',
      scrapeInterval: '30s',
    });
    const whole = check('prometheus-annotations', kubernetes);
    assert.ok(whole.ok || /field kubernetes_sd_configs not found/.test(whole.output), whole.output);
    const relabelOnly = kubernetes.replace(
      / {4}kubernetes_sd_configs:\n(?: {6}.*\n)+/,
      '    static_configs:\n      - targets: ["10.1.2.3:8080"]\n',
    );
    assert.notEqual(relabelOnly, kubernetes);
    const relabelled = check('prometheus-annotations-static', relabelOnly);
    assert.ok(relabelled.ok, relabelled.output);
    // And the one Prometheus runs with.
    assert.ok(promtoolCheckConfig(prometheus!.configPath).ok);
    // promtool is strict: a broken file fails, so the checks above mean something.
    const broken = join(dir, 'broken.yml');
    writeFileSync(broken, prometheusYaml(variants[2]!).replace('type: A', 'type: AAAA_NOT'));
    assert.equal(promtoolCheckConfig(broken).ok, false);
  });
});
