// What the deploy and rollback commands offer, and what they accept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  defaultRollbackRevision,
  deploymentPicks,
  deployOutcome,
  endpointPort,
  ENTER_IMAGE_LABEL,
  imagePicks,
  publishedPorts,
  revisionPicks,
  rollbackOutcome,
  serviceNameFromImage,
  suggestHostPort,
  validateHostPort,
  validateReplicas,
  validateServiceName,
  type LocalImage,
} from '../../src/deploy/deployments/picks';
import type { DeployResult } from '../../src/deploy/targets/deployTarget';
import { revision, status } from '../support/deployments';

const model = (id: string, tag: string, created: number, notebook: string): LocalImage => ({
  id,
  tags: [tag],
  created,
  labels: {
    'mlops.context.hash': id.repeat(8),
    'mlops.notebook': notebook,
    'mlops.model.variable': 'clf',
    'mlops.git.commit': 'abcdef1234567890',
    'mlops.git.dirty': 'true',
  },
});

test('model images come first, newest first, then other images, then "Enter an image name…"', () => {
  const images: LocalImage[] = [
    { id: 'py', tags: ['python:3.11-slim'], created: 3000, labels: {} },
    model('a', 'mlops/churn_forest:aaaa', 1000, 'churn_forest.ipynb'),
    model('b', 'mlops/churn_forest:bbbb', 2000, 'churn_forest.ipynb'),
    { id: 'none', tags: ['<none>:<none>'], created: 4000, labels: {} },
    { id: 'untagged', tags: [], created: 5000, labels: { 'mlops.context.hash': 'x' } },
  ];
  const picks = imagePicks(images);
  assert.deepEqual(
    picks.map((p) => p.image ?? p.label),
    ['mlops/churn_forest:bbbb', 'mlops/churn_forest:aaaa', 'python:3.11-slim', ENTER_IMAGE_LABEL],
  );
  assert.equal(picks[0]!.label, '$(package) mlops/churn_forest:bbbb');
  assert.equal(picks[0]!.description, 'churn_forest.ipynb · model clf');
  assert.match(picks[0]!.detail!, /^built 1970-01-01 00:33 · commit abcdef12 \(with local changes\)$/);
  assert.equal(picks[2]!.label, '$(file-binary) python:3.11-slim');
});

test('the images of the notebook the command came from come before other model images', () => {
  const picks = imagePicks(
    [model('a', 'mlops/house:new', 2000, 'house_prices.ipynb'), model('b', 'mlops/churn:old', 1000, 'nb/churn.ipynb')],
    { notebook: 'nb/churn.ipynb' },
  );
  assert.deepEqual(picks.map((p) => p.image).slice(0, 2), ['mlops/churn:old', 'mlops/house:new']);
});

test('the image Containerise built last comes first, saying so', () => {
  const images = [
    model('a', 'mlops/churn:new', 2000, 'churn.ipynb'),
    model('b', 'mlops/churn:old', 1000, 'churn.ipynb'),
  ];
  const picks = imagePicks(images, { lastBuilt: 'mlops/churn:old' });
  assert.deepEqual(picks.map((p) => p.image).slice(0, 2), ['mlops/churn:old', 'mlops/churn:new']);
  assert.equal(picks[0]!.description, 'last built · churn.ipynb · model clf');
  assert.deepEqual(
    imagePicks(images, { lastBuilt: 'gone:1' })
      .map((p) => p.image)
      .slice(0, 2),
    ['mlops/churn:new', 'mlops/churn:old'],
  );
});

test('an image with several tags gives one item per tag; other images are capped', () => {
  const picks = imagePicks(
    [
      { id: 'x', tags: ['a:1', 'b:2'], created: 1, labels: {} },
      { id: 'y', tags: ['c:3'], created: 0, labels: {} },
    ],
    { otherLimit: 1 },
  );
  assert.deepEqual(picks.map((p) => p.image).filter(Boolean), ['a:1', 'b:2']);
});

test('the service name defaults to the image repository, made DNS-safe', () => {
  assert.equal(serviceNameFromImage('mlops/churn_forest:4f2a9c0d1e2f'), 'churn-forest');
  assert.equal(serviceNameFromImage('127.0.0.1:5000/team/Fraud.Model@sha256:abcd'), 'fraud-model');
  assert.equal(serviceNameFromImage('localhost:5000/x'), 'x');
  assert.equal(serviceNameFromImage('__:1'), 'model');
  assert.equal(serviceNameFromImage(`${'a'.repeat(47)}_b`).length, 47);
  for (const image of ['mlops/churn_forest:1', 'A__B', `${'long-'.repeat(20)}:1`])
    assert.equal(validateServiceName(serviceNameFromImage(image)), undefined, image);
});

test('service names: lower-case letters, digits and dashes', () => {
  assert.equal(validateServiceName('churn-2'), undefined);
  assert.match(validateServiceName('')!, /needed/);
  assert.match(validateServiceName('Churn')!, /Lower-case/);
  assert.match(validateServiceName('churn_forest')!, /dashes/);
  assert.match(validateServiceName('-churn')!, /starting and ending/);
  assert.match(validateServiceName('churn-')!, /starting and ending/);
  assert.match(validateServiceName('a'.repeat(49))!, /48/);
});

test('replicas: whole numbers, at least one to deploy, zero allowed to scale', () => {
  assert.equal(validateReplicas('1'), undefined);
  assert.equal(validateReplicas(' 3 '), undefined);
  assert.match(validateReplicas('0')!, /At least 1/);
  assert.equal(validateReplicas('0', 0), undefined);
  assert.match(validateReplicas('1.5')!, /whole/);
  assert.match(validateReplicas('-1', 0)!, /whole/);
  assert.match(validateReplicas('1001')!, /1000/);
});

test('host ports: 1 to 65535, or empty for none', () => {
  assert.equal(validateHostPort(''), undefined);
  assert.equal(validateHostPort('8080'), undefined);
  assert.match(validateHostPort('0')!, /65535/);
  assert.match(validateHostPort('70000')!, /65535/);
  assert.match(validateHostPort('80a')!, /port number/);
});

test('the suggested host port skips ports deployments publish and ports in use', async () => {
  const taken = publishedPorts([
    status(),
    status({ name: 'b', endpoints: [{ url: 'http://node:8081/', publishMode: 'ingress' }] }),
    status({ name: 'c', endpoints: [] }),
  ]);
  assert.deepEqual([...taken].sort(), [8080, 8081]);
  assert.equal(await suggestHostPort(taken, async (port) => port !== 8082), 8083);
  assert.equal(await suggestHostPort(new Set(), async () => false), undefined);
  assert.equal(endpointPort('http://127.0.0.1'), 80);
  assert.equal(endpointPort('not a url'), undefined);
});

test('deployments to pick name their target only when there are several targets', () => {
  const one = deploymentPicks([{ targetId: 'local', targetName: 'Local swarm', status: status() }]);
  assert.deepEqual(one[0], {
    label: '$(rocket) churn',
    description: '2/2 healthy · rev 2',
    detail: 'mlops/churn_forest:4f2a9c0d1e2f',
    ref: one[0]!.ref,
  });
  const two = deploymentPicks([
    { targetId: 'remote:staging', targetName: 'staging', status: status({ name: 'zeta' }) },
    { targetId: 'local', targetName: 'Local swarm', status: status({ name: 'alpha' }) },
  ]);
  assert.deepEqual(
    two.map((p) => p.label),
    ['$(rocket) alpha', '$(rocket) zeta'],
  );
  assert.match(two[1]!.description, /^staging · /);
});

test('revisions to pick: newest first, with date, image and change cause; the current one says it serves', () => {
  const history = [
    revision(1, { stable: true, changeCause: 'first model' }),
    revision(2, { current: true }),
    revision(3, { changeCause: 'broken' }),
  ];
  const picks = revisionPicks(history);
  assert.deepEqual(
    picks.map((p) => p.label),
    ['$(history) Revision 3', '$(check) Revision 2', '$(pinned) Revision 1'],
  );
  assert.equal(picks[1]!.description, 'current: serving now · 2025-06-02 14:05');
  assert.equal(picks[2]!.description, 'stable · 2025-06-01 14:05');
  assert.equal(picks[2]!.detail, 'mlops/churn_forest:v1 · “first model” · by ana@laptop');
  assert.equal(picks[1]!.detail, 'mlops/churn_forest:v2 · no change cause · by ana@laptop');
  assert.equal(defaultRollbackRevision(history), 3);
  assert.equal(defaultRollbackRevision([revision(1), revision(2, { current: true })]), 1);
  assert.equal(defaultRollbackRevision([revision(1, { current: true })]), undefined);
});

function result(fields: Partial<DeployResult> = {}): DeployResult {
  return {
    status: status(),
    revision: revision(2, { current: true, image: 'mlops/churn_forest:4f2a9c0d1e2f' }),
    rolledBack: false,
    ...fields,
  };
}

test('a deploy ends with what serves, or why the previous version still does', () => {
  assert.deepEqual(deployOutcome(result(), 'Local swarm'), {
    severity: 'info',
    message: 'Deployed churn revision 2 (mlops/churn_forest:4f2a9c0d1e2f) on Local swarm: 2/2 healthy.',
  });
  const rolledBack = deployOutcome(
    result({
      rolledBack: true,
      revision: revision(3, { image: 'mlops/broken:1' }),
      status: status({ revision: 2, message: 'revision 3 failed (task: non-zero exit (1))' }),
    }),
    'Local swarm',
  );
  assert.equal(rolledBack.severity, 'error');
  assert.equal(
    rolledBack.message,
    'Revision 3 of churn (mlops/broken:1) failed and was rolled back: revision 2 (mlops/churn_forest:4f2a9c0d1e2f) still serves. revision 3 failed (task: non-zero exit (1))',
  );
  assert.match(
    deployOutcome(result({ rolledBack: true, status: status({ message: null }) }), 'x').message,
    /gave no reason/,
  );
  const degraded = deployOutcome(
    result({
      status: status({ health: 'degraded', replicas: { running: 1, desired: 2 }, message: 'one task keeps failing' }),
    }),
    'Local swarm',
  );
  assert.deepEqual(degraded, {
    severity: 'warning',
    message:
      'Deployed churn revision 2 (mlops/churn_forest:4f2a9c0d1e2f) on Local swarm: 1/2 degraded. one task keeps failing',
  });
});

test('a rollback says which revision serves now', () => {
  const back = rollbackOutcome(
    result({
      revision: revision(1, { current: true }),
      status: status({ revision: 1, image: 'mlops/churn_forest:v1', replicas: { running: 1, desired: 1 } }),
    }),
    1,
  );
  assert.deepEqual(back, {
    severity: 'info',
    message: 'Rolled back churn to revision 1 (mlops/churn_forest:v1): 1/1 healthy.',
  });
  const failed = rollbackOutcome(result({ rolledBack: true, status: status({ message: 'no space left' }) }), 1);
  assert.equal(failed.severity, 'error');
  assert.match(
    failed.message,
    /^Rolling churn back to revision 1 failed and was undone: revision 2 .* still serves\. no space left$/,
  );
});
