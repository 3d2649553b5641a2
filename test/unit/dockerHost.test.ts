import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerOptions } from '../../src/containerize/docker/dockerClient';

test('Docker hosts of every form are read as the engine they name', () => {
  assert.deepEqual(dockerOptions('unix:///run/user/1000/docker.sock', {}), {
    socketPath: '/run/user/1000/docker.sock',
  });
  assert.deepEqual(dockerOptions('tcp://10.0.0.5:2375', {}), { host: '10.0.0.5', port: 2375, protocol: 'http' });
  assert.deepEqual(dockerOptions('tcp://engine', {}), { host: 'engine', port: 2375, protocol: 'http' });
  assert.deepEqual(dockerOptions('https://engine', {}), { host: 'engine', port: 2376, protocol: 'https' });
  assert.deepEqual(dockerOptions('ssh://deploy@staging:2222', {}), {
    protocol: 'ssh',
    host: 'staging',
    port: 2222,
    username: 'deploy',
  });
  assert.deepEqual(dockerOptions(undefined, { DOCKER_HOST: 'ssh://staging' }), {
    protocol: 'ssh',
    host: 'staging',
    port: 22,
    username: undefined,
  });
});

test('a malformed Docker host is refused with the value, the reason and the forms it may take', () => {
  const cases: [string, RegExp][] = [
    [
      'tcp://127.0.0.1:notaport',
      /'tcp:\/\/127\.0\.0\.1:notaport' .*: the port 'notaport' is not a number from 1 to 65535\./,
    ],
    ['tcp://127.0.0.1:0', /the port '0' is not a number from 1 to 65535/],
    ['ssh://deploy@staging:99999', /'ssh:\/\/\*\*\*@staging:99999' .*the port '99999'/],
    ['ftp://engine', /ftp:\/\/ is not a scheme for a Docker Engine/],
    ['localhost:2375', /'localhost:2375' .*: it has no scheme/],
    ['tcp://', /it names no host/],
    ['unix://', /it names no socket/],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => dockerOptions(value, {}),
      (error: Error & { remedy?: string }) => {
        assert.equal(error.name, 'MlopsError');
        assert.match(error.message, message);
        assert.match(error.message, /\(--docker-host or mlops\.dockerHost\)/);
        assert.match(
          error.remedy ?? '',
          /unix:\/\/\/var\/run\/docker\.sock, tcp:\/\/HOST:2375 .* or ssh:\/\/ with USER@HOST\[:PORT\]/,
        );
        return true;
      },
      value,
    );
  }
  assert.throws(() => dockerOptions(undefined, { DOCKER_HOST: 'tcp://h:x' }), /'tcp:\/\/h:x' \(DOCKER_HOST\)/);
});

test('a password in a Docker host is refused and never shown', () => {
  for (const value of [
    'ssh://deploy:s3cret@staging',
    'ssh://deploy:s3/c@et@staging:notaport',
    'tcp://deploy:s3cret@engine:2375',
  ]) {
    assert.throws(
      () => dockerOptions(value, {}),
      (error: Error & { remedy?: string }) => {
        assert.doesNotMatch(`${error.message} ${error.remedy}`, /s3/);
        return true;
      },
      value,
    );
  }
});
