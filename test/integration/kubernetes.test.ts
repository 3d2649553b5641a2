// Deployments on a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager
// and kube-scheduler built from their Go modules, kwok as the kubelet): deploy, update, history,
// rollback like `kubectl rollout undo`, a rollout that passes its deadline, RBAC, kubeconfig
// errors, a registry with a pull secret, YAML apply with a dry run, watches and the CLI.
import assert from 'node:assert/strict';
import { delimiter, join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { freePort } from '../../scripts/lib/codeServer.mjs';
import { apiRequest, UNPULLABLE_IMAGE } from '../../scripts/lib/kubernetes.mjs';
import { startRegistry } from '../../scripts/lib/registry.mjs';
import { runCli } from '../../src/shared/cliFramework';
import { deployCommand, historyCommand, removeCommand, rollbackCommand, statusCommand } from '../../src/deploy/cli';
import type { DeploymentStatus } from '../../src/deploy/targets/deployTarget';
import { listContexts } from '../../src/deploy/targets/kubernetes/kubeconfig';
import { openKubernetesTarget, type KubernetesTarget } from '../../src/deploy/targets/kubernetes/kubernetesTarget';
import { checkEnvironment } from '../../src/environment/checks';
import { describeError } from '../../src/shared/errors';
import { testBusyboxImage } from '../support/docker';
import { controlPlane, writeKubeconfig, type ControlPlane } from '../support/kubernetes';
import { registryAvailable } from '../support/registry';
import { needService } from '../support/services';

let plane: ControlPlane | undefined;
let unavailable = '';
let target: KubernetesTarget;

before(async () => {
  const started = await controlPlane();
  if (!started.ok) {
    unavailable = started.reason;
    return;
  }
  plane = started.plane;
  target = await openKubernetesTarget({ kubeconfig: plane.kubeconfig });
});

after(async () => {
  await plane?.stop();
});

function ready(t: TestContext): boolean {
  return needService(t, Boolean(plane), unavailable);
}

async function templateImage(name: string, namespace = 'default'): Promise<string> {
  const deployment = await target.inNamespace(namespace).exportManifests(name);
  return (deployment[0] as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec
    .containers[0]!.image;
}

describe('deploy, history and rollback on a real control plane', { timeout: 300_000 }, () => {
  test('a deploy, an update, two revisions, rollback to revision 1 and to a named revision, a stable pin', async (t) => {
    if (!ready(t)) return;
    const progress: string[] = [];
    const first = await target.deploy(
      { name: 'churn', image: 'mlops-test/churn:1', replicas: 2, changeCause: 'first model' },
      { onProgress: ({ message }) => progress.push(message) },
    );
    assert.equal(first.rolledBack, false);
    assert.equal(first.status.revision, 1);
    assert.equal(first.status.health, 'healthy');
    assert.deepEqual(first.status.replicas, { running: 2, desired: 2 });
    assert.ok(
      progress.some((message) =>
        /new replicas updated|updated replicas available|waiting for the controller/.test(message),
      ),
      progress.join('\n'),
    );

    const second = await target.deploy({
      name: 'churn',
      image: 'mlops-test/churn:2',
      replicas: 2,
      changeCause: 'retrained on November data',
    });
    assert.equal(second.status.revision, 2);
    assert.equal(await templateImage('churn'), 'mlops-test/churn:2');
    const history = await target.history('churn');
    assert.deepEqual(
      history.map((r) => [r.revision, r.image, r.changeCause, r.current]),
      [
        [1, 'mlops-test/churn:1', 'first model', false],
        [2, 'mlops-test/churn:2', 'retrained on November data', true],
      ],
    );
    assert.match(history[0]!.deployedBy, /@/);

    await target.pinStable('churn', 2);
    const back = await target.rollback('churn');
    assert.equal(back.rolledBack, false);
    assert.equal(await templateImage('churn'), 'mlops-test/churn:1', 'the template has the first image again');
    // As with kubectl rollout undo, revision 1's template comes back as revision 3.
    const afterUndo = await target.history('churn');
    assert.deepEqual(
      afterUndo.map((r) => [r.revision, r.image, r.changeCause, r.current, r.stable]),
      [
        [2, 'mlops-test/churn:2', 'retrained on November data', false, true],
        [3, 'mlops-test/churn:1', 'first model', true, false],
      ],
    );
    const named = await target.rollback('churn', 2);
    assert.equal(named.revision.image, 'mlops-test/churn:2');
    assert.equal(named.revision.stable, true, 'the stable pin follows the template, not the number');
    assert.equal(await templateImage('churn'), 'mlops-test/churn:2');
    await assert.rejects(target.rollback('churn', 9), /churn has no revision 9 \(revisions: 3, 4\)/);

    const pods = await target.tasks('churn');
    assert.equal(pods.filter((pod) => pod.state === 'running').length, 2, JSON.stringify(pods));
    assert.ok(
      pods.filter((pod) => pod.state === 'running').every((pod) => pod.node === 'kwok-node-0' && pod.revision === 4),
      JSON.stringify(pods),
    );
    const events = await target.events('churn');
    assert.ok(
      events.some((event) => event.reason === 'ScalingReplicaSet'),
      JSON.stringify(events.slice(0, 3)),
    );

    const scaled = await target.scale('churn', 3);
    assert.deepEqual(scaled.replicas, { running: 3, desired: 3 });
    const exported = await target.exportManifests('churn');
    assert.deepEqual(
      exported.map((object) => object.kind),
      ['Deployment', 'Service'],
    );
    assert.equal(exported[0]!.metadata?.managedFields, undefined);
    assert.equal((exported[0] as { status?: unknown }).status, undefined);
  });

  test('a rollout that never gets ready passes its deadline, is rolled back, and the events say why', async (t) => {
    if (!ready(t)) return;
    await target.deploy({ name: 'deadline', image: 'mlops-test/churn:1' });
    const result = await target.deploy({
      name: 'deadline',
      image: UNPULLABLE_IMAGE,
      progressDeadlineSeconds: 5,
      changeCause: 'broken',
    });
    assert.equal(result.rolledBack, true);
    assert.deepEqual(
      [result.revision.revision, result.revision.image, result.status.revision],
      [2, UNPULLABLE_IMAGE, 3],
      'the failed revision is reported; the first template serves as revision 3',
    );
    assert.match(
      result.status.message ?? '',
      /revision 2 failed \(.*progress deadline.*ImagePullBackOff.*Failed to pull image/s,
    );
    assert.equal(await templateImage('deadline'), 'mlops-test/churn:1', 'the previous template serves again');
    assert.equal(result.status.health, 'healthy');
    // A first deploy that never gets ready has nothing to roll back to: it is reported.
    await assert.rejects(
      target.deploy({ name: 'never-ready', image: UNPULLABLE_IMAGE, progressDeadlineSeconds: 5 }),
      (error: Error) => {
        assert.match(
          describeError(error),
          /never-ready did not become ready.*ImagePullBackOff.*nothing to roll back to/s,
        );
        return true;
      },
    );
  });
});

describe('namespaces, YAML apply and watches', { timeout: 300_000 }, () => {
  test('another namespace is browsed and deployed to without switching context', async (t) => {
    if (!ready(t)) return;
    await target.applyObjects([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b' } }], false);
    assert.ok((await target.namespaces()).includes('team-b'));
    const teamB = target.inNamespace('team-b');
    await teamB.deploy({ name: 'fraud', image: 'mlops-test/fraud:1' });
    assert.deepEqual(
      (await teamB.list()).map((d) => d.name),
      ['fraud'],
    );
    assert.ok(!(await target.list()).some((d) => d.name === 'fraud'));
    await teamB.remove('fraud');
    assert.deepEqual(await teamB.list(), []);
  });

  test('an autoscaler comes and goes with the deploy, and logs say plainly when the node keeps none', async (t) => {
    if (!ready(t)) return;
    await target.deploy({
      name: 'scaled',
      image: 'mlops-test/churn:1',
      autoscale: { minReplicas: 1, maxReplicas: 4, cpuPercent: 60 },
    });
    assert.deepEqual(
      (await target.exportManifests('scaled')).map((object) => object.kind),
      ['Deployment', 'Service', 'HorizontalPodAutoscaler'],
    );
    await target.deploy({ name: 'scaled', image: 'mlops-test/churn:2' });
    assert.deepEqual(
      (await target.exportManifests('scaled')).map((object) => object.kind),
      ['Deployment', 'Service'],
    );
    const lines: string[] = [];
    await target.logs('scaled', { tail: 10, onLine: (line) => lines.push(line) });
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /no logs from scaled-[a-z0-9]+-[a-z0-9]+: .*kwok's, gives none/);
    await target.remove('scaled');
  });

  test('a dry run shows an object before and after, and changes nothing until applied', async (t) => {
    if (!ready(t)) return;
    const config: KubernetesObject & { data: Record<string, string> } = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'thresholds' },
      data: { churn: '0.5' },
    };
    const dry = await target.applyObjects([config], true);
    assert.equal(dry[0]!.before, null);
    assert.deepEqual((dry[0]!.after as { data?: unknown }).data, { churn: '0.5' });
    assert.equal((await target.applyObjects([config], true))[0]!.before, null, 'the dry run created nothing');
    await target.applyObjects([config], false);
    const changed = await target.applyObjects([{ ...config, data: { churn: '0.7' } } as KubernetesObject], true);
    assert.deepEqual((changed[0]!.before as { data?: unknown }).data, { churn: '0.5' });
    assert.deepEqual((changed[0]!.after as { data?: unknown }).data, { churn: '0.7' });
    await assert.rejects(
      target.applyObjects([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }], true),
      /has no metadata\.name/,
    );
  });

  test('a watch reports a change made by someone else', async (t) => {
    if (!ready(t)) return;
    await target.deploy({ name: 'watched', image: 'mlops-test/churn:1' });
    const abort = new AbortController();
    let changes = 0;
    assert.equal(await target.watch(() => changes++, abort.signal), true);
    const other = await openKubernetesTarget({ kubeconfig: plane!.kubeconfig });
    await other.scale('watched', 2);
    for (let i = 0; i < 50 && changes === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    abort.abort();
    assert.ok(changes > 0);
    await target.remove('watched');
    await assert.rejects(target.status('watched'), /No deployment named watched in mlops-test · default/);
  });
});

describe('a short remote timeout on a real control plane', { timeout: 300_000 }, () => {
  test('with a 1 s timeout, calls are answered, a rollout is followed past it, and a watch outlives it', async (t) => {
    if (!ready(t)) return;
    const quick = await openKubernetesTarget({ kubeconfig: plane!.kubeconfig, timeoutMs: 1000 });
    // The rollout is followed by a watch, which waits for the pods longer than the timeout.
    const deployed = await quick.deploy({ name: 'patient', image: 'mlops-test/churn:1', replicas: 2 });
    assert.equal(deployed.rolledBack, false);
    assert.equal(deployed.status.health, 'healthy');
    assert.ok(Array.isArray(await quick.list()));
    const abort = new AbortController();
    let changes = 0;
    try {
      assert.equal(await quick.watch(() => changes++, abort.signal), true);
      // Three times the timeout with nothing to report: no watch is cut (each would be opened again, one more call).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const calls = quick.apiCalls;
      const before = changes;
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(quick.apiCalls, calls, 'no watch was opened again');
      await target.scale('patient', 1);
      for (let i = 0; i < 50 && changes === before; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(changes > before, 'the watch still reports a change after 3 s of quiet');
    } finally {
      abort.abort();
      await target.remove('patient');
    }
  });
});

describe('registry, credentials and a pull secret', { timeout: 300_000 }, () => {
  test('the image is pushed, the pods run it by digest, and a pull secret holds the stored credentials', async (t) => {
    if (!ready(t)) return;
    const available = await registryAvailable();
    if (!needService(t, available.ok, available.reason)) return;
    const image = await testBusyboxImage();
    if (!needService(t, image.ok, image.reason)) return;
    const registry = await startRegistry({ auth: { username: 'alice', password: 'right-password' } });
    try {
      const withCredentials = await openKubernetesTarget({
        kubeconfig: plane!.kubeconfig,
        credentials: async () => ({ username: 'alice', password: 'right-password', serveraddress: registry.host }),
      });
      const result = await withCredentials.deploy({ name: 'pushed', image: image.image, registry: registry.host });
      assert.match(result.revision.digest ?? '', /@sha256:[0-9a-f]{64}$/);
      const [deployment] = await withCredentials.exportManifests('pushed');
      const pod = (
        deployment as {
          spec: { template: { spec: { containers: { image: string }[]; imagePullSecrets?: { name: string }[] } } };
        }
      ).spec.template.spec;
      assert.equal(pod.containers[0]!.image, result.revision.digest);
      const secretName = pod.imagePullSecrets?.[0]?.name ?? '';
      assert.match(secretName, /^mlops-registry-127-0-0-1-\d+$/);
      const secret = await apiRequest(
        plane!.server,
        plane!.adminToken,
        'GET',
        `/api/v1/namespaces/default/secrets/${secretName}`,
      );
      const data = (JSON.parse(secret.text) as { data: Record<string, string> }).data;
      const config = JSON.parse(Buffer.from(data['.dockerconfigjson']!, 'base64').toString()) as {
        auths: Record<string, { username: string }>;
      };
      assert.equal(config.auths[registry.host]?.username, 'alice');
      assert.equal(deployment!.metadata?.annotations?.['mlops.dev/image-digest'], result.revision.digest);
    } finally {
      await registry.stop();
    }
  });
});

describe('errors users meet', { timeout: 120_000 }, () => {
  test('a token without rights gets a clear 403 message, not a stack trace', async (t) => {
    if (!ready(t)) return;
    const kubeconfig = writeKubeconfig(plane!, 'viewer.yaml', plane!.server, plane!.viewerToken, 'viewer-context');
    const viewer = await openKubernetesTarget({ kubeconfig });
    await assert.rejects(viewer.list(), (error: Error) => {
      const text = describeError(error);
      assert.match(
        text,
        /Kubernetes refused to list deployments in default on context "viewer-context" .*\(403 Forbidden\): deployments\.apps is forbidden: User "viewer" cannot list resource "deployments"/,
      );
      assert.match(text, /Ask a cluster admin for a Role that allows it for "viewer-context"/);
      assert.doesNotMatch(text, /\n\s+at /);
      return true;
    });
    assert.deepEqual(await viewer.namespaces(), ['default'], 'without the right to list namespaces, its own is shown');
  });

  test('a bad kubeconfig, a missing context and an unreachable server are named', async (t) => {
    if (!ready(t)) return;
    const broken = join(plane!.dir, 'broken.yaml');
    writeFileSync(broken, 'apiVersion: v1\nclusters: [oops\n');
    await assert.rejects(
      openKubernetesTarget({ kubeconfig: broken }),
      new RegExp(`The kubeconfig ${broken.replace(/[.]/g, '\\.')} cannot be read`),
    );
    await assert.rejects(
      openKubernetesTarget({ kubeconfig: join(plane!.dir, 'nothing.yaml') }),
      /No kubeconfig was found \(looked for .*nothing\.yaml\)/,
    );
    await assert.rejects(openKubernetesTarget({ kubeconfig: plane!.kubeconfig, context: 'prod' }), (error: Error) => {
      assert.match(describeError(error), /has no context "prod"\. Its contexts are: mlops-test\./);
      return true;
    });
    const nowhere = `https://127.0.0.1:${await freePort()}`;
    const offline = await openKubernetesTarget({
      kubeconfig: writeKubeconfig(plane!, 'offline.yaml', nowhere, 'x', 'offline'),
    });
    await assert.rejects(
      offline.list(),
      new RegExp(
        `The Kubernetes API server of context "offline" \\(${nowhere.replace(/[.]/g, '\\.')}\\) cannot be reached \\(ECONNREFUSED`,
      ),
    );
  });

  test('the environment check (mlops doctor) reaches the API server of the current context', async (t) => {
    if (!ready(t)) return;
    const kube = (
      await checkEnvironment({ kubeconfig: plane!.kubeconfig, dockerHost: 'tcp://127.0.0.1:9', env: {} })
    ).find((check) => check.id === 'kubernetes')!;
    assert.equal(kube.status, 'ok', kube.detail);
    assert.match(kube.detail, /current context mlops-test \(https:\/\/127\.0\.0\.1:\d+\), Kubernetes v1\.35\.4/);
    const offline = writeKubeconfig(
      plane!,
      'doctor-offline.yaml',
      `https://127.0.0.1:${await freePort()}`,
      'x',
      'gone',
    );
    const unreachable = (
      await checkEnvironment({ kubeconfig: offline, dockerHost: 'tcp://127.0.0.1:9', env: {} })
    ).find((check) => check.id === 'kubernetes')!;
    assert.equal(unreachable.status, 'warning');
    assert.match(unreachable.detail, /current context gone .*cannot be reached \(ECONNREFUSED/);
  });

  test('a multi-file KUBECONFIG lists the contexts of every file', async (t) => {
    if (!ready(t)) return;
    const second = writeKubeconfig(plane!, 'second.yaml', plane!.server, plane!.adminToken, 'second', 'team-c');
    const both = [plane!.kubeconfig, second].join(delimiter);
    assert.deepEqual(
      (await listContexts(both)).map((c) => [c.name, c.namespace, c.current]),
      [
        ['mlops-test', 'default', true],
        ['second', 'team-c', false],
      ],
    );
    const viaSecond = await openKubernetesTarget({ kubeconfig: both, context: 'second' });
    assert.equal(viaSecond.location, 'second · team-c');
    assert.ok(Array.isArray(await viaSecond.list()));
  });
});

describe('the command line against the control plane', { timeout: 300_000 }, () => {
  test('deploy, status, history, rollback and remove print the same JSON as on Swarm', async (t) => {
    if (!ready(t)) return;
    const program = {
      name: 'mlops',
      version: '0',
      commands: [deployCommand, statusCommand, historyCommand, rollbackCommand, removeCommand],
    };
    const flags = [
      '--target',
      'kubernetes',
      '--kubeconfig',
      plane!.kubeconfig,
      '--context',
      'mlops-test',
      '--namespace',
      'default',
      '--json',
    ];
    const cli = async (...args: string[]) => {
      let out = '';
      let err = '';
      const code = await runCli(program, [...args, ...flags], {
        stdout: (text) => (out += text),
        stderr: (text) => (err += text),
      });
      return { code, json: out ? (JSON.parse(out) as unknown) : undefined, err };
    };
    const deployed = await cli('deploy', '--name', 'cli-model', '--image', 'mlops-test/churn:1');
    assert.equal(deployed.code, 0, deployed.err);
    assert.deepEqual(Object.keys(deployed.json as object).sort(), ['revision', 'rolledBack', 'status']);
    assert.equal(
      (
        await cli(
          'deploy',
          '--name',
          'cli-model',
          '--image',
          'mlops-test/churn:2',
          '--change-cause',
          'v2',
          '--autoscale',
          '1:3:60',
        )
      ).code,
      0,
    );
    assert.match(
      (await cli('deploy', '--name', 'cli-model', '--image', 'x:1', '--autoscale', '3:1')).err,
      /--autoscale takes MIN:MAX\[:CPU%\] with 1 <= MIN <= MAX, not '3:1'/,
    );
    const history = (await cli('history', '--name', 'cli-model')).json as {
      revision: number;
      changeCause: string;
      current: boolean;
    }[];
    assert.deepEqual(
      history.map((r) => Object.keys(r).sort()),
      [0, 1].map(() => ['changeCause', 'createdAt', 'current', 'image', 'revision', 'stable']),
    );
    assert.deepEqual(
      history.map((r) => [r.revision, r.changeCause, r.current]),
      [
        [1, 'deploy mlops-test/churn:1', false],
        [2, 'v2', true],
      ],
    );
    assert.equal((await cli('rollback', '--name', 'cli-model', '--to-revision', '1')).code, 0);
    const status = (await cli('status', '--name', 'cli-model')).json as DeploymentStatus;
    assert.deepEqual([status.revision, status.image, status.health], [3, 'mlops-test/churn:1', 'healthy']);
    assert.equal((await cli('remove', '--name', 'cli-model')).code, 0);
    const gone = await cli('status', '--name', 'cli-model');
    assert.equal(gone.code, 1);
    assert.match(gone.err, /No deployment named cli-model/);
  });
});
