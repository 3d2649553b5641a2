// The one rule for the tracking store: a flag, then the setting, then MLFLOW_TRACKING_URI, then
// the workspace's mlflow.db or mlruns/; a token goes only to the server it is meant for.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promoteCommand } from '../../src/release/cli';
import { runCli } from '../../src/shared/cliFramework';
import { setHostSecret } from '../../src/shared/hostSecrets';
import type { Logger } from '../../src/shared/logger';
import { TrackingStoreHolder } from '../../src/experiments/trackingStoreHolder';
import {
  locateTrackingStore,
  mlflowClientEnv,
  mlflowClientUri,
  resolveTrackingStore,
  trackingServer,
} from '../../src/experiments/trackingStoreResolver';
import { MemorySecrets } from '../support/memorySecrets';

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const workspace = mkdtempSync(join(tmpdir(), 'mlops-resolver-'));
mkdirSync(join(workspace, 'project', 'mlruns'), { recursive: true });
writeFileSync(join(workspace, 'mlflow.db'), '');
after(() => rmSync(workspace, { recursive: true, force: true }));

test('a flag comes first, then the setting, then MLFLOW_TRACKING_URI, then the workspace', () => {
  const all = {
    flag: 'http://flag:5000',
    setting: 'http://setting:5000',
    env: { MLFLOW_TRACKING_URI: 'http://env:5000' },
    workspaceRoot: workspace,
  };
  assert.deepEqual(locateTrackingStore(all), { uri: 'http://flag:5000', source: 'command line' });
  assert.deepEqual(locateTrackingStore({ ...all, flag: ' ' }), { uri: 'http://setting:5000', source: 'setting' });
  assert.deepEqual(locateTrackingStore({ ...all, flag: undefined, setting: '' }), {
    uri: 'http://env:5000',
    source: 'MLFLOW_TRACKING_URI',
  });
  assert.deepEqual(locateTrackingStore({ ...all, flag: undefined, setting: undefined, env: {} }), {
    uri: join(workspace, 'mlflow.db'),
    source: 'workspace',
  });
  assert.equal(locateTrackingStore({ env: { MLFLOW_TRACKING_URI: '  ' } }), undefined, 'no source, no store');
});

test('the nearest store of the workspace is the one read', () => {
  const nested = mkdtempSync(join(tmpdir(), 'mlops-resolver-nested-'));
  try {
    mkdirSync(join(nested, 'a', 'mlruns'), { recursive: true });
    assert.deepEqual(locateTrackingStore({ env: {}, workspaceRoot: nested }), {
      uri: join(nested, 'a', 'mlruns'),
      source: 'workspace',
    });
  } finally {
    rmSync(nested, { recursive: true, force: true });
  }
});

test('MLFLOW_TRACKING_TOKEN goes to MLFLOW_TRACKING_URI only, a kept token to its own origin', async () => {
  const secrets = new MemorySecrets();
  await setHostSecret(secrets, 'trackingToken', 'https://b.example.com', 'token-b');
  const env = { MLFLOW_TRACKING_URI: 'https://a.example.com', MLFLOW_TRACKING_TOKEN: 'env-token' };

  const fromEnv = await resolveTrackingStore({ env, secrets, workspaceRoot: workspace });
  assert.deepEqual(fromEnv?.credentials, { token: 'env-token' });
  assert.equal(fromEnv?.base, workspace);

  const flagElsewhere = await resolveTrackingStore({ flag: 'https://c.example.com', env, secrets });
  assert.deepEqual(flagElsewhere?.credentials, {}, "the environment's token is not for a server it does not name");

  const settingB = await resolveTrackingStore({ setting: 'https://b.example.com/mlflow', env, secrets });
  assert.deepEqual(settingB?.credentials, { token: 'token-b' }, "B's kept token goes to B");

  const local = await resolveTrackingStore({ env: {}, secrets, workspaceRoot: workspace });
  assert.deepEqual(local?.credentials, {}, 'a local store gets no credentials');
});

test('a tracking server is what an alias can be moved on; a local store is not', async () => {
  const env = { MLFLOW_TRACKING_URI: 'http://a:5000', MLFLOW_TRACKING_TOKEN: 't' };
  assert.deepEqual(trackingServer(await resolveTrackingStore({ env })), { url: 'http://a:5000', token: 't' });
  assert.equal(trackingServer(await resolveTrackingStore({ env: {}, workspaceRoot: workspace })), undefined);
  assert.equal(trackingServer(undefined), undefined);
});

test("MLflow's client gets a local store as an absolute path, anything else as it is", () => {
  assert.equal(
    mlflowClientUri({ uri: 'sqlite:///mlflow.db', base: workspace }),
    `sqlite:///${join(workspace, 'mlflow.db')}`,
  );
  assert.equal(mlflowClientUri({ uri: 'project/mlruns', base: workspace }), join(workspace, 'project', 'mlruns'));
  assert.equal(mlflowClientUri({ uri: 'http://a:5000', base: workspace }), 'http://a:5000');
  assert.equal(mlflowClientUri({ uri: 'postgresql://db/mlflow', base: workspace }), 'postgresql://db/mlflow');
});

test("MLflow's own client gets the server's resolved credentials in its variables, and no others", () => {
  const env = { PATH: '/bin', MLFLOW_TRACKING_TOKEN: 'for-a', MLFLOW_TRACKING_USERNAME: 'ana' };
  assert.deepEqual(mlflowClientEnv('http://b:5000', {}, env), { PATH: '/bin' });
  assert.deepEqual(mlflowClientEnv('http://b:5000', { token: 'for-b' }, env), {
    PATH: '/bin',
    MLFLOW_TRACKING_TOKEN: 'for-b',
  });
  assert.deepEqual(mlflowClientEnv('http://b:5000', { username: 'bo', password: 'pw' }, env), {
    PATH: '/bin',
    MLFLOW_TRACKING_USERNAME: 'bo',
    MLFLOW_TRACKING_PASSWORD: 'pw',
  });
  assert.equal(mlflowClientEnv('sqlite:///mlflow.db', {}, env), env, 'a local store: the environment as it is');
});

test('the holder opens the store of the sources as they are now, and again after a reset', async () => {
  let setting = join(workspace, 'project', 'mlruns');
  const holder = new TrackingStoreHolder({
    sources: () => ({ setting, env: {}, workspaceRoot: workspace }),
    userTrackingUri: () => undefined,
    secrets: new MemorySecrets(),
    log: quiet,
  });
  const first = await holder.current();
  assert.deepEqual([first?.store.kind, first?.resolved.source], ['file', 'setting']);
  assert.equal(await holder.current(), first, 'kept until reset');
  setting = '';
  await holder.reset();
  const second = await holder.current();
  assert.deepEqual([second?.store.kind, second?.resolved.source], ['sqlite', 'workspace']);
  holder.dispose();
});

test('`mlops promote --mlflow` takes a tracking server only, refused before anything is promoted', async () => {
  const out = { stdout: '', stderr: '' };
  const io = { stdout: (text: string) => (out.stdout += text), stderr: (text: string) => (out.stderr += text) };
  const program = { name: 'mlops', version: '0', commands: [promoteCommand] };
  const args = ['promote', '--name', 'churn', '--variant', 'candidate', '--mlflow', 'sqlite:///mlflow.db'];
  assert.equal(await runCli(program, args, io), 2, 'a usage error');
  assert.match(out.stderr, /--mlflow takes the http\(s\) URL of a tracking server/);
  assert.equal(out.stdout, '');
});
