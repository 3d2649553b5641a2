// How deployments read in the tree and the status bar.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatWhen,
  HEALTH_ICONS,
  revisionDescription,
  revisionIcon,
  revisionTooltip,
  serviceDescription,
  serviceTooltip,
  shortImage,
  sortRevisions,
  sortTasks,
  statusBarBackground,
  statusBarText,
  taskDescription,
  taskIcon,
  taskLabel,
} from '../../src/deploy/deployments/presentation';
import type { Task } from '../../src/deploy/targets/deployTarget';
import { revision, status } from '../support/deployments';

function task(id: string, fields: Partial<Task> = {}): Task {
  return {
    id,
    state: 'running',
    desiredState: 'running',
    node: 'node-1',
    image: 'mlops/churn_forest:v2',
    revision: 2,
    error: null,
    updatedAt: '2025-06-02T10:00:00Z',
    ...fields,
  };
}

test('a service shows replicas with health, its revision and its image', () => {
  assert.equal(serviceDescription(status()), '2/2 healthy · rev 2 · mlops/churn_forest:4f2a9c0d1e2f');
  assert.equal(
    serviceDescription(status({ health: 'converging', replicas: { running: 1, desired: 3 } })),
    '1/3 converging · rev 2 · mlops/churn_forest:4f2a9c0d1e2f',
  );
});

test('each health has its icon and colour, and the status bar a background only when unwell', () => {
  assert.deepEqual(HEALTH_ICONS.healthy, { icon: 'pass-filled', color: 'testing.iconPassed' });
  assert.equal(HEALTH_ICONS.converging.icon, 'sync~spin');
  assert.equal(HEALTH_ICONS.degraded.color, 'problemsWarningIcon.foreground');
  assert.equal(HEALTH_ICONS.failed.color, 'problemsErrorIcon.foreground');
  assert.equal(statusBarBackground('healthy'), undefined);
  assert.equal(statusBarBackground('converging'), undefined);
  assert.equal(statusBarBackground('degraded'), 'statusBarItem.warningBackground');
  assert.equal(statusBarBackground('failed'), 'statusBarItem.errorBackground');
});

test('the status bar reads "$(pulse) NAME: running/desired health"', () => {
  assert.equal(statusBarText(status()), '$(pulse) churn: 2/2 healthy');
  assert.equal(
    statusBarText(status({ health: 'failed', replicas: { running: 0, desired: 1 } })),
    '$(pulse) churn: 0/1 failed',
  );
});

test('the service tooltip lists endpoints and the orchestrator message, escaped', () => {
  const text = serviceTooltip(status({ message: 'update rolled back: task [x] failed' }), 'Local swarm');
  assert.match(text, /\*\*churn\*\* · healthy on Local swarm/);
  assert.match(text, /\[http:\/\/127\\\.0\\\.0\\\.1:8080\]\(http:\/\/127\.0\.0\.1:8080\) \(host\)/);
  assert.match(text, /\$\(info\) update rolled back: task \\\[x\\\] failed/);
  assert.match(serviceTooltip(status({ endpoints: [] }), 'Local swarm'), /Endpoints: none/);
});

test('images are shortened without losing what names them', () => {
  assert.equal(shortImage('docker.io/library/python:3.11-slim'), 'python:3.11-slim');
  assert.equal(shortImage('docker.io/ana/model:1'), 'ana/model:1');
  assert.equal(
    shortImage(`127.0.0.1:5000/mlops/churn@sha256:${'a1'.repeat(32)}`),
    '127.0.0.1:5000/mlops/churn@sha256:a1a1a1a1a1a1',
  );
  assert.equal(shortImage(`mlops/churn:v2@sha256:${'b2'.repeat(32)}`), 'mlops/churn:v2');
  assert.equal(shortImage('localhost:5000/churn'), 'localhost:5000/churn');
});

test('revisions mark the current and the stable one, with date, image and change cause', () => {
  assert.equal(
    revisionDescription(revision(2, { current: true, changeCause: 'more trees' })),
    'current · 2025-06-02 14:05 · mlops/churn_forest:v2 · more trees',
  );
  assert.equal(revisionDescription(revision(1, { stable: true })), 'stable · 2025-06-01 14:05 · mlops/churn_forest:v1');
  assert.deepEqual(revisionIcon({ current: true, stable: true }), { icon: 'check', color: 'testing.iconPassed' });
  assert.deepEqual(revisionIcon({ current: false, stable: true }), { icon: 'pinned' });
  assert.deepEqual(revisionIcon({ current: false, stable: false }), { icon: 'history' });
  const tooltip = revisionTooltip(revision(1, { gitCommit: 'abc123', current: true, stable: true }));
  assert.match(tooltip, /\*\*Revision 1\*\* · current, stable/);
  assert.match(tooltip, /Git commit: `abc123`/);
  assert.doesNotMatch(tooltip, /MLflow run/);
  assert.deepEqual(
    sortRevisions([revision(1), revision(3), revision(2)]).map((r) => r.revision),
    [3, 2, 1],
  );
});

test('dates read as UTC minutes, and what is no date stays as it is', () => {
  assert.equal(formatWhen('2025-06-01T14:05:09Z'), '2025-06-01 14:05');
  assert.equal(formatWhen('yesterday'), 'yesterday');
});

test('tasks show state, node and errors, the live ones first', () => {
  assert.equal(taskLabel(task('a')), 'running');
  assert.equal(taskLabel(task('a', { desiredState: 'shutdown' })), 'running → shutdown');
  assert.equal(taskLabel(task('a', { state: 'shutdown', desiredState: 'shutdown' })), 'shutdown');
  assert.equal(taskDescription(task('3kd9x0a1b2c3d4')), 'node-1 · rev 2 · 2025-06-02 10:00 · task 3kd9x0a1b2');
  assert.equal(
    taskDescription(
      task('x', { state: 'failed', desiredState: 'shutdown', error: 'task: non-zero exit (1)', revision: null }),
    ),
    'task: non-zero exit (1) · node-1 · 2025-06-02 10:00 · task x',
  );
  assert.equal(taskIcon(task('a')).icon, 'play-circle');
  assert.equal(taskIcon(task('a', { state: 'starting' })).icon, 'loading~spin');
  assert.equal(taskIcon(task('a', { state: 'failed' })).icon, 'error');
  assert.equal(taskIcon(task('a', { state: 'shutdown', error: 'unhealthy container' })).icon, 'warning');
  assert.equal(taskIcon(task('a', { state: 'complete' })).icon, 'circle-slash');
  const sorted = sortTasks([
    task('old-shutdown', { desiredState: 'shutdown', updatedAt: '2025-06-03T00:00:00Z' }),
    task('running-old', { updatedAt: '2025-06-01T00:00:00Z' }),
    task('running-new', { updatedAt: '2025-06-02T00:00:00Z' }),
  ]);
  assert.deepEqual(
    sorted.map((t) => t.id),
    ['running-new', 'running-old', 'old-shutdown'],
  );
});
