// The Docker Engine the deployment tests run against, and the images built offline for them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerCli, engineRequest, PYTHON_VERSIONS } from '../../scripts/lib/docker.mjs';
import { needService } from '../support/services';
import { dockerAvailable, testBaseImage, testBusyboxImage } from '../support/docker';

/** @returns [major, minor] of a version like "1.41". */
function apiVersion(version: string): [number, number] {
  const [major, minor] = version.split('.').map(Number);
  return [major, minor];
}

test('the Docker Engine answers /version with API 1.41 or newer', async (t) => {
  const engine = await dockerAvailable();
  if (!needService(t, engine.ok, engine.reason)) return;
  const { status, body } = await engineRequest('GET', '/version');
  assert.equal(status, 200);
  assert.match(body.ApiVersion, /^\d+\.\d+$/);
  const [major, minor] = apiVersion(body.ApiVersion);
  assert.ok(major > 1 || (major === 1 && minor >= 41), `API ${body.ApiVersion} is older than 1.41`);
  assert.ok(body.Version, 'the engine names its version');
});

test('the Python base image runs python3 with scikit-learn, pandas and numpy', async (t) => {
  const base = await testBaseImage();
  if (!needService(t, base.ok, base.reason)) return;
  const result = await dockerCli(['run', '--rm', '--network', 'none', base.image, 'python3', '-c', PYTHON_VERSIONS]);
  assert.equal(result.status, 0, result.stderr);
  const versions = JSON.parse(result.stdout) as Record<string, string>;
  if (process.env.MLOPS_TEST_BASE_IMAGE) {
    assert.match(versions.python, /^3\.\d+\.\d+$/);
    for (const library of ['sklearn', 'pandas', 'numpy'])
      assert.match(versions[library], /^\d+\.\d+/, `${library} ${versions[library]}`);
  } else {
    // Debian bookworm's packages, built offline by debootstrap.
    assert.match(base.image, /^mlops-test-python:[0-9a-f]{12}$/);
    assert.match(versions.python, /^3\.11\.\d+$/);
    assert.match(versions.sklearn, /^1\.2\.\d+$/);
    assert.match(versions.pandas, /^1\.5\.\d+$/);
    assert.match(versions.numpy, /^1\.24\.\d+$/);
  }
  // The image's default command is the interpreter.
  const { status, body } = await engineRequest('GET', `/images/${encodeURIComponent(base.image)}/json`);
  assert.equal(status, 200);
  assert.deepEqual(body.Config.Cmd, ['python3']);
});

test('the busybox image runs echo', async (t) => {
  const busybox = await testBusyboxImage();
  if (!needService(t, busybox.ok, busybox.reason)) return;
  const result = await dockerCli(['run', '--rm', '--network', 'none', busybox.image, 'echo', 'hello from busybox']);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, 'hello from busybox\n');
});
