// The `requests` lake table and the drift of logged requests, against a reference computed in the
// same test with numpy and scipy from PyPI (as drift.test.ts computes it): request log lines as
// the model server writes them (row objects and row lists, nulls, numbers sent as strings, error
// requests, offsets in ts, malformed lines), ingested in two overlapping batches.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureMlflow } from '../../scripts/lib/mlflow.mjs';
import { openLake } from '../../src/datasets/lake/duckdbLake';
import type { Lake } from '../../src/datasets/model';
import type { DriftRow } from '../../src/monitor/model';
import { baselineFromImageLabels } from '../../src/monitor/baseline';
import { ingestRequestFile, ingestRequestLines, requestDrift, requestsCursor } from '../../src/monitor/requestsTable';
import { MlopsError } from '../../src/shared/errors';
import { needService } from '../support/services';

/** Where drift_reference.py, the numpy PSI both drift tests compare with, lives. */
const SUPPORT = join(import.meta.dirname, '..', 'support');

// numpy writes the training data and the log lines, then the reference: deciles with linear
// interpolation, bins by searchsorted, proportions floored at 1e-6, scipy's ks_2samp statistic;
// each input row typed as the baseline's column (a number sent as a string is a number, any other
// string no value); time slices floor((ms - start) * slices / span).
const GENERATE = String.raw`
import datetime, json, math, sys
import numpy as np, pandas as pd
from scipy import stats
out = sys.argv[1]
rng = np.random.default_rng(11)
N, R = 20000, 4000
train = pd.DataFrame({
    "age": np.round(rng.normal(40, 10, N)).astype(int),
    "income": np.round(rng.lognormal(10, 0.5, N), 2),
    "plan": rng.choice(["basic", "plus", "pro"], N, p=[0.5, 0.3, 0.2]),
    "churn": rng.integers(0, 2, N),
})
train.to_csv(f"{out}/train.csv", index=False)
train[["age", "income", "plan"]].set_axis(["0", "1", "2"], axis=1).to_parquet(f"{out}/train_positional.parquet", index=False)

epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
start = datetime.datetime(2026, 11, 27, 12, 0, 0, tzinfo=datetime.timezone.utc)
def iso(t, offset):
    if offset:
        return t.astimezone(datetime.timezone(datetime.timedelta(hours=1))).isoformat(timespec="milliseconds")
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
records, lines, positional = [], [], []
for i in range(R):
    t = start + datetime.timedelta(milliseconds=900 * i)
    ms = (t - epoch) // datetime.timedelta(milliseconds=1)
    shifted = i >= R // 2
    rows = []
    for j in range(int(rng.integers(1, 4))):
        age = int(round(rng.normal(48 if shifted else 40, 12 if shifted else 10)))
        row = {
            "age": age,
            "income": round(float(rng.lognormal(10.2 if shifted else 10, 0.5)), 2),
            "plan": str(rng.choice(["basic", "plus", "pro"], p=[0.3, 0.3, 0.4] if shifted else [0.5, 0.3, 0.2])),
        }
        if (i + j) % 17 == 0: row["income"] = None
        if (i + j) % 23 == 0: row["age"] = str(age)
        if (i + j) % 101 == 0: row["age"] = "n/a"
        rows.append(row)
    entry = {"ts": iso(t, i % 97 == 0 or i == R - 1), "request_id": f"req-{i}", "version": "v2" if shifted else "v1"}
    if i % 50 == 7:
        entry.update({"inputs": None, "predictions": None, "latency_ms": 0.5, "status": 400, "error": "missing columns: 'age'"})
        lines.append(json.dumps(entry, separators=(",", ":")))
        positional.append(lines[-1])
        continue
    entry.update({"predictions": [0] * len(rows), "latency_ms": round(float(rng.uniform(1, 20)), 3), "status": 200, "instance": f"task-{i % 3}"})
    records.append((ms, rows))
    lines.append(json.dumps({**entry, "inputs": rows}, separators=(",", ":")))
    positional.append(json.dumps({**entry, "inputs": [[r["age"], r["income"], r["plan"]] for r in rows]}, separators=(",", ":")))

given = list(lines)
malformed = [
    (10, "not json at all"),
    (20, "42"),
    (30, json.dumps({"ts": "garbage", "request_id": "bad-ts", "status": 200, "inputs": []})),
    (40, json.dumps({"ts": iso(start, False), "request_id": "bad-inputs", "status": 200, "inputs": {"age": 1}})),
    (50, '{"ts":"2026-11-27T12:00:00.000Z","request_id":"cut'),
    (60, ""),
]
for index, line in malformed:
    given.insert(index, line)

from drift_reference import psi_numeric, psi_categorical
def number(v):
    try:
        return None if v is None else float(v)
    except ValueError:
        return None
def measure(names, rows, slices, start_ms, span):
    result = {}
    for col, name in zip(("age", "income", "plan"), names):
        numeric = col != "plan"
        values = [(ms, number(r[col]) if numeric else r[col]) for ms, r in rows]
        values = [(ms, v) for ms, v in values if v is not None]
        b = train[col].to_numpy(float) if numeric else train[col].to_numpy()
        c = np.array([v for _, v in values], dtype=float if numeric else object)
        f = psi_numeric if numeric else psi_categorical
        s = np.array([min(max(math.floor((ms - start_ms) * slices / span), 0), slices - 1) for ms, _ in values])
        result[name] = {
            "psi": f(b, c),
            "ks": float(stats.ks_2samp(b, c).statistic) if numeric else None,
            "trend": [f(b, c[s == k]) if (s == k).any() else None for k in range(slices)],
        }
    return result
flat = [(ms, r) for ms, rows in records for r in rows]
first, last = flat[0][0], flat[-1][0]
half = start + datetime.timedelta(milliseconds=900 * (R // 2))
half_ms = (half - epoch) // datetime.timedelta(milliseconds=1)
window = [(ms, r) for ms, r in flat if half_ms <= ms <= last]
print(json.dumps({
    "given": given,
    "positional": positional,
    "examples": [index + 1 for index, line in malformed if line],
    "rows": len(flat),
    "windowRows": len(window),
    "from": half_ms,
    "to": last,
    "cursor": iso(start + datetime.timedelta(milliseconds=900 * (R - 1)), False),
    "all": measure(("age", "income", "plan"), flat, 8, first, last + 1 - first),
    "window": measure(("age", "income", "plan"), window, 4, half_ms, last - half_ms),
    "positionalAll": measure(("0", "1", "2"), flat, 8, first, last + 1 - first),
}))
`;

interface Measured {
  psi: number;
  ks: number | null;
  trend: (number | null)[];
}

interface Reference {
  given: string[];
  positional: string[];
  examples: number[];
  rows: number;
  windowRows: number;
  from: number;
  to: number;
  cursor: string;
  all: Record<string, Measured>;
  window: Record<string, Measured>;
  positionalAll: Record<string, Measured>;
}

function assertMatches(rows: DriftRow[], expected: Record<string, Measured>, label: string): void {
  assert.deepEqual(rows.map((r) => r.feature).sort(), Object.keys(expected).sort(), label);
  assert.deepEqual(
    rows.map((r) => r.psi),
    [...rows.map((r) => r.psi)].sort((a, b) => b - a),
    `${label}: the most drifted first`,
  );
  for (const row of rows) {
    const want = expected[row.feature];
    assert.ok(Math.abs(row.psi - want.psi) < 1e-9, `${label} ${row.feature}: PSI ${row.psi} vs ${want.psi}`);
    if (want.ks === null) assert.equal(row.ks, null);
    else assert.ok(Math.abs(row.ks! - want.ks) < 1e-12, `${label} ${row.feature}: KS ${row.ks} vs ${want.ks}`);
    assert.equal(row.kind, row.feature === 'plan' || row.feature === '2' ? 'categorical' : 'numeric');
    assert.equal(row.trend?.length, want.trend.length, `${label} ${row.feature}: one PSI per slice`);
    row.trend!.forEach((value, i) => {
      const slice = want.trend[i];
      if (slice === null) assert.ok(Number.isNaN(value), `${label} ${row.feature} slice ${i} has no request`);
      else assert.ok(Math.abs(value! - slice) < 1e-9, `${label} ${row.feature} slice ${i}: ${value} vs ${slice}`);
    });
  }
}

describe('the requests table and the drift of logged requests, against numpy and scipy', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-requests-drift-'));
  let reference: Reference | undefined;
  let unavailable = '';
  let lake: Lake;
  const target = 'swarm';
  const deployment = 'churn';

  before(() => {
    lake = openLake(join(dir, 'lake'));
    const mlflow = ensureMlflow();
    if (!mlflow.ok)
      return void (unavailable = `numpy, pandas and scipy come with the MLflow virtualenv, which is missing: ${mlflow.reason}`);
    reference = JSON.parse(
      execFileSync(mlflow.python, ['-c', GENERATE, dir], {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
        env: { ...process.env, PYTHONPATH: SUPPORT },
      }),
    ) as Reference;
  });

  after(async () => {
    await lake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('two overlapping batches store every request once; malformed lines are counted and named; the cursor is the newest ts', async (t) => {
    if (!needService(t, Boolean(reference), unavailable)) return;
    const { given } = reference!;
    assert.equal(await requestsCursor(lake, target, deployment), null, 'no table yet');
    const first = await ingestRequestLines(lake, given.slice(0, 2500), { target, deployment });
    assert.deepEqual([first.lines, first.appended, first.duplicates, first.malformed], [2499, 2494, 0, 5]);
    assert.deepEqual(
      first.malformedExamples.map((e) => e.line),
      reference!.examples,
    );
    assert.deepEqual(
      first.malformedExamples.map((e) => e.reason.replace(/:.*/, '')),
      ['not JSON', 'not a JSON object', 'no valid ts ("garbage")', 'inputs is not a list', 'not JSON'],
    );
    assert.equal(first.version?.version, 1);
    assert.equal(await requestsCursor(lake, target, deployment), '2026-11-27T12:37:23.700Z');

    // The second batch starts 500 lines before the first one ended, and repeats one of its own lines.
    const second = await ingestRequestLines(lake, [...given.slice(2000), given[3000]], { target, deployment });
    assert.deepEqual(
      [second.lines, second.appended, second.duplicates, second.malformed],
      [given.length - 2000 + 1, 1506, 501, 0],
    );
    assert.deepEqual([second.version?.version, second.version?.rows], [2, 4000]);
    const again = await ingestRequestLines(lake, given, { target, deployment });
    assert.deepEqual(
      [again.appended, again.duplicates, again.malformed, again.version?.version],
      [0, 4000, 5, 2],
      'a re-read adds nothing, and no version',
    );

    const stored = await lake.query(
      `SELECT count(*), count(DISTINCT request_id), count(instance), sum("rows"), count(*) FILTER (WHERE status = 400 AND inputs IS NULL AND error IS NOT NULL), min(ts), max(ts) FROM requests`,
    );
    assert.deepEqual(stored.rows, [
      [4000, 4000, 3920, reference!.rows, 80, '2026-11-27 12:00:00', '2026-11-27 12:59:59.1'],
    ]);
    // A ts with an offset is stored as the UTC instant.
    assert.deepEqual(
      (await lake.query(`SELECT ts, target, deployment, version, instance FROM requests WHERE request_id = 'req-97'`))
        .rows,
      [['2026-11-27 12:01:27.3', target, deployment, 'v1', 'task-1']],
    );
    assert.deepEqual(
      (
        await lake.query(
          `SELECT columns, types FROM (SELECT list(column_name) AS columns, list(column_type) AS types FROM (DESCRIBE SELECT * FROM requests))`,
        )
      ).rows[0],
      [
        [
          'ts',
          'request_id',
          'target',
          'deployment',
          'version',
          'instance',
          'status',
          'latency_ms',
          'error',
          'rows',
          'inputs',
          'predictions',
          'variant',
          'shadow',
        ],
        [
          'TIMESTAMP',
          'VARCHAR',
          'VARCHAR',
          'VARCHAR',
          'VARCHAR',
          'VARCHAR',
          'INTEGER',
          'DOUBLE',
          'VARCHAR',
          'INTEGER',
          'JSON',
          'JSON',
          'VARCHAR',
          'BOOLEAN',
        ],
      ],
    );
    assert.equal(await requestsCursor(lake, target, deployment), reference!.cursor);
    assert.equal(await requestsCursor(lake, target, 'other'), null);

    // The same lines read from a log file, for another deployment: the same counts.
    const file = join(dir, 'requests.jsonl');
    writeFileSync(file, `${given.join('\n')}\n`);
    const fromFile = await ingestRequestFile(lake, file, { target, deployment: 'from-file' });
    assert.deepEqual(
      [fromFile.lines, fromFile.appended, fromFile.duplicates, fromFile.malformed],
      [given.length - 1, 4000, 0, 5],
    );
    assert.deepEqual(
      fromFile.malformedExamples.map((e) => e.line),
      reference!.examples,
    );
    assert.equal(await requestsCursor(lake, target, 'from-file'), reference!.cursor);
    assert.deepEqual(await ingestRequestLines(lake, ['', '  '], { target, deployment }), {
      lines: 0,
      appended: 0,
      duplicates: 0,
      feedback: 0,
      malformed: 0,
      malformedExamples: [],
    });
  });

  test('PSI, KS and the trend of every feature match the reference: the whole log, a window, a version, a lake table as baseline', async (t) => {
    if (!needService(t, Boolean(reference), unavailable)) return;
    const file = join(dir, 'train.csv');
    const all = await requestDrift(lake, { target, deployment, baseline: { file } });
    assertMatches(all.rows, reference!.all, 'all');
    assert.deepEqual([all.baselineRows, all.currentRows], [20000, reference!.rows]);
    assert.equal(all.note, 'Not in the logged inputs, so not measured: churn.');

    const from = new Date(reference!.from);
    const to = new Date(reference!.to);
    const window = await requestDrift(lake, { target, deployment, from, to, slices: 4, baseline: { file } });
    assertMatches(window.rows, reference!.window, 'window');
    assert.equal(window.currentRows, reference!.windowRows);
    const version = await requestDrift(lake, {
      target,
      deployment,
      version: 'v2',
      from,
      to,
      slices: 4,
      baseline: { file },
    });
    assertMatches(version.rows, reference!.window, 'v2, which answered exactly the requests of the second half');

    await lake.ingest('training', [file]);
    const fromTable = await requestDrift(lake, { target, deployment, baseline: { table: 'training' } });
    assertMatches(fromTable.rows, reference!.all, 'baseline table');

    const one = await requestDrift(lake, { target, deployment, features: ['plan'], slices: 2, baseline: { file } });
    assert.deepEqual(
      one.rows.map((r) => [r.feature, r.trend?.length]),
      [['plan', 2]],
    );
    await assert.rejects(
      requestDrift(lake, { target, deployment, features: ['tenure'], baseline: { file } }),
      (error: Error) => error instanceof MlopsError && /tenure is not a column of the baseline/.test(error.message),
    );
  });

  test('rows sent as lists name their features 0, 1, ...', async (t) => {
    if (!needService(t, Boolean(reference), unavailable)) return;
    const ingested = await ingestRequestLines(lake, reference!.positional, { target, deployment: 'positional' });
    assert.deepEqual([ingested.appended, ingested.malformed], [4000, 0]);
    const positional = await requestDrift(lake, {
      target,
      deployment: 'positional',
      baseline: { file: join(dir, 'train_positional.parquet') },
    });
    assertMatches(positional.rows, reference!.positionalAll, 'positional');
    assert.equal(positional.note, undefined);
    const named = await requestDrift(lake, {
      target,
      deployment: 'positional',
      baseline: { file: join(dir, 'train.csv') },
    });
    assert.deepEqual(named.rows, []);
    assert.match(
      named.note ?? '',
      /none of the baseline's columns \(age, income, plan, churn\); rows sent as lists name their features 0, 1/,
    );
  });

  test('without logged requests or without a baseline, no rows and a note saying which', async (t) => {
    if (!needService(t, Boolean(reference), unavailable)) return;
    const file = join(dir, 'train.csv');
    const later = new Date('2027-01-01T00:00:00Z');
    const empty = await requestDrift(lake, { target, deployment, from: later, baseline: { file } });
    assert.deepEqual([empty.rows, empty.currentRows, empty.baselineRows], [[], 0, 20000]);
    assert.match(
      empty.note ?? '',
      /^No logged requests: swarm\/churn has no request with inputs in the lake between 2027-01-01T00:00:00\.000Z and the last\.$/,
    );
    const unknown = await requestDrift(lake, { target, deployment: 'nobody', baseline: { file } });
    assert.match(unknown.note ?? '', /^No logged requests: swarm\/nobody/);
    const noTable = await requestDrift(lake, { target, deployment, baseline: { table: 'missing' } });
    assert.deepEqual(noTable.rows, []);
    assert.match(noTable.note ?? '', /^No baseline: the lake .* has no table missing\.$/);
    const noFile = await requestDrift(lake, {
      target,
      deployment: 'nobody',
      baseline: { file: join(dir, 'gone.csv') },
    });
    assert.match(
      noFile.note ?? '',
      /^No baseline: the training data .*gone\.csv does not exist\. No logged requests: swarm\/nobody/,
    );
    assert.match(
      (await requestDrift(lake, { target, deployment, baseline: {} })).note ?? '',
      /^No baseline: no training data is known/,
    );
    const emptyLake = openLake(join(dir, 'empty-lake'));
    assert.match(
      (await requestDrift(emptyLake, { target, deployment, baseline: { file } })).note ?? '',
      /^No logged requests/,
    );
  });
});

test('baselineFromImageLabels finds the first recorded data file that exists, in the workspace or beside the notebook', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'mlops-baseline-labels-'));
  try {
    mkdirSync(join(workspace, 'notebooks', 'data'), { recursive: true });
    mkdirSync(join(workspace, 'data'), { recursive: true });
    writeFileSync(join(workspace, 'data', 'train.csv'), 'a\n1\n');
    writeFileSync(join(workspace, 'notebooks', 'data', 'beside.parquet'), 'x');
    writeFileSync(join(workspace, 'data', 'model.pkl'), 'x');
    const labels = (files: Record<string, string>, notebook = 'notebooks/churn.ipynb') => ({
      'mlops.data.sha256': JSON.stringify(files),
      'mlops.notebook': notebook,
    });
    assert.equal(
      baselineFromImageLabels(
        labels({ 'data/gone.csv': 'a', 'data/model.pkl': 'b', 'data/train.csv': 'c' }),
        workspace,
      ),
      join(workspace, 'data', 'train.csv'),
    );
    assert.equal(
      baselineFromImageLabels(labels({ 'data/beside.parquet': 'a' }), workspace),
      join(workspace, 'notebooks', 'data', 'beside.parquet'),
      'beside the notebook',
    );
    assert.equal(
      baselineFromImageLabels(labels({ 'data/beside.parquet': 'a' }, ''), workspace),
      undefined,
      'no notebook folder to look in',
    );
    assert.equal(baselineFromImageLabels(labels({ 'data/gone.csv': 'a' }), workspace), undefined);
    assert.equal(baselineFromImageLabels({ 'mlops.data.sha256': '{}' }, workspace), undefined);
    assert.equal(baselineFromImageLabels({ 'mlops.data.sha256': 'not json' }, workspace), undefined);
    assert.equal(baselineFromImageLabels({}, workspace), undefined);
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});
