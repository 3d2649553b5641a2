// Files and values read back from outside, checked at the edge: the lake's manifests and locks, an
// MLflow model's MLmodel and input example, stored registry credentials, a page token. A malformed
// one gives a message naming its source and the field.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readMlflowModel } from '../../src/containerize/mlflow/mlflowModel';
import { storedCredentials } from '../../src/containerize/registry/registryAuth';
import { lockTable, readManifest, tableDir, versionDir } from '../../src/datasets/lake/catalog';
import { searchInMemory } from '../../src/experiments/runQuery';
import { MlopsError } from '../../src/shared/errors';

const folder = () => mkdtempSync(join(tmpdir(), 'mlops-read-back-'));

/** A check that the error is an MlopsError whose message starts with `start`. */
const startingWith = (start: string) => (error: Error) => {
  assert.ok(error instanceof MlopsError, String(error));
  assert.ok(error.message.startsWith(start), `${error.message}\ndoes not start with\n${start}`);
  return true;
};

const manifest = {
  format: 1,
  table: 't',
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  sources: [{ path: '/data/a.csv', sha256: 'ab', bytes: 3 }],
  rows: 2,
  schema: [{ name: 'a', type: 'BIGINT' }],
  schemaChanges: [],
  files: [{ name: 'part-0.parquet', bytes: 100 }],
};

test('a lake manifest is read as written; a malformed one names the file and the field', () => {
  const root = folder();
  mkdirSync(versionDir(root, 't', 1), { recursive: true });
  const path = join(versionDir(root, 't', 1), '_manifest.json');
  writeFileSync(path, JSON.stringify({ ...manifest, comment: 'kept' }));
  assert.deepEqual(readManifest(root, 't', 1), { ...manifest, comment: 'kept' });
  writeFileSync(path, JSON.stringify({ ...manifest, rows: 'two' }));
  assert.throws(
    () => readManifest(root, 't', 1),
    startingWith(`${path} is not a manifest of t version 1 that this extension can read: rows: `),
  );
  writeFileSync(path, JSON.stringify({ ...manifest, table: 'u' }));
  assert.throws(
    () => readManifest(root, 't', 1),
    startingWith(`${path} is not a manifest of t version 1 that this extension can read: table: `),
  );
});

test('a lake write lock that is not a lock record names the lock file and the field', () => {
  const root = folder();
  mkdirSync(tableDir(root, 't'), { recursive: true });
  const lock = join(tableDir(root, 't'), '.lock');
  writeFileSync(lock, JSON.stringify({ pid: 'one', host: 'h', since: 'now' }));
  assert.throws(
    () => lockTable(root, 't'),
    startingWith(`The write lock ${lock} is not a lock this extension wrote: pid: `),
  );
});

test('an MLmodel file of the wrong shape and a malformed input example name the file and the field', async () => {
  const dir = folder();
  const file = join(dir, 'MLmodel');
  writeFileSync(file, 'flavors: sklearn\n');
  await assert.rejects(readMlflowModel(dir, dir), startingWith(`${file} is not an MLflow MLmodel file: flavors: `));
  const mlmodel =
    'flavors:\n  sklearn:\n    pickled_model: model.pkl\n    sklearn_version: 1.5\nsaved_input_example_info:\n  artifact_path: example.json\n';
  writeFileSync(file, mlmodel);
  const example = join(dir, 'example.json');
  writeFileSync(example, JSON.stringify({ columns: ['a', 'b'], data: [[1, 2]] }));
  const model = await readMlflowModel(dir, dir);
  assert.deepEqual(model.sample, [{ a: 1, b: 2 }]);
  assert.equal(model.sklearnVersion, '1.5');
  writeFileSync(example, JSON.stringify({ columns: ['a', 'b'], data: 'rows' }));
  await assert.rejects(
    readMlflowModel(dir, dir),
    startingWith(`The input example ${example} is not a list of records`),
  );
  writeFileSync(example, '{"columns": ');
  await assert.rejects(readMlflowModel(dir, dir), startingWith(`The input example ${example} is not JSON.`));
});

test('registry credentials read back from SecretStorage: malformed ones name the registry and field, not the value', () => {
  assert.deepEqual(storedCredentials('{"username":"u","password":"p"}', 'registry.example.com:5000'), {
    username: 'u',
    password: 'p',
    serveraddress: 'registry.example.com:5000',
  });
  assert.throws(
    () => storedCredentials('{"username":"u","password":98765}', 'registry.example.com:5000'),
    (error: Error) =>
      startingWith(
        'The credentials stored for registry.example.com:5000 is not a user name and password: password: not text',
      )(error) && !error.message.includes('98765'),
  );
  assert.throws(
    () => storedCredentials('{"username":"u","password":"secret', 'registry.example.com:5000'),
    (error: Error) =>
      startingWith('The credentials stored for registry.example.com:5000 is not JSON.')(error) &&
      !error.message.includes('secret'),
  );
});

test('a page token that is not one the store gave out names the token and the field', () => {
  const token = Buffer.from(JSON.stringify({ offset: -1 })).toString('base64url');
  assert.throws(
    () => searchInMemory([], { experimentIds: ['1'], pageToken: token }),
    startingWith(`The page token '${token}' is not one this store gave out: offset: `),
  );
  assert.throws(
    () => searchInMemory([], { experimentIds: ['1'], pageToken: 'garbage!' }),
    startingWith(`The page token 'garbage!' is not one this store gave out.`),
  );
});
