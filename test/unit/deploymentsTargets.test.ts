// The deploy targets of the Deployments view: settings, opening on demand, diagnosis of a target
// that cannot list, and live updates from events with polling as the fallback.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { classifySwarm } from '../../src/deploy/deployments/engine';
import { LiveUpdates, type WatchEvents } from '../../src/deploy/deployments/live';
import { isDeploymentNode, nodeDeployment, nodeTargetId } from '../../src/deploy/deployments/nodes';
import { deployTargets, inNamespace, targetKey } from '../../src/deploy/deployments/targetConfig';
import { TargetRegistry, withTimeout } from '../../src/deploy/deployments/targets';
import type { DeployTarget } from '../../src/deploy/targets/deployTarget';
import { MlopsError } from '../../src/shared/errors';
import { revision, status } from '../support/deployments';

test('the local swarm comes first, then the valid remote targets; the others are named', () => {
  const { targets, problems } = deployTargets(' unix:///run/docker.sock ', [
    { name: 'staging', dockerHost: 'ssh://deploy@staging' },
    { name: 'prod', dockerHost: 'tcp://10.0.0.5:2376' },
    { name: 'Staging', dockerHost: 'tcp://x:2375' },
    { name: '', dockerHost: 'tcp://x:2375' },
    { name: 'bad', dockerHost: 'x:2375' },
    'nope',
    { name: 'gke', kubernetes: { context: 'gke_prod', namespace: 'models' } },
    { name: 'kind', kubernetes: { context: 7 } },
  ]);
  assert.deepEqual(targets, [
    { id: 'local', name: 'Local swarm', kind: 'swarm', dockerHost: 'unix:///run/docker.sock', local: true },
    { id: 'remote:staging', name: 'staging', kind: 'swarm', dockerHost: 'ssh://deploy@staging', local: false },
    { id: 'remote:prod', name: 'prod', kind: 'swarm', dockerHost: 'tcp://10.0.0.5:2376', local: false },
    {
      id: 'kubernetes:gke',
      name: 'gke',
      kind: 'kubernetes',
      dockerHost: '',
      local: false,
      kubernetes: { context: 'gke_prod', namespace: 'models', kubeconfig: '' },
    },
  ]);
  assert.equal(problems.length, 5);
  assert.match(problems[4]!, /\[7\] \(kind\): "kubernetes\.context" must be text/);
  const browsed = inNamespace(targets[3]!, 'team-b');
  assert.deepEqual(
    [browsed.id, browsed.kubernetes?.namespace, browsed.kubernetes?.context],
    ['kubernetes:gke#team-b', 'team-b', 'gke_prod'],
  );
  assert.notEqual(targetKey(browsed), targetKey(targets[3]!));
  assert.match(problems[0]!, /mlops\.deployTargets\[2\].*"Staging" is used twice/);
  assert.match(problems[1]!, /\[3\] has no "name"/);
  assert.match(problems[2]!, /\[4\] \(bad\): "dockerHost" must be/);
  assert.match(problems[3]!, /\[5\] is not an object/);
  assert.deepEqual(deployTargets('', undefined), {
    targets: [{ id: 'local', name: 'Local swarm', kind: 'swarm', dockerHost: '', local: true }],
    problems: [],
  });
  assert.match(deployTargets('', { name: 'x' }).problems[0]!, /not a list/);
});

const fakeTarget = (location: string): DeployTarget => ({ kind: 'swarm', location }) as DeployTarget;

test('targets open once, reopen when their host changes, and a failed open is retried', async () => {
  const opened: string[] = [];
  let fail = true;
  const registry = new TargetRegistry(async (config) => {
    opened.push(config.dockerHost);
    if (config.id === 'remote:flaky' && fail) throw new MlopsError('no engine');
    return fakeTarget(config.dockerHost);
  });
  registry.configure(deployTargets('', [{ name: 'flaky', dockerHost: 'tcp://flaky:2375' }]).targets);
  const [local, flaky] = registry.list();
  assert.equal(await registry.get(local!), await registry.get(local!));
  await assert.rejects(registry.get(flaky!), /no engine/);
  fail = false;
  assert.equal((await registry.get(flaky!)).location, 'tcp://flaky:2375');
  registry.configure(deployTargets('unix:///other.sock', []).targets);
  assert.equal((await registry.get(registry.find('local')!)).location, 'unix:///other.sock');
  assert.deepEqual(opened, ['', 'tcp://flaky:2375', 'tcp://flaky:2375', 'unix:///other.sock']);
  assert.notEqual(targetKey(local!), targetKey(registry.find('local')!));
});

test('a slow engine times out with a message naming it', async () => {
  await assert.rejects(
    withTimeout(new Promise(() => undefined), 20, 'The Docker Engine of staging'),
    (error: unknown) => error instanceof MlopsError && /staging did not answer within 0 s/.test(error.message),
  );
  assert.equal(await withTimeout(Promise.resolve(3), 1000, 'x'), 3);
});

test('a target that cannot list says whether the swarm is missing, a worker, or something else', () => {
  assert.equal(classifySwarm('/var/run/docker.sock', { LocalNodeState: 'inactive' }, new Error('x')).kind, 'notSwarm');
  assert.equal(classifySwarm('/var/run/docker.sock', undefined, new Error('x')).kind, 'notSwarm');
  assert.equal(
    classifySwarm('h', { LocalNodeState: 'active', ControlAvailable: false }, new Error('x')).kind,
    'notManager',
  );
  assert.deepEqual(classifySwarm('h', { LocalNodeState: 'error', Error: 'raft broke' }, new Error('x')), {
    kind: 'error',
    message: 'The swarm of h is error: raft broke.',
  });
  assert.deepEqual(
    classifySwarm('h', { LocalNodeState: 'active', ControlAvailable: true }, new MlopsError('boom', 'fix it')),
    { kind: 'error', message: 'boom fix it' },
  );
});

test('tree nodes lead commands to their deployment and target', () => {
  const service = { kind: 'service', targetId: 'local', targetName: 'Local swarm', status: status() } as const;
  const rev = { kind: 'revision', targetId: 'remote:x', name: 'churn', revision: revision(1) } as const;
  assert.deepEqual(nodeDeployment(service), { targetId: 'local', name: 'churn' });
  assert.deepEqual(nodeDeployment(rev), { targetId: 'remote:x', name: 'churn' });
  assert.equal(nodeDeployment({ kind: 'empty', targetId: 'local' }), undefined);
  assert.equal(nodeTargetId(rev), 'remote:x');
  assert.equal(
    nodeTargetId({ kind: 'problem', message: 'm', command: { id: 'mlops.initSwarm', title: 't', targetId: 'local' } }),
    'local',
  );
  assert.equal(isDeploymentNode(service), true);
  assert.equal(isDeploymentNode({ image: 'x' }), false);
  assert.equal(isDeploymentNode({ notebookEditor: {} }), false);
  assert.equal(isDeploymentNode(undefined), false);
});

function live(t: TestContext, watch: WatchEvents, wanted = () => true) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const changes: number[] = [];
  const warnings: string[] = [];
  const updates = new LiveUpdates({
    watchEvents: watch,
    onChange: () => changes.push(Date.now()),
    pollMs: () => 10_000,
    wanted,
    log: { info: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
    debounceMs: 300,
    safetyMs: 120_000,
  });
  t.after(() => updates.dispose());
  return { updates, changes, warnings };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('events refresh the view, coalesced, and no polling happens while they flow', async (t) => {
  let emit = () => undefined as void;
  let signal: AbortSignal | undefined;
  const { updates, changes } = live(t, async (_target, onChange, s) => {
    emit = onChange;
    signal = s;
    return true;
  });
  updates.watch('local', 'Local swarm', fakeTarget('sock'));
  await settle();
  assert.equal(updates.followsEvents('local'), true);
  emit();
  emit();
  t.mock.timers.tick(299);
  assert.equal(changes.length, 0);
  t.mock.timers.tick(1);
  assert.equal(changes.length, 1, 'two events, one refresh');
  t.mock.timers.tick(60_000);
  assert.equal(changes.length, 1, 'no polling while events flow');
  t.mock.timers.tick(60_000);
  assert.equal(changes.length, 2, 're-read every 2 minutes anyway, in case the stream died with its daemon');
  updates.watch('local', 'Local swarm', fakeTarget('sock'));
  assert.equal(signal?.aborted, false, 'a followed target is not watched twice');
  updates.retain(new Set());
  assert.equal(signal?.aborted, true, 'a target no longer configured stops being followed');
});

test('without events the view is polled while someone looks, and events are tried again', async (t) => {
  let attempts = 0;
  let available = false;
  let looking = true;
  const { updates, changes, warnings } = live(
    t,
    async () => {
      attempts++;
      return available;
    },
    () => looking,
  );
  updates.watch('local', 'Local swarm', fakeTarget('sock'));
  await settle();
  assert.equal(updates.followsEvents('local'), false);
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0]!,
    /no change events from Local swarm \(the target offers no change stream\); polling every 10 s/,
  );
  t.mock.timers.tick(10_000);
  assert.equal(changes.length, 1);
  looking = false;
  t.mock.timers.tick(10_000);
  assert.equal(changes.length, 1, 'no polling while nobody looks');
  looking = true;
  updates.watch('local', 'Local swarm', fakeTarget('sock'));
  await settle();
  assert.equal(attempts, 2);
  assert.equal(warnings.length, 1, 'the fallback is logged once');
  available = true;
  updates.watch('local', 'Local swarm', fakeTarget('sock'));
  await settle();
  assert.equal(updates.followsEvents('local'), true);
  t.mock.timers.tick(30_000);
  assert.equal(changes.length, 1, 'polling stops once events flow again');
});

test('a watcher that throws falls back to polling', async (t) => {
  const { updates, warnings } = live(t, () => {
    throw new Error('events unsupported');
  });
  updates.watch('a', 'A', fakeTarget('a'));
  await settle();
  assert.equal(updates.followsEvents('a'), false);
  assert.match(warnings[0]!, /events unsupported/);
});

test('a watcher that rejects falls back to polling', async (t) => {
  const { updates, warnings, changes } = live(t, async () => Promise.reject(new MlopsError('stream refused')));
  updates.watch('b', 'B', fakeTarget('b'));
  await settle();
  await settle();
  assert.equal(updates.followsEvents('b'), false);
  assert.match(warnings[0]!, /stream refused/);
  t.mock.timers.tick(10_000);
  assert.equal(changes.length, 1);
});

test('an unreachable target is polled until it answers, then followed by events', async (t) => {
  let attempts = 0;
  const { updates, changes } = live(t, async () => {
    attempts++;
    return true;
  });
  updates.unreachable('local', 'Local swarm', 'no engine');
  updates.unreachable('local', 'Local swarm', 'no engine');
  t.mock.timers.tick(10_000);
  t.mock.timers.tick(10_000);
  assert.equal(changes.length, 2, 'one poll every 10 s');
  updates.watch('local', 'Local swarm', fakeTarget('sock'));
  await settle();
  assert.equal(attempts, 1);
  assert.equal(updates.followsEvents('local'), true);
  t.mock.timers.tick(30_000);
  assert.equal(changes.length, 2, 'no polling once events flow');
});
