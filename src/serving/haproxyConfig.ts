// The HAProxy configuration of a deployment's request path: HAProxy holds the port and routes
// predictions to the variants' tasks; the Python router runs beside it as "the api" backend.
import { MlopsError } from '../shared/errors';
import { DATA_TOKEN_FETCH, mirrorLua, SHADOW_METRICS_SERVICE, type MirrorSettings } from './mirrorLua';

/** dns: resolved by HAProxy (Swarm tasks.NAME via 127.0.0.11, Kubernetes Service names) and followed
 * with server-template; address: a fixed 'host:port'. */
export type ProxyServer = { dns: string; port: number } | { address: string };
/** weight: the share of live groups, the percent mirrored for shadows (as MLOPS_ROUTER_BACKENDS). */
export interface ProxyGroup {
  name: string;
  weight: number;
  shadow: boolean;
  server: ProxyServer;
}
export interface ProxyInput {
  groups: ProxyGroup[];
  stickyKey: string | null;
  /** The Python router beside HAProxy: /router/*, /feedback, /requests, /metrics and the rest. */
  api: ProxyServer;
  port: number;
  /** 'ip:port', e.g. '127.0.0.11:53' in Swarm; absent: the container's /etc/resolv.conf. */
  dnsResolver?: string;
  /** A port that serves only HAProxy's Prometheus exporter at /metrics. */
  metricsPort?: number;
  /** The address to listen on, e.g. '127.0.0.1'; absent: every IPv4 address. */
  bindAddress?: string;
  /** The tasks a dns server may resolve to at most (server-template slots), 16 when absent. */
  maxTasks?: number;
  /** Shadow requests in flight at most; more are dropped and counted. 64 when absent. */
  maxShadowInFlight?: number;
  /** Where HAProxy reads the deployment's data token, to sign the request ids it makes as the runtime
   * does (any task then accepts /feedback for them): a file (a Swarm secret) or an environment
   * variable. Absent: the ids are plain uuids, as a router without a token makes, and the request log
   * and /feedback answer loopback clients only, as the runtime's do without a token. */
  dataToken?: { file: string } | { env: string };
}
/** haproxy.cfg and mirror.lua, both mounted in PROXY_CONFIG_DIR. */
export interface ProxyFiles {
  config: string;
  lua: string;
}

export const PROXY_CONFIG_DIR = '/usr/local/etc/haproxy';
/** Master-worker in the foreground, so that the container's logs are HAProxy's and SIGUSR2 reloads. */
export const PROXY_COMMAND: string[] = ['haproxy', '-W', '-db', '-f', `${PROXY_CONFIG_DIR}/haproxy.cfg`];
/** The Prometheus exporter on the published port (also on metricsPort at /metrics when set). */
export const PROXY_METRICS_PATH = '/router/proxy/metrics';
/** The mirroring counters (mlops_proxy_shadow_*), in Prometheus' text format. */
export const PROXY_SHADOW_METRICS_PATH = '/router/proxy/shadows';

// As the Python router's settings (runtime/README.md): connect 2 s, MLOPS_ROUTER_TIMEOUT_SECONDS 30,
// MLOPS_REQUEST_READ_SECONDS 20, kept-alive clients 60 s, MLOPS_ROUTER_RETRY_SECONDS 10.
const TIMEOUTS = { connect: '2s', server: '30s', request: '20s', client: '60s', queue: '10s' };
const RETRIES = 5;
const MAX_TASKS = 16;
const MAX_SHADOW_IN_FLIGHT = 64;
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/; // as the runtime's GROUP_NAME
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/; // an HTTP token
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
// What the model server answers for scoring: MLflow's /invocations and the Open Inference Protocol's infer.
const PREDICTION_PATHS = ['/invocations'];
const PREDICTION_PATH_PATTERN = '^/v2/models/[^/]+(/versions/[^/]+)?/infer$';
// The runtime's REQUEST_ID: a client's X-Request-Id of 1 to 200 printable ASCII characters is kept.
const CLIENT_REQUEST_ID = '^[!-~]{1,200}$';
const PREDICTION = 'post prediction_path'; // the acls of a prediction request
const OWN_ERRORS: Record<number, [string, string]> = {
  502: ['BAD_GATEWAY', 'the model server gave no valid answer'],
  503: ['SERVICE_UNAVAILABLE', 'no server of the deployment is up to answer; each one up was tried'],
  504: ['GATEWAY_TIMEOUT', 'the model server did not answer within 30 s'],
};
// What the runtime guards with the data token (data_access.py's PROTECTED_PATHS and the router's log fan-out).
const PROTECTED_PATHS = ['/requests', '/feedback', '/router/backends/requests'];

/** haproxy.cfg and mirror.lua for a deployment's groups; fails naming the field at fault. */
export function haproxyConfig(input: ProxyInput): ProxyFiles {
  checkInput(input);
  const live = input.groups.filter((group) => !group.shadow && group.weight > 0);
  const shadows = input.groups.filter((group) => group.shadow && group.weight > 0);
  const byField = input.stickyKey?.startsWith('field:') ?? false;
  const maxTasks = input.maxTasks ?? MAX_TASKS;
  const shadowAddress = `abns@mlops-shadow-${input.port}`; // one per HAProxy on a host, as its port
  const servers = [input.api, ...input.groups.map((group) => group.server)];
  const mirror: MirrorSettings = {
    groups: byField ? [] : shadows.map((group) => group.name),
    address: shadowAddress,
    maxInFlight: input.maxShadowInFlight ?? MAX_SHADOW_IN_FLIGHT,
    timeoutMs: 30_000,
    dataToken: input.dataToken,
  };
  const sections = [
    globalSection(),
    defaultsSection(),
    ...(servers.some((server) => 'dns' in server) ? [resolversSection(input.dnsResolver)] : []),
    frontendSection(input, live, byField ? [] : shadows, byField),
    ...(input.metricsPort === undefined ? [] : [metricsSection(input)]),
    ...(mirror.groups.length ? [shadowFrontend(shadowAddress, shadows)] : []),
    apiBackend(input.api, maxTasks),
    ...(byField ? [] : [...live, ...shadows].map((group) => groupBackend(group, maxTasks))),
  ];
  return { config: sections.join('\n\n') + '\n', lua: mirrorLua(mirror) };
}

function globalSection(): string {
  return lines(
    'global',
    'maxconn 4096',
    // A request body up to 64 KiB stays in the buffer: it can be sent again (retry-on) and mirrored.
    'tune.bufsize 65536',
    'httpclient.ssl.verify none', // the mirror's client speaks plain HTTP to a local frontend
    `lua-load ${PROXY_CONFIG_DIR}/mirror.lua`,
  );
}

function defaultsSection(): string {
  return lines(
    'defaults',
    'mode http',
    'option http-keep-alive',
    'option http-buffer-request', // the body is whole before routing, so it can be retried and mirrored
    `timeout connect ${TIMEOUTS.connect}`,
    `timeout client ${TIMEOUTS.client}`,
    `timeout http-keep-alive ${TIMEOUTS.client}`,
    `timeout http-request ${TIMEOUTS.request}`,
    `timeout server ${TIMEOUTS.server}`,
    `timeout queue ${TIMEOUTS.queue}`,
    // HAProxy's own errors in the runtime's form: {"error_code", "message"}.
    ...Object.entries(OWN_ERRORS).map(
      ([status, [code, message]]) =>
        `http-error status ${status} content-type application/json string ${quoted(JSON.stringify({ error_code: code, message }))}`,
    ),
  );
}

/** A double-quoted HAProxy argument. */
function quoted(text: string): string {
  return `"${text.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/** Re-resolves every second and drops a task's address within about a second of it leaving DNS. */
function resolversSection(dnsResolver: string | undefined): string {
  return lines(
    'resolvers mlops',
    dnsResolver ? `nameserver dns ${dnsResolver}` : 'parse-resolv-conf',
    'accepted_payload_size 8192',
    'resolve_retries 3',
    'timeout resolve 1s',
    'timeout retry 1s',
    'hold valid 1s',
    'hold obsolete 1s',
    'hold nx 1s',
    'hold refused 1s',
    'hold timeout 1s',
    'hold other 1s',
  );
}

function frontendSection(input: ProxyInput, live: ProxyGroup[], shadows: ProxyGroup[], byField: boolean): string {
  const head = [
    'frontend mlops',
    `bind ${input.bindAddress ?? ''}:${input.port}`,
    `http-request use-service prometheus-exporter if { path ${PROXY_METRICS_PATH} }`,
    `http-request use-service lua.${SHADOW_METRICS_SERVICE} if { path ${PROXY_SHADOW_METRICS_PATH} }`,
    ...(input.dataToken ? [] : loopbackOnly()),
  ];
  if (byField)
    return lines(
      ...head,
      // HAProxy cannot read a field of a JSON body: the Python router assigns (and mirrors)
      // predictions then, as it did before HAProxy.
      '# The sticky key is a body field, which HAProxy cannot read: the Python router routes every request.',
      'default_backend api',
    );
  const sticky = input.stickyKey?.slice('header:'.length);
  const total = live.reduce((sum, group) => sum + group.weight, 0);
  let cumulative = 0;
  const routes = live.map((group, index) => {
    cumulative += group.weight;
    const share = index === live.length - 1 ? '' : ` { var(txn.bucket) -m int lt ${bound(cumulative / total)} }`;
    return `use_backend ${backendName(group)} if ${PREDICTION}${share}`;
  });
  const mirrors = shadows.map(
    (group) =>
      `http-request lua.mlops_mirror ${group.name} if ${PREDICTION} { var(txn.shadow_bucket) -m int lt ${bound(group.weight / 100)} }`,
  );
  return lines(
    ...head,
    'acl post method POST',
    ...PREDICTION_PATHS.map((path) => `acl prediction_path path ${path}`),
    `acl prediction_path path_reg ${PREDICTION_PATH_PATTERN}`,
    'unique-id-format %[uuid()]',
    // The request id: the client's X-Request-Id when the model server would keep it, else a new one.
    `http-request set-var(txn.rid) req.fhdr(x-request-id,1) if ${PREDICTION} { req.fhdr(x-request-id,1) -m reg ${CLIENT_REQUEST_ID} }`,
    ...newRequestId(input.dataToken !== undefined, `${PREDICTION} !{ var(txn.rid) -m found }`),
    `http-request set-header X-Request-Id %[var(txn.rid)] if ${PREDICTION}`,
    `http-request del-header X-Mlops-Shadow if ${PREDICTION}`,
    'http-after-response set-header X-Request-Id %[var(txn.rid)] if { var(txn.rid) -m found }',
    // As the runtime's assignment.py: the first 32 bits of the SHA-256 of the sticky key (else of the
    // request id) against the cumulative shares, so that a key reaches the group the router chose.
    `http-request set-var(txn.key) var(txn.rid) if ${PREDICTION}`,
    ...(sticky
      ? [`http-request set-var(txn.key) req.fhdr(${sticky},1) if ${PREDICTION} { req.fhdr(${sticky},1),length gt 0 }`]
      : []),
    `http-request set-var(txn.bucket) var(txn.key),sha2(256),bytes(0,4),be2dec(-,4) if ${PREDICTION}`,
    ...(mirrors.length
      ? [
          `http-request set-var-fmt(txn.shadow_key) %[var(txn.rid)]:shadow if ${PREDICTION}`,
          `http-request set-var(txn.shadow_bucket) var(txn.shadow_key),sha2(256),bytes(0,4),be2dec(-,4) if ${PREDICTION}`,
          ...mirrors,
        ]
      : []),
    ...routes,
    'default_backend api',
  );
}

/** Without a data token the runtime answers the request log and feedback on loopback only; behind
 * HAProxy every client would look like loopback to a router beside it, so HAProxy holds the line. */
function loopbackOnly(): string[] {
  const message = `the request log and feedback answer on loopback only, as this deployment has no data token`;
  return [
    `acl protected path ${PROTECTED_PATHS.join(' ')}`,
    `http-request return status 403 content-type application/json string ${quoted(JSON.stringify({ error_code: 'FORBIDDEN', message }))} if protected !{ src 127.0.0.0/8 ::1 }`,
  ];
}

/** The rules that make a request id: a uuid, signed as data_access.py signs the ids it makes when
 * the data token is known: uuid + '.' + the first 16 hex digits of HMAC-SHA256(HMAC-SHA256(token,
 * 'mlops request id'), uuid). */
function newRequestId(signed: boolean, condition: string): string[] {
  if (!signed) return [`http-request set-var(txn.rid) unique-id if ${condition}`];
  return [
    `http-request set-var(txn.id_token) lua.${DATA_TOKEN_FETCH},base64 if ${condition}`,
    `http-request set-var(txn.id_key) str("mlops request id"),hmac(sha256,txn.id_token),base64 if ${condition}`,
    `http-request set-var-fmt(txn.rid) %[unique-id].%[unique-id,hmac(sha256,txn.id_key),bytes(0,8),hex,lower] if ${condition}`,
  ];
}

function metricsSection(input: ProxyInput): string {
  return lines(
    'frontend metrics',
    `bind ${input.bindAddress ?? ''}:${input.metricsPort}`,
    'http-request use-service prometheus-exporter if { path /metrics }',
    'http-request return status 404 content-type text/plain string "the metrics are at /metrics\\n"',
  );
}

/** Where mirror.lua sends the copies: a local socket only HAProxy reaches, routed by X-Mlops-Variant. */
function shadowFrontend(address: string, shadows: ProxyGroup[]): string {
  return lines(
    'frontend shadows',
    `bind ${address}`,
    ...shadows.map(
      (group) => `use_backend ${backendName(group)} if { req.fhdr(x-mlops-variant) -m str ${group.name} }`,
    ),
  );
}

function apiBackend(api: ProxyServer, maxTasks: number): string {
  return lines(
    'backend api',
    'http-reuse always',
    'option redispatch 1',
    `retries ${RETRIES}`,
    'retry-on conn-failure empty-response',
    ...serverLines(api, maxTasks),
  );
}

function groupBackend(group: ProxyGroup, maxTasks: number): string {
  return lines(
    `backend ${backendName(group)}`,
    'balance roundrobin',
    'http-reuse always',
    // A task gone (refused), closing without an answer, or draining (503) is tried again on another.
    // A response timeout is not: the router answers 504 then too, as the task may still be scoring.
    // No health checks, as the router had none: a task that leaves closes its port (or leaves DNS
    // within a second), and a /ping stuck behind a saturated task's queue would mark the only task
    // down and fail every request; retrying costs a refused connection instead.
    'option redispatch 1',
    `retries ${RETRIES}`,
    'retry-on conn-failure empty-response junk-response 503',
    `http-request set-header X-Mlops-Variant ${group.name}`,
    ...(group.shadow ? ['http-request set-header X-Mlops-Shadow 1'] : []),
    `http-response set-header X-Mlops-Variant ${group.name}`,
    `http-response set-header X-Mlops-Backend ${group.name}/%[bc_dst]`,
    ...serverLines(group.server, maxTasks),
  );
}

function serverLines(server: ProxyServer, maxTasks: number): string[] {
  if ('address' in server) return [`server task1 ${server.address}`];
  return [
    `server-template task 1-${maxTasks} ${server.dns}:${server.port} resolvers mlops init-addr none resolve-prefer ipv4`,
  ];
}

function backendName(group: ProxyGroup): string {
  return `group_${group.name}`;
}

/** The first of the 2^32 hash values past a share of [0, 1): a hash below it falls in the share. */
function bound(share: number): number {
  return Math.min(2 ** 32, Math.ceil(share * 2 ** 32));
}

/** A section: its first line, then the others indented. */
function lines(...text: string[]): string {
  const [head, ...body] = text;
  return [head, ...body.map((line) => `    ${line}`)].join('\n');
}

function checkInput(input: ProxyInput): void {
  const where = 'The proxy configuration';
  if (!Array.isArray(input.groups) || input.groups.length === 0)
    throw new MlopsError(`${where} has no groups.`, 'Give at least one group that is not a shadow.');
  const names = new Set<string>();
  for (const group of input.groups) {
    if (!GROUP_NAME.test(group.name))
      throw new MlopsError(
        `${where}: the group name '${group.name}' must be letters, digits, '.', '_' or '-', starting with a letter or digit.`,
      );
    if (names.has(group.name)) throw new MlopsError(`${where} names the group '${group.name}' twice.`);
    names.add(group.name);
    if (!Number.isFinite(group.weight) || group.weight < 0)
      throw new MlopsError(`${where}: the weight of group '${group.name}' must be a number, 0 or more.`);
    if (group.shadow && group.weight > 100)
      throw new MlopsError(
        `${where}: the weight of shadow group '${group.name}' is the percent of requests mirrored to it, 0 to 100, not ${group.weight}.`,
      );
    checkServer(group.server, `group '${group.name}'`);
  }
  if (!input.groups.some((group) => !group.shadow && group.weight > 0))
    throw new MlopsError(`${where} sends no live traffic: give a group that is not a shadow a weight above 0.`);
  checkServer(input.api, 'api');
  const sticky = input.stickyKey;
  if (sticky !== null && !(sticky.startsWith('field:') && sticky.length > 6)) {
    if (!sticky.startsWith('header:') || !HEADER_NAME.test(sticky.slice(7)))
      throw new MlopsError(`${where}: the sticky key '${sticky}' is neither header:NAME nor field:NAME.`);
  }
  checkPort(input.port, 'port');
  if (input.metricsPort !== undefined) checkPort(input.metricsPort, 'metricsPort');
  if (input.dnsResolver !== undefined && !isIpPort(input.dnsResolver))
    throw new MlopsError(`${where}: dnsResolver '${input.dnsResolver}' is not an IPv4 ip:port such as 127.0.0.11:53.`);
  if (input.bindAddress !== undefined && !IPV4.test(input.bindAddress))
    throw new MlopsError(`${where}: bindAddress '${input.bindAddress}' is not an IPv4 address.`);
  const token = input.dataToken;
  if (token !== undefined) {
    const path = 'file' in token ? token.file : undefined;
    if (path !== undefined && !/^\/[!#-~]*$/.test(path))
      throw new MlopsError(`${where}: dataToken.file '${path}' is not an absolute path without spaces or quotes.`);
    if (!('file' in token) && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(token.env))
      throw new MlopsError(`${where}: dataToken.env '${token.env}' is not an environment variable name.`);
  }
  for (const [name, value] of [
    ['maxTasks', input.maxTasks],
    ['maxShadowInFlight', input.maxShadowInFlight],
  ] as const)
    if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > 1000))
      throw new MlopsError(`${where}: ${name} must be a whole number from 1 to 1000, not ${value}.`);
}

function checkServer(server: ProxyServer, what: string): void {
  if ('dns' in server) {
    if (!HOST.test(server.dns))
      throw new MlopsError(`The proxy configuration: the DNS name of ${what}, '${server.dns}', is not a host name.`);
    checkPort(server.port, `the port of ${what}`);
    return;
  }
  const match = /^(.+):(\d{1,5})$/.exec(server.address);
  if (!match || !HOST.test(match[1]) || Number(match[2]) < 1 || Number(match[2]) > 65535)
    throw new MlopsError(`The proxy configuration: the address of ${what}, '${server.address}', is not host:port.`);
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new MlopsError(`The proxy configuration: ${what} must be a TCP port from 1 to 65535, not ${port}.`);
}

function isIpPort(text: string): boolean {
  const match = /^(.+):(\d{1,5})$/.exec(text);
  return Boolean(match && IPV4.test(match[1]) && Number(match[2]) >= 1 && Number(match[2]) <= 65535);
}
