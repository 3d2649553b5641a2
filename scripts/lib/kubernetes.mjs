// @ts-check
// A real Kubernetes control plane for the tests, the demo and the benchmark: etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler built from their Go modules (no
// release binary can be downloaded here), with kwok as the kubelet so that pods become Running.
// The binaries are built once into the cache, keyed by the versions, which takes 15 to 30 minutes
// on two cores; a control plane then starts in a few seconds.
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './codeServer.mjs';
import { cacheDir, say } from './setup.mjs';

export const KUBERNETES_VERSION = '1.35.4';
/** The etcd that Kubernetes 1.35 is built against (Debian's 3.4 is too old for it). */
export const ETCD_VERSION = '3.6.5';
export const KWOK_VERSION = '0.7.0';
/** Go 1.25 or newer builds Kubernetes 1.35; when the machine has none, this one comes from the Go module proxy. */
const GO_TOOLCHAIN = '1.26.8';

/** The staging modules of k8s.io/kubernetes, which its go.mod replaces with local paths. */
const STAGING_MODULES = [
  'api',
  'apiextensions-apiserver',
  'apimachinery',
  'apiserver',
  'cli-runtime',
  'client-go',
  'cloud-provider',
  'cluster-bootstrap',
  'code-generator',
  'component-base',
  'component-helpers',
  'controller-manager',
  'cri-api',
  'cri-client',
  'csi-translation-lib',
  'dynamic-resource-allocation',
  'endpointslice',
  'externaljwt',
  'kms',
  'kube-aggregator',
  'kube-controller-manager',
  'kube-proxy',
  'kube-scheduler',
  'kubectl',
  'kubelet',
  'metrics',
  'mount-utils',
  'pod-security-admission',
  'sample-apiserver',
  'sample-cli-plugin',
  'sample-controller',
];

/** The images a test deploys to see a rollout that never gets ready: kwok reports them as not pullable. */
export const UNPULLABLE_IMAGE = 'registry.invalid/mlops/missing-model:1';

export function kubernetesBinDir() {
  return join(cacheDir(), `kubernetes-v${KUBERNETES_VERSION}-etcd-v${ETCD_VERSION}-kwok-v${KWOK_VERSION}`, 'bin');
}

// What a release build stamps into the binaries, so that /version and --version say 1.35.4.
const [MAJOR, MINOR] = KUBERNETES_VERSION.split('.');
const VERSION_FLAGS = [
  `-X k8s.io/component-base/version.gitVersion=v${KUBERNETES_VERSION}`,
  `-X k8s.io/component-base/version.gitMajor=${MAJOR}`,
  `-X k8s.io/component-base/version.gitMinor=${MINOR}`,
  '-X k8s.io/component-base/version.gitTreeState=clean',
].join(' ');
/** Changes when the way the binaries are built does, so that a cache built otherwise is rebuilt. */
const RECIPE = `go build -trimpath -ldflags "-s -w ${VERSION_FLAGS}"`;

/** kubectl is the benchmark's peer, and a way to look at the test clusters by hand. */
const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kwok'];

/** @returns {boolean} */
export function kubernetesBinariesReady() {
  const recipe = join(kubernetesBinDir(), '.recipe');
  return (
    existsSync(recipe) &&
    readFileSync(recipe, 'utf8') === RECIPE &&
    BINARIES.every((binary) => existsSync(join(kubernetesBinDir(), binary)))
  );
}

/**
 * The first module proxy of the machine's configuration (`GOPROXY`, else an older `go env GOPROXY`):
 * no proxy is written into the code.
 * @returns {string}
 */
function goProxy() {
  const configured =
    process.env.GOPROXY || spawnSync('go', ['env', 'GOPROXY'], { encoding: 'utf8' }).stdout?.trim() || '';
  const proxy = configured
    .split(/[,|]/)
    .map((entry) => entry.trim())
    .find((entry) => /^https?:\/\//.test(entry));
  if (!proxy)
    throw new Error(
      'no Go module proxy is configured (GOPROXY, or `go env GOPROXY`): it is needed to fetch the Go toolchain that builds the Kubernetes control plane',
    );
  return proxy.replace(/\/$/, '');
}

/**
 * A `go` command of version 1.25 or newer: the machine's, else the toolchain from the Go module
 * proxy (the same archive the go command fetches for GOTOOLCHAIN), unpacked into the cache.
 * @returns {string} the path of the go binary
 */
export function ensureGo() {
  for (const candidate of ['go', '/usr/local/go/bin/go']) {
    const version = spawnSync(candidate, ['env', 'GOVERSION'], { encoding: 'utf8' });
    const match = /^go1\.(\d+)/.exec(version.stdout ?? '');
    if (version.status === 0 && match && Number(match[1]) >= 25) return candidate;
  }
  const root = join(cacheDir(), `go-${GO_TOOLCHAIN}`);
  const go = join(root, `golang.org/toolchain@v0.0.1-go${GO_TOOLCHAIN}.linux-amd64`, 'bin', 'go');
  if (existsSync(go)) return go;
  say(
    `installing Go ${GO_TOOLCHAIN} from the Go module proxy into ${root}: it builds the Kubernetes control plane of the tests`,
  );
  const zip = `${root}.zip`;
  mkdirSync(root, { recursive: true });
  const url = `${goProxy()}/golang.org/toolchain/@v/v0.0.1-go${GO_TOOLCHAIN}.linux-amd64.zip`;
  const fetched = spawnSync(
    process.execPath,
    [
      '-e',
      `fetch(${JSON.stringify(url)}).then(async (r) => { if (!r.ok) throw new Error(r.status + ' ' + r.statusText); require('fs').writeFileSync(${JSON.stringify(zip)}, Buffer.from(await r.arrayBuffer())); })`,
    ],
    { stdio: 'inherit' },
  );
  if (fetched.status !== 0) throw new Error(`Go ${GO_TOOLCHAIN} could not be downloaded from ${url}`);
  const unpacked = spawnSync('python3', ['-m', 'zipfile', '-e', zip, root], { stdio: 'inherit' });
  rmSync(zip, { force: true });
  if (unpacked.status !== 0)
    throw new Error(`the Go ${GO_TOOLCHAIN} archive could not be unpacked (python3 -m zipfile)`);
  spawnSync('chmod', [
    '-R',
    'u+x',
    join(root, `golang.org/toolchain@v0.0.1-go${GO_TOOLCHAIN}.linux-amd64`, 'bin'),
    join(root, `golang.org/toolchain@v0.0.1-go${GO_TOOLCHAIN}.linux-amd64`, 'pkg', 'tool'),
  ]);
  return go;
}

/**
 * Builds the control plane binaries into the cache unless they are there.
 * @returns {{ ok: true, dir: string } | { ok: false, reason: string }}
 */
export function ensureKubernetesBinaries() {
  const bin = kubernetesBinDir();
  if (kubernetesBinariesReady()) return { ok: true, dir: bin };
  try {
    const go = ensureGo();
    const src = join(bin, '..', 'src');
    mkdirSync(src, { recursive: true });
    // Binaries of another recipe are built again.
    if (existsSync(bin) && (!existsSync(join(bin, '.recipe')) || readFileSync(join(bin, '.recipe'), 'utf8') !== RECIPE))
      rmSync(bin, { recursive: true, force: true });
    mkdirSync(bin, { recursive: true });
    say(
      `building Kubernetes ${KUBERNETES_VERSION} (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl), etcd ${ETCD_VERSION} and kwok ${KWOK_VERSION} from their Go modules into ${bin}: 15 to 30 minutes once, then cached`,
    );
    const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' };
    const goRun = (/** @type {string[]} */ args, /** @type {Record<string, string>} */ extra = {}) => {
      const result = spawnSync(go, args, { cwd: src, env: { ...env, ...extra }, stdio: 'inherit' });
      if (result.status !== 0) throw new Error(`go ${args.join(' ')} failed (exit ${result.status})`);
    };
    if (!existsSync(join(src, 'go.mod'))) goRun(['mod', 'init', 'local/k8sbin']);
    // `go install k8s.io/kubernetes/cmd/...@v` is refused (its go.mod has replace directives), so a
    // wrapper module requires it and points each staging module at its published version.
    goRun([
      'mod',
      'edit',
      `-require=k8s.io/kubernetes@v${KUBERNETES_VERSION}`,
      `-require=go.etcd.io/etcd/server/v3@v${ETCD_VERSION}`,
      ...STAGING_MODULES.map(
        (module) => `-replace=k8s.io/${module}=k8s.io/${module}@v0.${KUBERNETES_VERSION.slice(2)}`,
      ),
    ]);
    writeFileSync(
      join(src, 'tools.go'),
      [
        '//go:build tools',
        'package tools',
        'import (',
        '\t_ "go.etcd.io/etcd/server/v3"',
        '\t_ "k8s.io/kubernetes/cmd/kube-apiserver"',
        '\t_ "k8s.io/kubernetes/cmd/kube-controller-manager"',
        '\t_ "k8s.io/kubernetes/cmd/kube-scheduler"',
        '\t_ "k8s.io/kubernetes/cmd/kubectl"',
        ')',
        '',
      ].join('\n'),
    );
    goRun(['mod', 'tidy']);
    /** @type {[string, string][]} */
    const targets = [
      ['etcd', 'go.etcd.io/etcd/server/v3'],
      ['kube-apiserver', 'k8s.io/kubernetes/cmd/kube-apiserver'],
      ['kube-controller-manager', 'k8s.io/kubernetes/cmd/kube-controller-manager'],
      ['kube-scheduler', 'k8s.io/kubernetes/cmd/kube-scheduler'],
      ['kubectl', 'k8s.io/kubernetes/cmd/kubectl'],
    ];
    for (const [name, pkg] of targets) {
      if (existsSync(join(bin, name))) continue;
      say(`building ${name}`);
      goRun(['build', '-trimpath', '-ldflags', `-s -w ${VERSION_FLAGS}`, '-o', join(bin, `${name}.part`), pkg]);
      renameSync(join(bin, `${name}.part`), join(bin, name));
    }
    if (!existsSync(join(bin, 'kwok'))) {
      say('building kwok');
      const gobin = join(bin, 'kwok-install');
      goRun(['install', '-trimpath', '-ldflags', '-s -w', `sigs.k8s.io/kwok/cmd/kwok@v${KWOK_VERSION}`], {
        GOBIN: gobin,
        GOFLAGS: '',
      });
      renameSync(join(gobin, 'kwok'), join(bin, 'kwok'));
      rmSync(gobin, { recursive: true, force: true });
    }
    writeFileSync(join(bin, '.recipe'), RECIPE);
    return { ok: true, dir: bin };
  } catch (error) {
    return {
      ok: false,
      reason: `the Kubernetes control plane could not be built: ${/** @type {Error} */ (error).message}`,
    };
  }
}

/**
 * @typedef {object} ControlPlane
 * @property {string} server `https://127.0.0.1:PORT`
 * @property {string} kubeconfig a kubeconfig file with the context `mlops-test` (cluster-admin token)
 * @property {string} adminToken
 * @property {string} viewerToken a token of a user who may do nothing (no RBAC binding)
 * @property {string} dir where its files are
 * @property {(component?: string) => string} log what the components printed (the last lines)
 * @property {() => Promise<void>} stop stops every component and removes its files
 */

/**
 * Starts etcd, the API server, the controller manager, the scheduler and kwok on free loopback
 * ports, creates one fake node, and waits until the API server is ready and the node is.
 * @returns {Promise<ControlPlane>}
 */
export async function startControlPlane() {
  const built = ensureKubernetesBinaries();
  if (!built.ok) throw new Error(built.reason);
  const bin = built.dir;
  const dir = mkdtempSync(join(tmpdir(), 'mlops-kube-'));
  const [etcdClient, etcdPeer, apiPort, cmPort, schedPort, kwokPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const server = `https://127.0.0.1:${apiPort}`;
  const adminToken = `admin-${Math.random().toString(36).slice(2)}`;
  const viewerToken = `viewer-${Math.random().toString(36).slice(2)}`;
  writeFileSync(join(dir, 'tokens.csv'), `${adminToken},admin,admin,"system:masters"\n${viewerToken},viewer,viewer\n`);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfig, kubeconfigText(server, adminToken, 'mlops-test'));
  writeFileSync(join(dir, 'kwok.yaml'), KWOK_STAGES);

  /** @type {{ name: string, child: import('node:child_process').ChildProcess, logFile: string }[]} */
  const components = [];
  const start = (/** @type {string} */ name, /** @type {string[]} */ args) => {
    const logFile = join(dir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(join(bin, name), args, { stdio: ['ignore', fd, fd], detached: false });
    closeSync(fd);
    components.push({ name, child, logFile });
    child.on('exit', (code, signal) => {
      if (!stopping) writeFileSync(join(dir, `${name}.exit`), `exited with ${code ?? signal}`);
    });
  };
  let stopping = false;
  const log = (/** @type {string | undefined} */ component = undefined) =>
    components
      .filter((c) => !component || c.name === component)
      .map(
        (c) =>
          `--- ${c.name}${existsSync(join(dir, `${c.name}.exit`)) ? ` (${readFileSync(join(dir, `${c.name}.exit`), 'utf8')})` : ''}\n${tail(c.logFile, 15)}`,
      )
      .join('\n');
  const stop = async () => {
    stopping = true;
    for (const { child } of [...components].reverse()) child.kill('SIGTERM');
    await Promise.all(
      components.map(({ child }) =>
        child.exitCode !== null || child.signalCode !== null
          ? undefined
          : new Promise((resolve) => {
              const timer = setTimeout(() => (child.kill('SIGKILL'), resolve(undefined)), 5000);
              child.once('exit', () => (clearTimeout(timer), resolve(undefined)));
            }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    start('etcd', [
      '--name',
      'mlops',
      '--data-dir',
      join(dir, 'etcd'),
      '--listen-client-urls',
      `http://127.0.0.1:${etcdClient}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${etcdClient}`,
      '--listen-peer-urls',
      `http://127.0.0.1:${etcdPeer}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster',
      `mlops=http://127.0.0.1:${etcdPeer}`,
      '--log-level',
      'warn',
      '--quota-backend-bytes',
      String(1 << 30),
    ]);
    await waitFor(
      () => httpGet(`http://127.0.0.1:${etcdClient}/health`).then((r) => r.status === 200),
      30_000,
      'etcd',
      log,
    );
    start('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      `--secure-port=${apiPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--cert-dir=${join(dir, 'certs')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=Node,RBAC',
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      '--v=0',
    ]);
    await waitFor(
      () => httpGet(`${server}/readyz`, adminToken).then((r) => r.status === 200),
      90_000,
      'kube-apiserver',
      log,
    );
    start('kube-controller-manager', [
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      `--secure-port=${cmPort}`,
      '--bind-address=127.0.0.1',
      `--service-account-private-key-file=${join(dir, 'sa.key')}`,
      '--use-service-account-credentials=false',
      '--profiling=false',
      // The node lifecycle controller stays: it lifts the not-ready taint new nodes get.
      '--controllers=*,-nodeipam,-route,-service-lb-controller,-cloud-node-lifecycle',
    ]);
    start('kube-scheduler', [
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      `--secure-port=${schedPort}`,
      '--bind-address=127.0.0.1',
      '--profiling=false',
    ]);
    start('kwok', [
      `--kubeconfig=${kubeconfig}`,
      '--manage-all-nodes=true',
      `--config=${join(dir, 'kwok.yaml')}`,
      `--server-address=127.0.0.1:${kwokPort}`,
    ]);
    const nodeCreated = await apiRequest(server, adminToken, 'POST', '/api/v1/nodes', FAKE_NODE);
    if (nodeCreated.status !== 201)
      throw new Error(`the fake node could not be created: ${nodeCreated.status} ${nodeCreated.text}`);
    await waitFor(
      async () => {
        const node = await apiRequest(server, adminToken, 'GET', `/api/v1/nodes/${FAKE_NODE.metadata.name}`);
        const parsed = JSON.parse(node.text);
        const ready = parsed.status?.conditions?.find((/** @type {{type: string}} */ c) => c.type === 'Ready');
        return ready?.status === 'True' && !(parsed.spec?.taints ?? []).length;
      },
      60_000,
      'the kwok node (Ready, without taints)',
      log,
    );
    // Pods wait for their namespace's default service account, made by the controller manager.
    await waitFor(
      async () =>
        (await apiRequest(server, adminToken, 'GET', '/api/v1/namespaces/default/serviceaccounts/default')).status ===
        200,
      60_000,
      'kube-controller-manager',
      log,
    );
  } catch (error) {
    const detail = log();
    await stop();
    throw new Error(`${/** @type {Error} */ (error).message}\n${detail}`);
  }
  return { server, kubeconfig, adminToken, viewerToken, dir, log, stop };
}

/**
 * A kubeconfig for `server` with a token, skipping TLS verification (the API server's certificate is self-signed).
 * @param {string} server @param {string} token @param {string} context
 */
export function kubeconfigText(server, token, context, namespace = 'default') {
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${context}`,
    'clusters:',
    `- name: ${context}`,
    '  cluster:',
    `    server: ${server}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    `- name: ${context}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: ${context}`,
    '  context:',
    `    cluster: ${context}`,
    `    user: ${context}`,
    `    namespace: ${namespace}`,
    '',
  ].join('\n');
}

const FAKE_NODE = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: 'kwok-node-0',
    labels: { 'kubernetes.io/hostname': 'kwok-node-0', 'kubernetes.io/os': 'linux', type: 'kwok' },
    annotations: { 'kwok.x-k8s.io/node': 'fake' },
  },
  spec: {},
  status: {
    allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
    capacity: { cpu: '32', memory: '256Gi', pods: '110' },
    nodeInfo: { architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'fake', kubeProxyVersion: 'fake' },
  },
};

// The parts of kwok's status templates that several stages share: a node's conditions, refreshed
// with a heartbeat, and the addresses kwok gives a pod.
const NODE_CONDITIONS = `      {{ $now := Now }}
      {{ $lastTransitionTime := or .metadata.creationTimestamp $now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $lastTransitionTime | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}`;
// A pod annotated with POD_IP_ANNOTATION gets that address: tests point it at a real model server
// container, so the API server's pod proxy reaches a real /metrics.
export const POD_IP_ANNOTATION = 'mlops.test/pod-ip';
const POD_ADDRESSES = `      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      {{ $ip := "" }}{{ with .metadata.annotations }}{{ $ip = index . "${POD_IP_ANNOTATION}" }}{{ end }}
      podIP: {{ if $ip }}{{ $ip | Quote }}{{ else }}{{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}{{ end }}`;

// kwok's stages: a node that initialises and heartbeats every few seconds (well within the node
// monitor's 40 s grace), its "fast" pod stages, and one for an image that cannot be pulled: its
// pods stay Pending with ImagePullBackOff and a Warning event, the way a kubelet reports it.
const KWOK_STAGES = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-initialize
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values: ['True']
  next:
    statusTemplate: |
${NODE_CONDITIONS}
      addresses:
      - address: 127.0.0.1
        type: InternalIP
      - address: {{ .metadata.name | Quote }}
        type: Hostname
      allocatable:
      {{ YAML .status.allocatable 1 }}
      capacity:
      {{ YAML .status.capacity 1 }}
      phase: Running
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-heartbeat
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'In'
      values: ['True']
  delay:
    durationMilliseconds: 5000
    jitterDurationMilliseconds: 2000
  next:
    statusTemplate: |
${NODE_CONDITIONS}
  immediateNextStage: true
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-image-pull-backoff
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.podIP'
      operator: 'DoesNotExist'
    - key: '.spec.containers.[0].image'
      operator: 'In'
      values: ['${UNPULLABLE_IMAGE}']
  next:
    event:
      type: Warning
      reason: Failed
      message: 'Failed to pull image "${UNPULLABLE_IMAGE}": registry.invalid: no such host'
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        type: Ready
        reason: ContainersNotReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        state:
          waiting:
            reason: ImagePullBackOff
            message: 'Back-off pulling image {{ .image }}'
      {{ end }}
${POD_ADDRESSES}
      phase: Pending
      startTime: {{ $now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.podIP'
      operator: 'DoesNotExist'
    - key: '.spec.containers.[0].image'
      operator: 'NotIn'
      values: ['${UNPULLABLE_IMAGE}']
  delay:
    durationMilliseconds: 300
    jitterDurationMilliseconds: 600
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: ContainersReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
${POD_ADDRESSES}
      phase: Running
      startTime: {{ $now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'Exists'
  delay:
    durationMilliseconds: 200
  next:
    finalizers:
      empty: true
    delete: true
`;

/**
 * @param {string} server @param {string} token @param {string} method @param {string} path @param {unknown} [body]
 * @returns {Promise<{ status: number, text: string }>}
 */
export function apiRequest(server, token, method, path, body) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${server}${path}`,
      {
        method,
        rejectUnauthorized: false,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: 'application/json',
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
        },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (chunk) => (text += chunk))
          .on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** @param {string} url @param {string} [token] */
async function httpGet(url, token) {
  if (url.startsWith('https:')) {
    const parsed = new URL(url);
    return apiRequest(parsed.origin, token ?? '', 'GET', parsed.pathname).catch(() => ({ status: 0, text: '' }));
  }
  return fetch(url).then(
    (r) => ({ status: r.status, text: '' }),
    () => ({ status: 0, text: '' }),
  );
}

/**
 * @param {() => Promise<boolean>} check @param {number} timeoutMs @param {string} what
 * @param {(component?: string) => string} log
 */
async function waitFor(check, timeoutMs, what, log) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} was not ready within ${timeoutMs / 1000} s\n${log()}`);
}

/** @param {string} file @param {number} lines */
function tail(file, lines) {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
