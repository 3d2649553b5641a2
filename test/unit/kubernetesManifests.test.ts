// The pure parts of the Kubernetes target: manifests, `kubectl rollout undo`'s algorithm, the
// rollout status, error messages and the kubeconfig file list.
import assert from 'node:assert/strict';
import { delimiter } from 'node:path';
import { test } from 'node:test';
import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { changeSummary } from '../../src/deploy/deployments/kubernetes/changeSummary';
import { kubernetesError, NO_ANSWER } from '../../src/deploy/targets/kubernetes/client';
import { kubeconfigFiles } from '../../src/deploy/targets/kubernetes/kubeconfig';
import { checkDeploymentName } from '../../src/deploy/targets/kubernetes/kubernetesTarget';
import {
  autoscalerManifest,
  cleanForExport,
  dataTokenSecretManifest,
  deploymentManifest,
  pullSecretManifest,
  pullSecretName,
  serviceManifest,
} from '../../src/deploy/targets/kubernetes/manifests';
import { planUndo, revisionsFromReplicaSets } from '../../src/deploy/targets/kubernetes/rolloutHistory';
import { rolloutState } from '../../src/deploy/targets/kubernetes/rolloutStatus';
import { describeError } from '../../src/shared/errors';

const input = {
  spec: {
    name: 'churn',
    image: 'churn:2',
    replicas: 2,
    changeCause: 'retrained',
    env: { LOG_LEVEL: 'info' },
    limits: { cpus: 1.5, memoryMb: 512 },
  },
  namespace: 'ml',
  imageRef: 'reg:5000/churn@sha256:abc',
  modelImage: true,
  gitCommit: 'deadbeef',
  mlflowRunId: 'run-1',
  deployedBy: 'ana@laptop',
  deployedAt: '2026-11-27T10:00:00.000Z',
  pullSecret: 'mlops-registry-reg-5000',
};

test('the Deployment has probes, resources, maxUnavailable 0 and the provenance annotations', () => {
  const deployment = deploymentManifest(input);
  assert.equal(deployment.metadata?.annotations?.['kubernetes.io/change-cause'], 'retrained');
  assert.equal(deployment.metadata?.annotations?.['mlops.dev/git-commit'], 'deadbeef');
  assert.equal(deployment.metadata?.annotations?.['mlops.dev/mlflow-run-id'], 'run-1');
  assert.equal(deployment.metadata?.annotations?.['mlops.dev/image-digest'], 'reg:5000/churn@sha256:abc');
  assert.deepEqual(deployment.spec?.strategy?.rollingUpdate, { maxUnavailable: 0, maxSurge: 1 });
  assert.deepEqual(deployment.spec?.selector.matchLabels, { 'mlops.dev/deployment': 'churn' });
  const pod = deployment.spec!.template.spec!;
  assert.deepEqual(pod.imagePullSecrets, [{ name: 'mlops-registry-reg-5000' }]);
  const container = pod.containers[0]!;
  assert.equal(container.image, 'reg:5000/churn@sha256:abc');
  assert.equal(container.readinessProbe?.httpGet?.path, '/health');
  assert.equal(container.livenessProbe?.httpGet?.path, '/ping');
  assert.deepEqual(container.resources?.limits, { memory: '512Mi', cpu: '1.5' });
  assert.deepEqual(container.env, [
    { name: 'LOG_LEVEL', value: 'info' },
    { name: 'MLOPS_DATA_TOKEN', valueFrom: { secretKeyRef: { name: 'churn-mlops-data-token', key: 'token' } } },
  ]);
  const own = deploymentManifest({ ...input, spec: { ...input.spec, env: { MLOPS_DATA_TOKEN: 'typed-in' } } });
  assert.deepEqual(
    own.spec!.template.spec!.containers[0]!.env?.map((e) => e.name),
    ['MLOPS_DATA_TOKEN'],
    'the token always comes from the Secret, once',
  );
  const plain = deploymentManifest({
    ...input,
    modelImage: false,
    imageRef: 'busybox:1',
    gitCommit: null,
    pullSecret: null,
  });
  assert.equal(
    plain.spec!.template.spec!.containers[0]!.readinessProbe,
    undefined,
    'an image that is no model server gets no probes',
  );
  // Prometheus' pod discovery (mlops export prometheus --mode annotations) finds model servers by these.
  assert.deepEqual(deployment.spec!.template.metadata?.annotations, {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': '8080',
    'prometheus.io/path': '/metrics',
  });
  assert.equal(
    plain.spec!.template.metadata?.annotations,
    undefined,
    'an image that is no model server is not scraped',
  );
  assert.equal(plain.metadata?.annotations?.['mlops.dev/image-digest'], undefined);
  assert.equal(plain.metadata?.annotations?.['mlops.dev/git-commit'], undefined);
});

test('the Service is ClusterIP unless a NodePort is asked for; the autoscaler only when asked', () => {
  assert.equal(serviceManifest(input.spec, 'ml').spec?.type, 'ClusterIP');
  assert.equal(
    serviceManifest(input.spec, 'ml').spec?.ports?.[0]?.name,
    'http',
    'a ServiceMonitor selects the port by name',
  );
  const nodePort = serviceManifest({ ...input.spec, publishedPort: 30080 }, 'ml');
  assert.equal(nodePort.spec?.type, 'NodePort');
  assert.equal(nodePort.spec?.ports?.[0]?.nodePort, 30080);
  assert.equal(autoscalerManifest(input.spec, 'ml'), null);
  const hpa = autoscalerManifest({ ...input.spec, autoscale: { minReplicas: 2, maxReplicas: 6 } }, 'ml');
  assert.equal(hpa?.spec?.maxReplicas, 6);
  assert.equal(hpa?.spec?.metrics?.[0]?.resource?.target.averageUtilization, 70);
  const autoscaled = deploymentManifest({
    ...input,
    spec: { ...input.spec, autoscale: { minReplicas: 2, maxReplicas: 6 } },
  });
  assert.equal(
    autoscaled.metadata?.annotations?.['mlops.dev/autoscaled'],
    'true',
    'so that a later deploy without one removes the autoscaler',
  );
  assert.equal(deploymentManifest(input).metadata?.annotations?.['mlops.dev/autoscaled'], undefined);
});

test("the data token Secret belongs to the deployment and holds the token under 'token'", () => {
  const secret = dataTokenSecretManifest('churn', 'ml', 'tok-0123456789abcdef');
  assert.deepEqual(
    [secret.metadata?.name, secret.metadata?.namespace, secret.type],
    ['churn-mlops-data-token', 'ml', 'Opaque'],
  );
  assert.deepEqual(secret.metadata?.labels, {
    'app.kubernetes.io/name': 'churn',
    'app.kubernetes.io/managed-by': 'mlops',
    'mlops.dev/deployment': 'churn',
  });
  assert.equal(Buffer.from(secret.data!.token!, 'base64').toString(), 'tok-0123456789abcdef');
});

test('pull secrets are dockerconfigjson with a DNS-safe name', () => {
  assert.equal(pullSecretName('Registry.Example.com:5000'), 'mlops-registry-registry-example-com-5000');
  const secret = pullSecretManifest('s', 'ml', 'reg:5000', { username: 'ana', password: 'pw' });
  assert.equal(secret.type, 'kubernetes.io/dockerconfigjson');
  const config = JSON.parse(Buffer.from(secret.data!['.dockerconfigjson']!, 'base64').toString());
  assert.deepEqual(config.auths['reg:5000'], {
    username: 'ana',
    password: 'pw',
    auth: Buffer.from('ana:pw').toString('base64'),
  });
});

test('export drops what the server adds', () => {
  const cleaned = cleanForExport({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'a',
      uid: 'u',
      resourceVersion: '5',
      managedFields: [],
      creationTimestamp: 'x',
      annotations: { 'deployment.kubernetes.io/revision': '3' },
    },
    spec: { clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1'], type: 'ClusterIP' },
    status: { loadBalancer: {} },
  });
  assert.deepEqual(cleaned, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'a' },
    spec: { type: 'ClusterIP' },
  });
});

const uid = 'dep-uid';
function replicaSet(
  revision: number,
  image: string,
  hash: string,
  annotations: Record<string, string> = {},
): V1ReplicaSet {
  return {
    metadata: {
      name: `churn-${hash}`,
      labels: { 'mlops.dev/deployment': 'churn', 'pod-template-hash': hash },
      annotations: {
        'deployment.kubernetes.io/revision': String(revision),
        'kubernetes.io/change-cause': `rev ${revision}`,
        'deployment.kubernetes.io/desired-replicas': '2',
        ...annotations,
      },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'churn', uid, controller: true }],
    },
    spec: {
      selector: {},
      template: {
        metadata: { labels: { 'mlops.dev/deployment': 'churn', 'pod-template-hash': hash } },
        spec: { containers: [{ name: 'model', image }] },
      },
    },
  };
}
const deployment = (revision: number, annotations: Record<string, string> = {}): V1Deployment => ({
  metadata: {
    name: 'churn',
    uid,
    annotations: { 'deployment.kubernetes.io/revision': String(revision), ...annotations },
  },
  spec: { selector: {}, template: {} },
});

test('history comes from the owned ReplicaSets; the stable pin follows the template', () => {
  const sets = [
    replicaSet(2, 'churn:2', 'bbb'),
    replicaSet(1, 'churn:1', 'aaa'),
    {
      ...replicaSet(7, 'other:1', 'zzz'),
      metadata: { ...replicaSet(7, 'other:1', 'zzz').metadata, ownerReferences: [] },
    },
  ];
  const revisions = revisionsFromReplicaSets(deployment(2, { 'mlops.dev/stable-template-hash': 'aaa' }), sets);
  assert.deepEqual(
    revisions.map((r) => [r.revision, r.image, r.changeCause, r.current, r.stable]),
    [
      [1, 'churn:1', 'rev 1', false, true],
      [2, 'churn:2', 'rev 2', true, false],
    ],
  );
});

test('undo patches the template without its hash label and the annotations kubectl copies, keeping the stable pin', () => {
  const sets = [
    replicaSet(1, 'churn:1', 'aaa', { 'mlops.dev/stable-template-hash': 'old' }),
    replicaSet(2, 'churn:2', 'bbb'),
    replicaSet(3, 'churn:3', 'ccc'),
  ];
  const plan = planUndo(deployment(3, { 'mlops.dev/stable-template-hash': 'aaa' }), sets);
  assert.equal(plan.kind, 'patch');
  if (plan.kind !== 'patch') return;
  assert.deepEqual([plan.from, plan.to], [3, 2]);
  const template = plan.patch[0]!.value as {
    metadata: { labels: Record<string, string> };
    spec: { containers: { image: string }[] };
  };
  assert.deepEqual(template.metadata.labels, { 'mlops.dev/deployment': 'churn' });
  assert.equal(template.spec.containers[0]!.image, 'churn:2');
  assert.deepEqual(plan.patch[1]!.value, {
    'kubernetes.io/change-cause': 'rev 2',
    'mlops.dev/stable-template-hash': 'aaa',
  });
  const toOne = planUndo(deployment(3, { 'mlops.dev/stable-template-hash': 'aaa' }), sets, 1);
  assert.equal(
    toOne.kind === 'patch' && (toOne.patch[1]!.value as Record<string, string>)['mlops.dev/stable-template-hash'],
    'aaa',
  );
  assert.deepEqual(planUndo(deployment(3), sets, 5), {
    kind: 'missing',
    message: 'churn has no revision 5 (revisions: 1, 2, 3).',
  });
  assert.deepEqual(planUndo(deployment(3), sets, 3), { kind: 'current', message: 'churn already runs revision 3.' });
  assert.deepEqual(planUndo(deployment(1), [replicaSet(1, 'churn:1', 'aaa')]), {
    kind: 'missing',
    message: 'churn has no revision before 1 to roll back to.',
  });
});

test('rollout status reads like kubectl rollout status', () => {
  const at = (status: object, generation = 2, replicas = 2): V1Deployment => ({
    metadata: { name: 'churn', generation },
    spec: { replicas, selector: {}, template: {} },
    status: { observedGeneration: 2, ...status },
  });
  assert.equal(rolloutState(at({}, 3)).kind, 'progressing');
  assert.match(
    rolloutState(at({ updatedReplicas: 1, replicas: 3, availableReplicas: 2 })).message,
    /1 of 2 new replicas updated/,
  );
  assert.match(
    rolloutState(at({ updatedReplicas: 2, replicas: 3, availableReplicas: 2 })).message,
    /1 old replica pending termination/,
  );
  assert.match(
    rolloutState(at({ updatedReplicas: 2, replicas: 2, availableReplicas: 1 })).message,
    /1 of 2 updated replicas available/,
  );
  assert.equal(rolloutState(at({ updatedReplicas: 2, replicas: 2, availableReplicas: 2 })).kind, 'complete');
  const stuck = rolloutState(
    at({
      conditions: [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: 'ReplicaSet "churn-x" has timed out progressing.',
        },
      ],
    }),
  );
  assert.deepEqual(stuck, { kind: 'deadlineExceeded', message: 'ReplicaSet "churn-x" has timed out progressing.' });
  const half = rolloutState(at({ updatedReplicas: 2, replicas: 3, availableReplicas: 1 }));
  assert.equal(half.kind === 'progressing' && half.fraction, 0.75);
});

test('API failures become messages naming the context, the user and what was refused', () => {
  const site = { context: 'prod', server: 'https://k8s:6443', user: 'ana' };
  const forbidden = kubernetesError(
    Object.assign(new Error('HTTP-Code: 403\nMessage: ...\nBody: ...'), {
      code: 403,
      body: '{"kind":"Status","message":"pods is forbidden: User \\"ana\\" cannot list resource \\"pods\\""}',
    }),
    'list pods in ml',
    site,
  );
  assert.equal(
    describeError(forbidden),
    'Kubernetes refused to list pods in ml on context "prod" (https://k8s:6443) (403 Forbidden): pods is forbidden: User "ana" cannot list resource "pods". Ask a cluster admin for a Role that allows it for "ana", or pick another context or namespace.',
  );
  const refused = kubernetesError(
    Object.assign(new Error('request to https://k8s:6443 failed'), { cause: { code: 'ECONNREFUSED' } }),
    'list deployments',
    site,
  );
  assert.match(describeError(refused), /cannot be reached \(ECONNREFUSED: nothing listens there\)/);
  assert.match(
    describeError(kubernetesError({ code: 401, body: {} }, 'list', site)),
    /did not accept the credentials of "ana" \(401 Unauthorized\)/,
  );
  // node-fetch copies the code of the error a timed-out request was destroyed with.
  const silent = kubernetesError(
    Object.assign(new Error('request to https://k8s:6443/apis failed, reason: no answer within 30 s'), {
      code: NO_ANSWER,
    }),
    'list deployments in ml',
    { ...site, timeoutMs: 30_000 },
  );
  assert.match(
    describeError(silent),
    /^The Kubernetes API server of context "prod" \(https:\/\/k8s:6443\) did not answer within 30 s when trying to list deployments in ml\. Check that the cluster runs/,
  );
});

test('kubeconfig files come from the setting, then KUBECONFIG (several files), then ~/.kube/config', () => {
  assert.deepEqual(kubeconfigFiles('/a.yaml', { KUBECONFIG: '/b.yaml' }), ['/a.yaml']);
  assert.deepEqual(kubeconfigFiles('', { KUBECONFIG: ['/b.yaml', '/c.yaml'].join(delimiter) }), ['/b.yaml', '/c.yaml']);
  assert.match(kubeconfigFiles(undefined, {})[0]!, /\.kube\/config$/);
});

test('deployment names are DNS-1035 labels', () => {
  assert.equal(checkDeploymentName('churn-v2'), undefined);
  assert.match(checkDeploymentName('2churn') ?? '', /starting with a letter/);
  assert.match(checkDeploymentName('Churn') ?? '', /not a valid Kubernetes name/);
});

test('a dry run is summed up as created, changed and unchanged objects', () => {
  const object = (data: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'a', resourceVersion: String(Math.random()) },
    data,
  });
  const planned = [
    { kind: 'ConfigMap', name: 'a', namespace: 'ml', before: null, after: object({ x: '1' }) },
    { kind: 'ConfigMap', name: 'b', namespace: 'ml', before: object({ x: '1' }), after: object({ x: '2' }) },
    { kind: 'ConfigMap', name: 'c', namespace: 'ml', before: object({ x: '1' }), after: object({ x: '1' }) },
  ];
  assert.equal(changeSummary(planned), '1 created, 1 changed, 1 unchanged');
  assert.equal(changeSummary([]), 'nothing to apply');
});
