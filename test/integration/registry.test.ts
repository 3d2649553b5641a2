// Pushing images to a real registry (Debian's docker-registry, Distribution 2.8) with the real
// engine: digests, htpasswd authentication, unreachable and untrusted registries, cancellation, and
// credentials read from a Docker config and a credential helper.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import Dockerode from 'dockerode';
import { freePort } from '../../scripts/lib/codeServer.mjs';
import { dockerCli } from '../../scripts/lib/docker.mjs';
import { startRegistry, type Registry } from '../../scripts/lib/registry.mjs';
import { pushImage } from '../../src/containerize/registry/pushImage';
import { credentialsFor, type RegistryCredentials } from '../../src/containerize/registry/registryAuth';
import { describeError, MlopsError } from '../../src/shared/errors';
import { dockerAvailable, testBusyboxImage } from '../support/docker';
import { registryAvailable } from '../support/registry';
import { needService } from '../support/services';

const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });
/** The busybox test image goes by this name, as a model image would. */
const LOCAL_REPOSITORY = 'mlops-test/registry-push';
const USER = 'alice';
const PASSWORD = 'correct-horse-battery';
const WRONG_PASSWORD = 'wrong-pony-staple';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The busybox image under `mlops-test/registry-push:<tag>`, or undefined when the test was skipped. */
async function localImage(
  t: TestContext,
  tag: string,
  needs: () => Promise<{ ok: boolean; reason: string }> = registryAvailable,
): Promise<string | undefined> {
  const available = await needs();
  if (!needService(t, available.ok, available.reason)) return undefined;
  const busybox = await testBusyboxImage();
  if (!needService(t, busybox.ok, busybox.reason)) return undefined;
  await docker.getImage(busybox.image).tag({ repo: LOCAL_REPOSITORY, tag });
  t.after(() => forgetNames(`${LOCAL_REPOSITORY}:${tag}`));
  return `${LOCAL_REPOSITORY}:${tag}`;
}

/** A registry that stops, and whose names leave the engine, when the test ends. */
async function started(t: TestContext, options: Parameters<typeof startRegistry>[0] = {}): Promise<Registry> {
  const registry = await startRegistry(options);
  t.after(async () => {
    await registry.stop();
    await forgetNames(`${registry.host}/`);
  });
  return registry;
}

/** Removes the tags and digests starting with `prefix` from the busybox image (the image stays). */
async function forgetNames(prefix: string): Promise<void> {
  const busybox = await testBusyboxImage();
  const { RepoTags = [], RepoDigests = [] } = await docker.getImage(busybox.image).inspect();
  for (const name of [...RepoTags, ...RepoDigests].filter((n) => n.startsWith(prefix))) {
    await docker
      .getImage(name)
      .remove()
      .catch(() => {});
  }
}

function credentials(host: string, password = PASSWORD): RegistryCredentials {
  return { username: USER, password, serveraddress: host };
}

/** Asserts an MlopsError whose message matches, and which shows none of the passwords. */
function mlopsError(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof MlopsError, `not an MlopsError: ${String(error)}`);
    assert.match(error.message, pattern);
    const shown = describeError(error);
    for (const secret of [PASSWORD, WRONG_PASSWORD])
      assert.ok(!shown.includes(secret), `the message shows a password: ${shown}`);
    return true;
  };
}

test('a push to a registry without auth returns the digest the registry serves, and the engine pulls and runs that digest', async (t) => {
  const image = await localImage(t, 'v1');
  if (!image) return;
  const registry = await started(t);
  const progress: { message: string; fraction?: number }[] = [];
  const startedAt = Date.now();
  const pushed = await pushImage(docker, image, registry.host, {
    onProgress: (message, fraction) => progress.push({ message, fraction }),
  });
  t.diagnostic(`pushed in ${Date.now() - startedAt} ms`);

  assert.equal(pushed.reference, `${registry.host}/${LOCAL_REPOSITORY}:v1`);
  assert.match(pushed.digest, new RegExp(`^${escape(registry.host)}/${LOCAL_REPOSITORY}@sha256:[a-f0-9]{64}$`));
  assert.deepEqual(await registry.catalog(), [LOCAL_REPOSITORY]);
  assert.equal(await registry.manifestDigest(LOCAL_REPOSITORY, 'v1'), pushed.digest.split('@')[1]);

  assert.ok(
    progress.some((p) => /: pushing layer [0-9a-f]{12}, [\d.]+ of [\d.]+ MB$/.test(p.message)),
    progress.map((p) => p.message).join('\n'),
  );
  const fractions = progress.map((p) => p.fraction).filter((f) => f !== undefined);
  assert.deepEqual(
    fractions,
    [...fractions].sort((a, b) => a - b),
    'the fraction only grows',
  );
  assert.equal(fractions.at(-1), 1);

  const pull = await dockerCli(['pull', pushed.digest]);
  assert.equal(pull.status, 0, pull.stderr);
  const run = await dockerCli(['run', '--rm', '--network', 'none', pushed.digest, 'echo', 'by digest']);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'by digest\n');

  const again: string[] = [];
  const repushed = await pushImage(docker, image, registry.host, { onProgress: (message) => again.push(message) });
  assert.equal(repushed.digest, pushed.digest, 'the same image pushed again has the same digest');
  assert.ok(
    again.some((message) => message.endsWith('already exists')),
    again.join('\n'),
  );
});

test('a registry with htpasswd auth takes the right credentials, and says whom it refused', async (t) => {
  const image = await localImage(t, 'auth');
  if (!image) return;
  const registry = await started(t, { auth: { username: USER, password: PASSWORD } });
  const host = registry.host;

  await t.test('without credentials: it needs credentials', async () => {
    await assert.rejects(
      pushImage(docker, image, host),
      mlopsError(
        new RegExp(`^Registry ${escape(host)} needs credentials to push ${escape(host)}/${LOCAL_REPOSITORY}:auth: `),
      ),
    );
  });

  await t.test('a wrong password: refused for the user, with the remedy', async () => {
    await assert.rejects(
      pushImage(docker, image, host, { credentials: credentials(host, WRONG_PASSWORD) }),
      (error: unknown) => {
        mlopsError(new RegExp(`^Registry ${escape(host)} refused the push for user ${USER}: .*unauthorized`))(error);
        const { remedy = '' } = error as MlopsError;
        assert.match(remedy, /"MLOps: Set Registry Credentials"/);
        assert.match(remedy, new RegExp(`docker login ${escape(host)}`));
        return true;
      },
    );
    assert.deepEqual(await registry.catalog(), []);
  });

  await t.test('the right credentials: pushed', async () => {
    const pushed = await pushImage(docker, image, host, { credentials: credentials(host) });
    assert.deepEqual(await registry.catalog(), [LOCAL_REPOSITORY]);
    assert.equal(await registry.manifestDigest(LOCAL_REPOSITORY, 'auth'), pushed.digest.split('@')[1]);
  });

  await t.test('credentials from a Docker config and from a credential helper push too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-docker-config-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        auths: { [`https://${host}/v1/`]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } },
      }),
    );
    const fromFile = await credentialsFor(host, { dockerConfigPath: configFile, env: {} });
    assert.deepEqual(fromFile, credentials(host));
    await pushImage(docker, image, host, { credentials: fromFile! });

    const env = withHelper(dir, 'mlopstest', host, PASSWORD);
    writeFileSync(configFile, JSON.stringify({ credHelpers: { [host]: 'mlopstest' } }));
    const fromHelper = await credentialsFor(host, { dockerConfigPath: configFile, env });
    assert.deepEqual(fromHelper, credentials(host));
    await pushImage(docker, image, host, { credentials: fromHelper! });
  });
});

test('a registry that nobody listens on did not answer', async (t) => {
  const image = await localImage(t, 'unreachable', dockerAvailable);
  if (!image) return;
  const host = `127.0.0.1:${await freePort()}`;
  t.after(() => forgetNames(`${host}/`));
  await assert.rejects(
    pushImage(docker, image, host),
    mlopsError(new RegExp(`^Registry ${escape(host)} did not answer: .*connection refused`)),
  );
});

test('a plain-HTTP registry off loopback is refused by the engine for want of TLS, with the insecure-registries remedy', async (t) => {
  const image = await localImage(t, 'tls');
  if (!image) return;
  const address = Object.values(networkInterfaces())
    .flat()
    .find((net) => net && net.family === 'IPv4' && !net.internal)?.address;
  if (!needService(t, address !== undefined, 'this machine has no IPv4 address besides loopback')) return;
  const registry = await started(t, { address: address! });
  await assert.rejects(pushImage(docker, image, registry.host), (error: unknown) => {
    mlopsError(
      new RegExp(
        `^Registry ${escape(registry.host)} does not offer TLS that the Docker Engine trusts: .*HTTP response to HTTPS client`,
      ),
    )(error);
    assert.match((error as MlopsError).remedy ?? '', /insecure-registries/);
    return true;
  });
});

test('an image the engine does not have is named', async (t) => {
  const available = await dockerAvailable();
  if (!needService(t, available.ok, available.reason)) return;
  await assert.rejects(
    pushImage(docker, 'mlops-test/never-built:1', '127.0.0.1:5000'),
    mlopsError(/^No image mlops-test\/never-built:1 in the engine\.$/),
  );
});

test('a cancelled push stops with a message', async (t) => {
  const image = await localImage(t, 'cancel');
  if (!image) return;
  const registry = await started(t);
  const controller = new AbortController();
  await assert.rejects(
    pushImage(docker, image, registry.host, { signal: controller.signal, onProgress: () => controller.abort() }),
    mlopsError(new RegExp(`^The push of ${escape(registry.host)}/${LOCAL_REPOSITORY}:cancel was cancelled\\.$`)),
  );
});

/** A `docker-credential-<name>` on a PATH of its own that knows one server's password, as helpers do. */
function withHelper(dir: string, name: string, server: string, password: string): NodeJS.ProcessEnv {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const helper = join(bin, `docker-credential-${name}`);
  writeFileSync(
    helper,
    [
      '#!/bin/sh',
      'read -r server',
      `if [ "$1" = get ] && [ "$server" = '${server}' ]; then`,
      `  printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${password}"}\\n' "$server"`,
      'else',
      '  echo "credentials not found in native keychain"',
      '  exit 1',
      'fi',
      '',
    ].join('\n'),
  );
  chmodSync(helper, 0o755);
  return { PATH: `${bin}:${process.env.PATH ?? ''}` };
}

test('credentialsFor looks in SecretStorage, then the Docker config: helpers, then auths, with keys matched as Docker does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-docker-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const host = '127.0.0.1:5000';
  const configFile = join(dir, 'config.json');
  const auth = (user: string, password: string) => ({ auth: Buffer.from(`${user}:${password}`).toString('base64') });
  const env = withHelper(dir, 'mlopstest', host, 'from-helper');

  await t.test('no config file: none', async () => {
    assert.equal(await credentialsFor(host, { dockerConfigPath: join(dir, 'missing.json'), env }), undefined);
  });

  await t.test('auths under a URL key, in $DOCKER_CONFIG', async () => {
    writeFileSync(
      configFile,
      JSON.stringify({
        auths: { [`http://${host}/v1/`]: auth(USER, 'p:with:colons'), 'other.example.com': auth('bob', 'x') },
      }),
    );
    assert.deepEqual(await credentialsFor(host, { env: { DOCKER_CONFIG: dir } }), {
      username: USER,
      password: 'p:with:colons',
      serveraddress: host,
    });
    assert.equal(await credentialsFor('127.0.0.1:5001', { env: { DOCKER_CONFIG: dir } }), undefined);
  });

  await t.test('an identity token', async () => {
    writeFileSync(
      configFile,
      JSON.stringify({
        auths: { [host]: { auth: Buffer.from(`${USER}:`).toString('base64'), identitytoken: 'refresh-token' } },
      }),
    );
    assert.deepEqual(await credentialsFor(host, { dockerConfigPath: configFile }), {
      username: USER,
      password: '',
      serveraddress: host,
      identitytoken: 'refresh-token',
    });
  });

  await t.test('SecretStorage comes first', async () => {
    const fromSecrets = async (registry: string) =>
      registry === host ? { username: 'stored', password: 'secret', serveraddress: host } : undefined;
    assert.equal((await credentialsFor(host, { fromSecrets, dockerConfigPath: configFile }))?.username, 'stored');
  });

  await t.test('credHelpers for the registry, and credsStore, ask the helper with the server on stdin', async () => {
    writeFileSync(
      configFile,
      JSON.stringify({ credHelpers: { [`https://${host}`]: 'mlopstest' }, auths: { [host]: auth(USER, 'from-file') } }),
    );
    assert.deepEqual(await credentialsFor(host, { dockerConfigPath: configFile, env }), {
      username: USER,
      password: 'from-helper',
      serveraddress: host,
    });
    writeFileSync(
      configFile,
      JSON.stringify({
        credsStore: 'mlopstest',
        auths: { [host]: {}, 'registry.example.com': auth('bob', 'from-file') },
      }),
    );
    assert.deepEqual(await credentialsFor(host, { dockerConfigPath: configFile, env }), {
      username: USER,
      password: 'from-helper',
      serveraddress: host,
    });
    // The helper has nothing for this one ("credentials not found"): the file's entry is used.
    assert.deepEqual(await credentialsFor('registry.example.com', { dockerConfigPath: configFile, env }), {
      username: 'bob',
      password: 'from-file',
      serveraddress: 'registry.example.com',
    });
  });

  await t.test('a helper that is not installed is named', async () => {
    writeFileSync(configFile, JSON.stringify({ credsStore: 'mlops-not-installed' }));
    await assert.rejects(
      credentialsFor(host, { dockerConfigPath: configFile, env }),
      mlopsError(/docker-credential-mlops-not-installed, which .*config\.json names, is not on the PATH/),
    );
  });

  await t.test('a broken config is named without quoting it', async () => {
    const secret = auth(USER, PASSWORD).auth;
    writeFileSync(configFile, `{"auths": {"${host}": {"auth": "${secret}"}},}`);
    await assert.rejects(credentialsFor(host, { dockerConfigPath: configFile }), (error: unknown) => {
      mlopsError(/config\.json is not valid JSON\.$/)(error);
      assert.ok(!describeError(error).includes(secret), 'the message quotes the file');
      return true;
    });
    writeFileSync(configFile, JSON.stringify({ auths: { [host]: { auth: 'not base64!' } } }));
    await assert.rejects(
      credentialsFor(host, { dockerConfigPath: configFile }),
      mlopsError(/"auth" of 127\.0\.0\.1:5000 in .*config\.json is not base64 of user:password/),
    );
  });
});
