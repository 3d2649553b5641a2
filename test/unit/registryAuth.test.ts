// The pure parts of pushing to a registry: image references, registry keys as Docker matches them,
// config.json's base64 auth, and the messages for failed pushes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeRegistry, parseImageReference, registryHost } from '../../src/containerize/registry/imageReference';
import { pushFailure } from '../../src/containerize/registry/pushErrors';
import { registryReference } from '../../src/containerize/registry/pushImage';
import { decodeAuth, registryHostname, valueForRegistry } from '../../src/containerize/registry/registryAuth';
import { describeError, MlopsError } from '../../src/shared/errors';

const DIGEST = `sha256:${'a'.repeat(64)}`;

test('image references split into registry, repository, tag and digest as Docker splits them', () => {
  assert.deepEqual(parseImageReference('churn'), { repository: 'churn' });
  assert.deepEqual(parseImageReference('mlops/churn:abc'), { repository: 'mlops/churn', tag: 'abc' });
  assert.deepEqual(parseImageReference('127.0.0.1:5000/mlops/churn:1.0'), {
    domain: '127.0.0.1:5000',
    repository: 'mlops/churn',
    tag: '1.0',
  });
  assert.deepEqual(parseImageReference('localhost/churn'), { domain: 'localhost', repository: 'churn' });
  assert.deepEqual(parseImageReference(`ghcr.io/org/churn:v2@${DIGEST}`), {
    domain: 'ghcr.io',
    repository: 'org/churn',
    tag: 'v2',
    digest: DIGEST,
  });
  // Without a dot, a colon or localhost, the first component is part of the repository.
  assert.deepEqual(parseImageReference('team/churn'), { repository: 'team/churn' });
  for (const bad of ['Mlops/Churn', 'churn:', 'churn:bad tag', '/churn', 'churn@sha256:short', '']) {
    assert.throws(() => parseImageReference(bad), MlopsError, bad);
  }
  assert.throws(() => parseImageReference(DIGEST), /is an image ID; a push needs a name with a tag/);
});

test('registryReference re-homes an image in the registry, keeping its repository path and tag', () => {
  assert.equal(registryReference('mlops/churn:abc', '127.0.0.1:5000'), '127.0.0.1:5000/mlops/churn:abc');
  assert.equal(registryReference('churn', '127.0.0.1:5000'), '127.0.0.1:5000/churn:latest');
  assert.equal(
    registryReference('old.example.com:443/mlops/churn:abc', 'registry.example.com'),
    'registry.example.com/mlops/churn:abc',
  );
  assert.equal(registryReference('127.0.0.1:5000/mlops/churn:abc', '127.0.0.1:5000'), '127.0.0.1:5000/mlops/churn:abc');
  // A registry with a namespace: an image already under it stays where it is.
  assert.equal(registryReference('mlops/churn:abc', 'ghcr.io/team'), 'ghcr.io/team/mlops/churn:abc');
  assert.equal(registryReference('ghcr.io/team/churn:abc', 'ghcr.io/team/'), 'ghcr.io/team/churn:abc');
  assert.equal(
    registryReference('mlops/churn:abc', 'https://registry.example.com:5000/'),
    'registry.example.com:5000/mlops/churn:abc',
  );
  // A tag with a digest keeps the tag; a digest alone has no tag to push under.
  assert.equal(registryReference(`mlops/churn:abc@${DIGEST}`, '127.0.0.1:5000'), '127.0.0.1:5000/mlops/churn:abc');
  assert.throws(
    () => registryReference(`mlops/churn@${DIGEST}`, '127.0.0.1:5000'),
    /names an image by digest only; a push needs a tag/,
  );
});

test('a registry setting is host[:port][/namespace]', () => {
  assert.equal(normalizeRegistry(' http://127.0.0.1:5000 '), '127.0.0.1:5000');
  assert.equal(registryHost('ghcr.io/team'), 'ghcr.io');
  for (const bad of ['', 'host:port', 'reg istry', 'registry.example.com/Team', '-bad.example.com']) {
    assert.throws(() => normalizeRegistry(bad), /is not HOST\[:PORT\], optionally followed by \/NAMESPACE/, bad);
  }
});

test('Docker config keys name a registry loosely: scheme, path and Docker Hub aliases aside', () => {
  assert.equal(registryHostname('https://127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(registryHostname('127.0.0.1:5000/v1/'), '127.0.0.1:5000');
  assert.equal(registryHostname('http://Registry.Example.com:5000/v2/'), 'registry.example.com:5000');
  for (const hub of ['https://index.docker.io/v1/', 'docker.io', 'registry-1.docker.io'])
    assert.equal(registryHostname(hub), 'index.docker.io');

  const auths = {
    'https://index.docker.io/v1/': 'hub',
    'https://127.0.0.1:5000/v1/': 'loose',
    'registry.example.com': 'exact',
  };
  assert.equal(valueForRegistry(auths, '127.0.0.1:5000'), 'loose');
  assert.equal(valueForRegistry(auths, 'registry.example.com'), 'exact');
  assert.equal(valueForRegistry(auths, 'docker.io'), 'hub');
  assert.equal(valueForRegistry(auths, '127.0.0.1:5001'), undefined);
  assert.equal(
    valueForRegistry({ '127.0.0.1:5000': 'exact', 'https://127.0.0.1:5000': 'loose' }, '127.0.0.1:5000'),
    'exact',
  );
  assert.equal(valueForRegistry(undefined, '127.0.0.1:5000'), undefined);
});

test("config.json's auth is base64 of user:password, and the password may hold colons", () => {
  const encode = (text: string) => Buffer.from(text).toString('base64');
  assert.deepEqual(decodeAuth(encode('alice:s3cret')), { username: 'alice', password: 's3cret' });
  assert.deepEqual(decodeAuth(encode('alice:a:b:c')), { username: 'alice', password: 'a:b:c' });
  assert.deepEqual(decodeAuth(encode('alice:')), { username: 'alice', password: '' });
  assert.equal(decodeAuth(encode('no colon')), undefined);
  assert.equal(decodeAuth('not base64!'), undefined);
  assert.equal(decodeAuth(''), undefined);
});

test('failed pushes say what to do, and never show the password', () => {
  const context = { reference: 'reg.example.com/mlops/churn:1', host: 'reg.example.com' };
  const withUser = {
    ...context,
    credentials: { username: 'alice', password: 'hunter2', serveraddress: 'reg.example.com' },
  };

  const unreachable = pushFailure(
    'Get "https://reg.example.com/v2/": dial tcp: lookup reg.example.com: no such host',
    context,
  );
  assert.match(unreachable.message, /^Registry reg\.example\.com did not answer: .*no such host$/);
  assert.match(unreachable.remedy ?? '', /must reach reg\.example\.com/);

  assert.match(
    pushFailure('no basic auth credentials', context).message,
    /^Registry reg\.example\.com needs credentials to push reg\.example\.com\/mlops\/churn:1: /,
  );
  const refused = pushFailure('unauthorized: authentication required (hunter2)', withUser);
  assert.match(refused.message, /^Registry reg\.example\.com refused the push for user alice: unauthorized/);
  assert.ok(!describeError(refused).includes('hunter2'), describeError(refused));
  assert.match(refused.remedy ?? '', /"MLOps: Set Registry Credentials", or run docker login reg\.example\.com/);
  assert.match(pushFailure('denied: requested access to the resource is denied', context).message, /needs credentials/);

  const tls = pushFailure(
    'Get "https://reg.example.com/v2/": http: server gave HTTP response to HTTPS client',
    context,
  );
  assert.match(tls.message, /does not offer TLS that the Docker Engine trusts/);
  assert.match(tls.remedy ?? '', /insecure-registries/);

  assert.equal(
    pushFailure('blob upload unknown', context).message,
    'Pushing reg.example.com/mlops/churn:1 to reg.example.com failed: blob upload unknown',
  );
});
