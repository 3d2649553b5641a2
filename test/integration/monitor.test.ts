// Monitoring a model on a real single-node Docker Swarm: two tasks behind the router, real
// traffic, the counts read through the router's fan-out (and through a real Prometheus scraping
// it with the exported config), the request log brought into the lake,
// input drift checked against scipy, and an alert whose autoRevert really rolls the service back.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { freePort } from '../../scripts/lib/codeServer.mjs';
import { ensureMlflow } from '../../scripts/lib/mlflow.mjs';
import { ensureSwarm, PROXY_IMAGE } from '../../scripts/lib/docker.mjs';
import { ensurePrometheus, startPrometheus } from '../../scripts/lib/prometheus.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { runCli } from '../../src/shared/cliFramework';
import { openLake } from '../../src/datasets/lake/duckdbLake';
import { openSwarmTarget, type SwarmTarget } from '../../src/deploy/targets/swarm/swarmTarget';
import { readAudit } from '../../src/monitor/audit';
import { monitoringDir } from '../../src/monitor/countsLog';
import { monitorCommand } from '../../src/monitor/cli';
import { targetKey } from '../../src/monitor/targetKey';
import { prometheusYaml } from '../../src/monitor/export/prometheusConfig';
import { observe } from '../../src/monitor/observe';
import { queryVector } from '../../src/monitor/prometheusApi';
import { respondToAlerts } from '../../src/monitor/respond';
import { dockerAvailable } from '../support/docker';
import { modelImages } from '../support/modelImages';
import { needService } from '../support/services';

let unavailable = '';
let target: SwarmTarget;
let v1 = '';
let v2 = '';
let python = '';
const names: string[] = [];
const workspace = mkdtempSync(join(tmpdir(), 'mlops-monitor-'));
const baselineFile = join(workspace, 'customers.csv');

interface Row {
  tenure_months: number;
  monthly_charges: number;
  support_calls: number;
}

function post(port: number, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/invocations',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Rows like the training data, or shifted (a price rise). */
function rows(count: number, shift: number, seed: number): Row[] {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, () => ({
    tenure_months: Math.floor(random() * 72),
    monthly_charges: Math.round((20 + random() * 100 + shift) * 100) / 100,
    support_calls: Math.floor(random() * 6),
  }));
}

async function send(port: number, batch: Row[]): Promise<void> {
  for (const row of batch) assert.equal(await post(port, JSON.stringify({ dataframe_records: [row] })), 200);
}

function ready(t: TestContext): boolean {
  return needService(t, !unavailable, unavailable);
}

before(async () => {
  const engine = await dockerAvailable();
  if (!engine.ok) return void (unavailable = engine.reason);
  const swarm = await ensureSwarm();
  if (!swarm.ok) return void (unavailable = `no swarm: ${swarm.reason}`);
  const images = await modelImages();
  if (!images.ok) return void (unavailable = images.reason);
  const mlflow = ensureMlflow();
  if (!mlflow.ok) return void (unavailable = mlflow.reason);
  python = mlflow.python;
  const prometheus = ensurePrometheus();
  if (!prometheus.ok) return void (unavailable = prometheus.reason);
  ({ v1, v2 } = images);
  target = await openSwarmTarget({ proxyImage: PROXY_IMAGE });
  cpSync(join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace', 'data', 'customers.csv'), baselineFile);
  // Where the notebook read it: the image's mlops.data.sha256 label names data/customers.csv.
  mkdirSync(join(workspace, 'data'), { recursive: true });
  cpSync(baselineFile, join(workspace, 'data', 'customers.csv'));
});

after(async () => {
  if (unavailable) return;
  for (const name of names) await target.remove(name).catch(() => undefined);
});

/** PSI over the baseline's deciles (test/support/drift_reference.py) and scipy's KS statistic. */
function reference(baseline: string, current: Row[], feature: keyof Row): { psi: number; ks: number } {
  const script = `
import json, sys
import numpy as np, pandas as pd
from scipy.stats import ks_2samp
from drift_reference import psi_numeric
base = pd.read_csv(sys.argv[1])[sys.argv[2]].dropna().to_numpy(dtype=float)
cur = np.array(json.load(sys.stdin), dtype=float)
print(json.dumps({"psi": psi_numeric(base, cur), "ks": float(ks_2samp(base, cur).statistic)}))
`;
  const result = spawnSync(python, ['-c', script, baseline, feature], {
    input: JSON.stringify(current.map((r) => r[feature])),
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: join(import.meta.dirname, '..', 'support') },
  });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as { psi: number; ks: number };
}

describe('monitoring a deployment on a single-node swarm', { timeout: 900_000 }, () => {
  test('counts every request and error through the router, drift matches scipy, and a drift alert reverts to the stable revision', async (t) => {
    if (!ready(t)) return;
    const name = `watched-${Date.now().toString(36)}`;
    names.push(name);
    const port = await freePort();
    await target.deploy({
      name,
      image: v1,
      publishedPort: port,
      publishMode: 'host',
      replicas: 2,
      changeCause: 'stable model',
    });
    await target.pinStable(name, 1);
    const second = await target.deploy({
      name,
      image: v2,
      publishedPort: port,
      publishMode: 'host',
      replicas: 2,
      changeCause: 'candidate',
    });
    assert.equal(second.status.revision, 2);
    const targetId = targetKey(target);
    const lake = openLake(join(workspace, '.mlops', 'lake'));
    const base = {
      workspace,
      targetId,
      target,
      name,
      sinceMs: 3_600_000,
      sinceText: '1h',
      drift: { lake, baseline: { file: baselineFile } },
    };

    // A first look records where the counters stand; the window's numbers are what follows.
    const first = await observe({ ...base, thresholds: {} });
    const normal = rows(60, 0, 7);
    await send(port, normal);
    for (let i = 0; i < 7; i++) assert.equal(await post(port, '{"dataframe_records": not json'), 400);
    const { summary } = await observe({ ...base, thresholds: {}, series: true });
    t.diagnostic(
      JSON.stringify({
        requests: summary.requests,
        errors: summary.errors,
        versions: summary.versions.map((v) => [v.version, v.requests]),
      }),
    );
    assert.equal(summary.requests - first.summary.requests, 67, 'every request sent is counted');
    assert.equal(summary.errors - first.summary.errors, 7, 'every bad request is an error');
    assert.equal(
      new Set((await observe({ ...base, thresholds: {} })).record.instances.map((i) => i.instance)).size,
      2,
      'both tasks are read through the router',
    );
    assert.ok(summary.latencyMs.p95 !== null && summary.latencyMs.p95 > 0);
    assert.equal(summary.predictions.kind, 'classes');
    assert.equal(summary.resources.length, 2, summary.resourcesNote);
    assert.ok(
      summary.resources.every((r) => (r.memoryMb ?? 0) > 10 && r.cpuPercent !== null),
      JSON.stringify(summary.resources),
    );
    assert.ok(summary.drift.length >= 3, summary.driftNote);

    // The same numbers through a real Prometheus scraping the router with the exported config.
    const prometheus = await startPrometheus({
      configYaml: prometheusYaml({
        name,
        target: 'swarm',
        mode: 'static',
        address: `127.0.0.1:${port}`,
        scrapeInterval: '1s',
      }),
    });
    try {
      const connection = { url: prometheus.url };
      const scraped = async (total: number) => {
        for (let i = 0; i < 60; i++) {
          const seen = await queryVector(connection, `sum(mlops_requests_total{deployment="${name}"})`).catch(() => []);
          if (seen[0]?.value === total) return;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        assert.fail(`Prometheus never saw ${total} requests: ${prometheus.log()}`);
      };
      await scraped(summary.requests);
      // Traffic while Prometheus watches, for the rate chart.
      await send(port, rows(10, 0, 5));
      await scraped(summary.requests + 10);
      const through = await observe({ ...base, thresholds: {}, prometheus: connection, series: true });
      assert.equal(through.summary.source, 'prometheus');
      assert.equal(through.summary.requests, summary.requests + 10, prometheus.log());
      assert.equal(through.summary.errors, summary.errors);
      assert.deepEqual(
        through.summary.versions.map((v) => v.version),
        summary.versions.map((v) => v.version),
      );
      assert.ok(
        through.series.some((s) => s.metric === 'requestRate' && s.points.some((p) => (p.v ?? 0) > 0)),
        'the rate chart has points',
      );
    } finally {
      await prometheus.stop();
    }

    // The lake holds every logged request exactly once, bad ones included.
    const logged = await lake.query(
      `SELECT count(*) AS n, count(*) FILTER (WHERE status = 400) AS bad FROM requests WHERE deployment = '${name}'`,
    );
    assert.deepEqual(logged.rows[0].map(Number), [77, 7]);

    // A price rise: monthly_charges shifts, which the thresholds catch.
    const shifted = rows(120, 60, 11);
    await send(port, shifted);
    const thresholds = { psi: 0.25, autoRevert: true };
    const drifted = await observe({ ...base, thresholds });
    const charges = drifted.summary.drift.find((d) => d.feature === 'monthly_charges')!;
    const expected = reference(baselineFile, [...normal, ...rows(10, 0, 5), ...shifted], 'monthly_charges');
    assert.ok(Math.abs(charges.psi - expected.psi) < 1e-9, `PSI ${charges.psi} against scipy's ${expected.psi}`);
    assert.ok(Math.abs(charges.ks! - expected.ks) < 1e-12, `KS ${charges.ks} against scipy's ${expected.ks}`);
    assert.ok(
      drifted.summary.alerts.some((a) => a.rule === 'psi' && a.feature === 'monthly_charges'),
      JSON.stringify(drifted.summary.alerts),
    );

    const dir = monitoringDir(workspace, targetId, name);
    const response = await respondToAlerts({
      dir,
      target,
      targetId,
      name,
      alerts: drifted.summary.alerts,
      thresholds,
      by: 'test',
    });
    assert.ok(response.fresh.length >= 1);
    const status = await target.status(name);
    assert.equal(status.revision, 1, 'autoRevert brought back the stable revision');
    assert.equal(status.image, v1);
    const audit = readAudit(dir);
    assert.ok(audit.some((e) => e.kind === 'alert' && e.alert?.feature === 'monthly_charges'));
    assert.match(audit.find((e) => e.kind === 'revert')?.message ?? '', /from revision 2 to the stable revision 1/);

    // The same breach at the next look is not new: no second revert.
    const again = await respondToAlerts({
      dir,
      target,
      targetId,
      name,
      alerts: drifted.summary.alerts,
      thresholds,
      by: 'test',
    });
    assert.equal(again.fresh.length, 0);

    // Output drift: the stable version's answers against the candidate's, both in the window.
    await send(port, rows(30, 0, 13));
    const after = await observe({ ...base, thresholds: {} });
    const [candidate, stable] = [
      drifted.summary.versions[0]!.version,
      after.summary.versions.find((v) => v.version !== drifted.summary.versions[0]!.version)!.version,
    ];
    const versions = after.summary.outputDrift.find((d) => d.comparison === 'versions');
    assert.deepEqual(
      [versions?.reference, versions?.current, versions?.referenceRows, versions?.currentRows],
      [candidate, stable, 60 + 10 + 120, 30],
      JSON.stringify(after.summary.outputDrift),
    );
    assert.ok(versions!.psi >= 0 && versions!.ks !== null, 'the classes are numbers: KS too');
    assert.deepEqual(
      after.summary.versions.map((v) => v.requests).sort((a, b) => a - b),
      [30, 67 + 10 + 120],
      'the candidate keeps its requests in the window after its tasks are gone',
    );
    await lake.close();
  });

  test('mlops monitor --json prints the window, drift against the training data the image names, and alerts', async (t) => {
    if (!ready(t)) return;
    const name = `cli-watched-${Date.now().toString(36)}`;
    names.push(name);
    const port = await freePort();
    await target.deploy({ name, image: v1, publishedPort: port, publishMode: 'host' });
    await send(port, rows(30, 0, 3));
    assert.equal(await post(port, 'nope'), 400);
    const out: string[] = [];
    const err: string[] = [];
    const cwd = process.cwd();
    process.chdir(workspace);
    try {
      const code = await runCli(
        { name: 'mlops', version: '0', commands: [monitorCommand] },
        ['monitor', '--name', name, '--since', '1h', '--max-error-rate', '0.01', '--json'],
        { stdout: (s) => out.push(s), stderr: (s) => err.push(s) },
      );
      assert.equal(code, 0, err.join(''));
    } finally {
      process.chdir(cwd);
    }
    const printed = JSON.parse(out.join('')) as Record<string, unknown> & {
      requests: number;
      errorRate: number;
      latencyMs: Record<string, number>;
      drift: { feature: string }[];
      alerts: { rule: string }[];
    };
    assert.equal(printed.requests, 31, 'a fresh server counts from its start');
    assert.ok(Math.abs(printed.errorRate - 1 / 31) < 1e-12);
    assert.deepEqual(Object.keys(printed.latencyMs), ['p50', 'p95', 'p99']);
    assert.deepEqual(
      printed.drift.map((d) => d.feature).sort(),
      ['monthly_charges', 'support_calls', 'tenure_months'],
      'the baseline comes from the image labels',
    );
    assert.deepEqual(
      printed.alerts.map((a) => a.rule),
      ['errorRate'],
    );
    assert.ok(
      readFileSync(join(monitoringDir(workspace, targetKey(target), name), 'audit.jsonl'), 'utf8').includes(
        'error rate',
      ),
    );
  });
});
