// The bad-input catalogue: damaged MLflow stores and tracking servers that answer wrongly,
// through `mlops experiments` and `mlops runs`. A store that cannot be read is named with a
// remedy and exit code 1, and is never written to; a store that is partly broken still lists what
// is healthy on stdout, each broken experiment with its file on stderr (exit 1); a lock that a
// writer soon lets go is waited for.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DatabaseSync } from '@photostructure/sqlite';
import { mlflowPaths } from '../../../scripts/lib/mlflow.mjs';
import { expectRefused, runCli } from '../../support/badInput';
import { brokenStores, mlflowStores, mlflowUnavailableReason } from '../../support/mlflow';
import { needService } from '../../support/services';

const unavailable = mlflowUnavailableReason();
const why = `MLflow cannot be installed: ${unavailable}`;
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-bad-stores-'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** 256 KB of random bytes named mlflow.db, as a disk or a bad copy leaves one. */
function corruptDb(name: string): string {
  const folder = join(dir, name);
  mkdirSync(folder);
  const path = join(folder, 'mlflow.db');
  writeFileSync(path, Buffer.from(Array.from({ length: 256 * 1024 }, (_, i) => (i * 2654435761) >>> 24)));
  return path;
}

/** The store's explanation is given once, not wrapped again by the code that opened the store. */
function assertSaidOnce(stderr: string, text: string): void {
  assert.equal(stderr.split(text).length - 1, 1, `'${text}' should appear once in:\n${stderr}`);
}

/** Runs `fn` against a local HTTP server that answers every request with `handler`. */
async function withServer(handler: RequestListener, fn: (url: string) => Promise<void>): Promise<void> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

test('a corrupt mlflow.db (random bytes): named once as not a readable MLflow database, with a remedy', async () => {
  const db = corruptDb('corrupt');
  const result = await expectRefused({
    args: ['experiments', '--tracking-uri', db],
    message: [
      new RegExp(`^mlops: ${db} is not a readable MLflow database: .*file is not a database`),
      /Restore it from a backup, or point mlops\.trackingUri at another store/,
    ],
    unchanged: [db],
  });
  assertSaidOnce(result.stderr, 'is not a readable MLflow database');
});

test('a corrupt mlflow.db given as sqlite:///: the same message', async () => {
  const db = corruptDb('corrupt-uri');
  const result = await expectRefused({
    args: ['runs', '--experiment', '0', '--tracking-uri', `sqlite:///${db}`],
    message: new RegExp(`${db} is not a readable MLflow database`),
    unchanged: [db],
  });
  assertSaidOnce(result.stderr, 'is not a readable MLflow database');
});

test("a SQLite database that is not MLflow's (no experiments table): named as not an MLflow tracking database", async () => {
  const db = join(dir, 'other.db');
  const writer = new DatabaseSync(db);
  writer.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)');
  writer.close();
  await expectRefused({
    args: ['experiments', '--tracking-uri', db],
    message: new RegExp(`${db} is not an MLflow tracking database \\(no such table: experiments\\)`),
    unchanged: [db],
  });
});

test('a tracking store path that does not exist: named, with where the URI comes from', async () => {
  const db = join(dir, 'absent', 'mlflow.db');
  await expectRefused({
    args: ['experiments', '--tracking-uri', db],
    message: [new RegExp(`The tracking store ${db} does not exist`), /mlops\.trackingUri or MLFLOW_TRACKING_URI/],
    unchanged: [db],
  });
});

test('a folder with no tracking store and no MLFLOW_TRACKING_URI: says how to point at one', async () => {
  const empty = join(dir, 'empty-project');
  mkdirSync(empty);
  await expectRefused({
    args: ['experiments'],
    cwd: empty,
    env: { MLFLOW_TRACKING_URI: undefined },
    message: [/No MLflow tracking store found here/, /Pass --tracking-uri, set MLFLOW_TRACKING_URI/],
    unchanged: [empty],
  });
});

test('a truncated mlflow.db (its first 40 %): named once as not a readable MLflow database', async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const { truncatedDb } = await brokenStores();
  const result = await expectRefused({
    args: ['runs', '--experiment', 'healthy', '--tracking-uri', truncatedDb],
    message: [new RegExp(`${truncatedDb} is not a readable MLflow database: .*malformed`), /Restore it from a backup/],
    unchanged: [truncatedDb],
  });
  assertSaidOnce(result.stderr, 'is not a readable MLflow database');
});

test('an mlruns/ with a missing and a garbled experiment meta.yaml: each is named on stderr, exit 1, and the healthy experiment still lists its runs on stdout', async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const broken = await brokenStores();
  const result = await expectRefused({
    args: ['experiments', '--tracking-uri', broken.mlrunsPath],
    message: [
      /^mlops: 2 experiments could not be read fully; what could be read is on stdout\.$/m,
      new RegExp(`^  111111111111111111: ${broken.missingMeta} is missing\\.$`, 'm'),
      new RegExp(`^  222222222222222222: ${broken.garbledMeta} is not valid: line 1: `, 'm'),
      /Repair or remove the files named here/,
    ],
    unchanged: [broken.mlrunsPath],
  });
  assert.match(result.stdout, new RegExp(`^${broken.healthyExperimentId}\\thealthy\\tactive\\t2 runs$`, 'm'));
  assert.match(result.stdout, /^111111111111111111\t.*\tunreadable$/m);
  assert.match(result.stdout, /^222222222222222222\t.*\tunreadable$/m);
});

test('runs of an experiment the store does not have: named, with how to list them', async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const { mlrunsPath } = await brokenStores();
  await expectRefused({
    args: ['runs', '--experiment', 'no-such-experiment', '--tracking-uri', mlrunsPath],
    message: [new RegExp(`No experiment 'no-such-experiment' in .*mlruns`), /Run 'mlops experiments' for the list/],
    unchanged: [mlrunsPath],
  });
});

test('an mlflow.db locked by a writer for 3 s: the command waits for it and then lists the experiments', async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const { sqlitePath, expectedSqlite } = await mlflowStores();
  const db = join(dir, 'locked.db');
  copyFileSync(sqlitePath, db);
  // A writer holding an exclusive lock, as MLflow does during a long log_batch.
  const writer = spawn(mlflowPaths().python, [
    '-c',
    `import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('BEGIN EXCLUSIVE'); c.execute("UPDATE experiments SET name = name")
print('locked', flush=True); time.sleep(3); c.execute('COMMIT'); print('released', flush=True)`,
    db,
  ]);
  let releasedAt = 0;
  await new Promise<void>((resolve, reject) => {
    writer.stdout.on('data', (chunk: Buffer) => {
      if (/locked/.test(chunk.toString())) resolve();
      if (/released/.test(chunk.toString())) releasedAt = Date.now();
    });
    writer.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`the writer exited with ${code}`))));
  });
  const started = Date.now();
  const result = await runCli(['experiments', '--tracking-uri', db]);
  await new Promise((resolve) => (writer.exitCode === null ? writer.once('exit', resolve) : resolve(undefined)));
  assert.equal(result.code, 0, result.stderr);
  assert.ok(releasedAt > started, 'the command started while the lock was held');
  assert.ok(Date.now() >= releasedAt && started + result.ms >= releasedAt, 'it finished only after the writer let go');
  for (const experiment of expectedSqlite.experiments.filter((e) => e.lifecycleStage === 'active'))
    assert.match(result.stdout, new RegExp(`^${experiment.id}\\t`, 'm'));
});

test('a tracking server answering 401: says it refused and how to give a token', async () => {
  await withServer(
    (_request, response) =>
      response
        .writeHead(401, { 'content-type': 'application/json' })
        .end('{"error_code":"UNAUTHENTICATED","message":"no token"}'),
    (url) =>
      expectRefused({
        args: ['experiments', '--tracking-uri', url],
        env: { MLFLOW_TRACKING_TOKEN: undefined },
        message: [
          new RegExp(`The tracking server at ${url} refused the request \\(HTTP 401\\)`),
          /Set MLFLOW_TRACKING_TOKEN/,
        ],
      }).then(() => undefined),
  );
});

test('a tracking server answering 500: the status, the endpoint and its text are named', async () => {
  await withServer(
    (_request, response) => response.writeHead(500).end('Internal Server Error'),
    (url) =>
      expectRefused({
        args: ['experiments', '--tracking-uri', url],
        message: new RegExp(
          `The tracking server at ${url} answered HTTP 500 to experiments/search: Internal Server Error`,
        ),
      }).then(() => undefined),
  );
});

test('a tracking server answering an HTML page (a login proxy): says it did not answer JSON', async () => {
  await withServer(
    (_request, response) =>
      response.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Sign in</body></html>'),
    (url) =>
      expectRefused({
        args: ['experiments', '--tracking-uri', url],
        message: new RegExp(`The tracking server at ${url} did not answer JSON to experiments/search`),
      }).then(() => undefined),
  );
});

test('a tracking server that closes the connection without an answer: named as unreachable', async () => {
  await withServer(
    (request) => request.socket.destroy(),
    (url) =>
      expectRefused({
        args: ['experiments', '--tracking-uri', url],
        message: [new RegExp(`The tracking server at ${url} cannot be reached`), /Check that the server runs/],
      }).then(() => undefined),
  );
});

test('a tracking server answering JSON that is not MLflow\'s ({"experiments":[{"id":3}]}): the server, the endpoint and the field are named', async () => {
  await withServer(
    (_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"experiments":[{"id":3}]}'),
    async (url) => {
      const withPassword = url.replace('http://', 'http://ana:s3cret-pw@');
      const result = await expectRefused({
        args: ['experiments', '--tracking-uri', withPassword],
        message: [
          new RegExp(
            `The tracking server at ${url} gave an answer to experiments/search that is not MLflow's: experiments\\.0\\.experiment_id: `,
          ),
          /root URL of an MLflow tracking server/,
        ],
      });
      assert.ok(!`${result.stdout}${result.stderr}`.includes('s3cret-pw'), result.stderr);
      assert.doesNotMatch(result.stdout, /undefined/);
    },
  );
});

test('a tracking server answering runs with a metric value that is not a number: the endpoint and the field are named', async () => {
  await withServer(
    (request, response) => {
      const body = request.url?.includes('experiments/search')
        ? { experiments: [{ experiment_id: '1', name: 'e' }] }
        : {
            runs: [{ info: { run_id: 'r1', experiment_id: '1' }, data: { metrics: [{ key: 'loss', value: 'lots' }] } }],
          };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    },
    (url) =>
      expectRefused({
        args: ['runs', '--experiment', '1', '--tracking-uri', url],
        message: new RegExp(
          `The tracking server at ${url} gave an answer to runs/search that is not MLflow's: runs\\.0\\.data\\.metrics\\.0\\.value: `,
        ),
      }).then(() => undefined),
  );
});

test("a tracking URI on a port Node's fetch refuses (http://127.0.0.1:9): the URI is named, and why", async () => {
  await expectRefused({
    args: ['experiments', '--tracking-uri', 'http://127.0.0.1:9'],
    message: [
      /The tracking server at http:\/\/127\.0\.0\.1:9 cannot be reached: port 9 is one that Node's fetch refuses/,
      /Run the tracking server on another port/,
    ],
  });
});
