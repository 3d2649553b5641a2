// Credentials stay with their server: user info in URIs is never shown, and tokens are kept and
// sent per origin.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../../src/shared/cliFramework';
import { serverRequest, trackingCredentials } from '../../src/experiments/trackingAuth';
import { describeError, MlopsError } from '../../src/shared/errors';
import {
  hostSecret,
  hostSecretKey,
  migrateUnkeyedSecret,
  secretOrigin,
  setHostSecret,
} from '../../src/shared/hostSecrets';
import type { Logger } from '../../src/shared/logger';
import { redactUserInfo } from '../../src/shared/redact';
import { MemorySecrets } from '../support/memorySecrets';

function memoryLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

test('user info is redacted from every URI in a text, and nothing else changes', () => {
  const cases: [string, string][] = [
    ['http://user:password@host:5000/api', 'http://***@host:5000/api'],
    ['tcp://ana:s3cret@docker.example.com:2376', 'tcp://***@docker.example.com:2376'],
    // A raw '@' in the password: URL parsers take the last one before the host.
    ['https://ana:p@ss@grafana.example.com/', 'https://***@grafana.example.com/'],
    ['https://ghp_token@example.com/repo.git', 'https://***@example.com/repo.git'],
    ['ssh://deploy@swarm-manager', 'ssh://***@swarm-manager'],
    ['cannot reach http://a:b@x and http://c:d@y.', 'cannot reach http://***@x and http://***@y.'],
    ['sqlite:///data/a@b.db', 'sqlite:///data/a@b.db'],
    ['http://host/path@not-user-info', 'http://host/path@not-user-info'],
    ['http://host:80 then mail@example.com', 'http://host:80 then mail@example.com'],
    ['registry.example.com/team/image@sha256:abc', 'registry.example.com/team/image@sha256:abc'],
  ];
  for (const [text, expected] of cases) assert.equal(redactUserInfo(text), expected, text);
});

test('MlopsError, describeError and the CLI never show a URI password', async () => {
  const error = new MlopsError(
    'The tracking server at http://ana:hunter2@h cannot be reached.',
    'Check http://ana:hunter2@h.',
  );
  assert.doesNotMatch(`${error.message} ${error.remedy}`, /hunter2/);
  assert.doesNotMatch(describeError(new TypeError('fetch failed for http://ana:hunter2@h/api')), /hunter2/);
  let stderr = '';
  const code = await runCli(
    {
      name: 'mlops',
      version: '0',
      commands: [
        {
          name: 'boom',
          summary: 's',
          usage: 'boom',
          options: {},
          run: async () =>
            Promise.reject(
              new TypeError(
                'Request cannot be constructed from a URL that includes credentials: http://ana:hunter2@h/',
              ),
            ),
        },
      ],
    },
    ['boom'],
    { stdout: () => undefined, stderr: (text) => (stderr += text) },
  );
  assert.equal(code, 1);
  assert.match(stderr, /http:\/\/\*\*\*@h\//);
  assert.doesNotMatch(stderr, /hunter2/);
});

test('a secret belongs to an origin: scheme, host and port, without user info or path', () => {
  assert.equal(secretOrigin('https://mlflow.example.com/some/path?x=1'), 'https://mlflow.example.com');
  assert.equal(secretOrigin('HTTPS://MLflow.Example.com:443/'), 'https://mlflow.example.com');
  assert.equal(secretOrigin('http://ana:pw@127.0.0.1:5000'), 'http://127.0.0.1:5000');
  assert.equal(
    hostSecretKey('trackingToken', 'https://a.example.com/mlflow'),
    'mlops.trackingToken:https://a.example.com',
  );
  assert.equal(
    hostSecretKey('grafanaToken', 'http://localhost:3000/grafana'),
    'mlops.grafanaToken:http://localhost:3000',
  );
  assert.notEqual(
    hostSecretKey('trackingToken', 'http://a.example.com'),
    hostSecretKey('trackingToken', 'https://a.example.com'),
  );
  assert.notEqual(
    hostSecretKey('trackingToken', 'https://a.example.com'),
    hostSecretKey('trackingToken', 'https://a.example.com:8443'),
  );
  assert.throws(
    () => secretOrigin('sqlite:///mlflow.db'),
    (e: unknown) => e instanceof MlopsError && /not an http\(s\) URL/.test(e.message),
  );
  assert.throws(
    () => secretOrigin('http://ana:pw@'),
    (e: unknown) => e instanceof MlopsError && !e.message.includes('pw'),
  );
});

test('a token set for one server is never given to another', async () => {
  const secrets = new MemorySecrets();
  assert.equal(
    await setHostSecret(secrets, 'trackingToken', 'https://a.example.com/mlflow', 'token-a'),
    'https://a.example.com',
  );
  assert.equal(await hostSecret(secrets, 'trackingToken', 'https://a.example.com:443/other'), 'token-a');
  assert.equal(await hostSecret(secrets, 'trackingToken', 'https://b.example.com'), undefined);
  assert.equal(await hostSecret(secrets, 'grafanaToken', 'https://a.example.com'), undefined, 'kinds do not mix');
  assert.deepEqual(await trackingCredentials('https://a.example.com', { env: {}, secrets }), { token: 'token-a' });
  assert.deepEqual(await trackingCredentials('https://b.example.com', { env: {}, secrets }), {});
  assert.deepEqual(
    await trackingCredentials('sqlite:///mlflow.db', { env: { MLFLOW_TRACKING_TOKEN: 'env' }, secrets }),
    {},
    'a local store gets nothing',
  );
  await setHostSecret(secrets, 'trackingToken', 'https://a.example.com', '');
  assert.equal(
    await hostSecret(secrets, 'trackingToken', 'https://a.example.com'),
    undefined,
    'an empty token forgets it',
  );
});

test("MLflow's variables go to MLFLOW_TRACKING_URI's server only, or to any when it names none", async () => {
  const secrets = new MemorySecrets();
  await setHostSecret(secrets, 'trackingToken', 'https://b.example.com', 'token-b');
  const env = { MLFLOW_TRACKING_URI: 'https://a.example.com', MLFLOW_TRACKING_TOKEN: 'env-token' };
  assert.deepEqual(await trackingCredentials('https://a.example.com/', { env, secrets }), { token: 'env-token' });
  assert.deepEqual(await trackingCredentials('https://b.example.com', { env, secrets }), { token: 'token-b' });
  assert.deepEqual(await trackingCredentials('https://c.example.com', { env, secrets }), {});
  assert.deepEqual(
    await trackingCredentials('https://c.example.com', { env: { MLFLOW_TRACKING_TOKEN: 'env-token' } }),
    { token: 'env-token' },
  );
  assert.deepEqual(
    await trackingCredentials('https://a.example.com', {
      env: { MLFLOW_TRACKING_USERNAME: 'ana', MLFLOW_TRACKING_PASSWORD: 'pw' },
    }),
    { username: 'ana', password: 'pw' },
  );
});

test('user info in a server URL is basic auth to that URL, and leaves the URL', () => {
  const fromUrl = serverRequest('http://ana:p%40ss@127.0.0.1:5000/mlflow', {});
  assert.equal(fromUrl.base.href, 'http://127.0.0.1:5000/mlflow');
  assert.equal(fromUrl.authorization, `Basic ${Buffer.from('ana:p@ss').toString('base64')}`);
  assert.equal(
    serverRequest('http://ana:pw@127.0.0.1:5000', { token: 't' }).authorization,
    'Bearer t',
    'given credentials come first',
  );
  assert.equal(serverRequest('http://127.0.0.1:5000', {}).authorization, undefined);
  assert.throws(
    () => serverRequest('http://ana:pw@', {}),
    (e: unknown) => e instanceof MlopsError && /not a valid URL/.test(e.message) && !e.message.includes('pw'),
  );
});

test("a token kept without a host moves to the server of the user's own settings, or is dropped with a log line", async () => {
  const moved = new MemorySecrets();
  moved.values.set('mlops.trackingToken', 'old');
  const log = memoryLog();
  await migrateUnkeyedSecret(moved, 'trackingToken', 'https://a.example.com/mlflow', log);
  assert.deepEqual([...moved.values], [['mlops.trackingToken:https://a.example.com', 'old']]);
  assert.match(log.lines.join('\n'), /now kept for https:\/\/a\.example\.com/);
  assert.doesNotMatch(log.lines.join('\n'), /old/, 'the token is never logged');

  for (const userUrl of [undefined, 'sqlite:///mlflow.db', 'not a url']) {
    const dropped = new MemorySecrets();
    dropped.values.set('mlops.grafanaToken', 'old');
    const dropLog = memoryLog();
    await migrateUnkeyedSecret(dropped, 'grafanaToken', userUrl, dropLog);
    assert.equal(dropped.values.size, 0, String(userUrl));
    assert.match(
      dropLog.lines.join('\n'),
      /^warn .*Grafana token stored without a host was removed.*Set Grafana Token/,
    );
  }

  const kept = new MemorySecrets();
  kept.values.set('mlops.trackingToken', 'old');
  kept.values.set('mlops.trackingToken:https://a.example.com', 'new');
  await migrateUnkeyedSecret(kept, 'trackingToken', 'https://a.example.com', memoryLog());
  assert.deepEqual(
    [...kept.values],
    [['mlops.trackingToken:https://a.example.com', 'new']],
    "the host's own token wins",
  );

  const nothing = new MemorySecrets();
  const quiet = memoryLog();
  await migrateUnkeyedSecret(nothing, 'trackingToken', 'https://a.example.com', quiet);
  assert.deepEqual(quiet.lines, []);
});
