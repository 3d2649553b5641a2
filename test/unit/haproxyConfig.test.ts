// The HAProxy configuration of the request path, read back line by line: the weighted split matches
// the runtime's assignment.py key for key, sticky headers, request ids, shadows, DNS discovery and the
// inputs refused. test/integration/haproxyProxy.test.ts runs it in the real haproxy.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  haproxyConfig,
  PROXY_COMMAND,
  PROXY_CONFIG_DIR,
  PROXY_METRICS_PATH,
  type ProxyGroup,
  type ProxyInput,
} from '../../src/serving/haproxyConfig';
import { describeError } from '../../src/shared/errors';

const production: ProxyGroup = {
  name: 'production',
  weight: 90,
  shadow: false,
  server: { dns: 'tasks.churn', port: 8080 },
};
const candidate: ProxyGroup = {
  name: 'candidate',
  weight: 10,
  shadow: false,
  server: { dns: 'tasks.churn--candidate', port: 8080 },
};
const shadow: ProxyGroup = { name: 'shadow', weight: 25, shadow: true, server: { address: '10.0.0.7:8080' } };
const BASE: ProxyInput = {
  groups: [production, candidate],
  stickyKey: null,
  api: { dns: 'tasks.churn--api', port: 8080 },
  port: 8080,
  dnsResolver: '127.0.0.11:53',
};

/** The lines of a section, e.g. 'frontend mlops', trimmed; fails when it is missing. */
function section(config: string, head: string): string[] {
  const sections = config.split('\n\n').map((text) => text.split('\n'));
  const found = sections.find((lines) => lines[0] === head);
  assert.ok(found, `no section '${head}' in:\n${config}`);
  return found.slice(1).map((line) => line.trim());
}

/** assignment.py's fraction: the first 8 bytes of the key's SHA-256 over 2^64. */
function fraction(key: string): number {
  return Number(createHash('sha256').update(key, 'utf8').digest().readBigUInt64BE(0)) / 2 ** 64;
}

/** The group the frontend's use_backend rules send a key to, as HAProxy evaluates them. */
function routedGroup(frontend: string[], key: string): string {
  const bucket = createHash('sha256').update(key, 'utf8').digest().readUInt32BE(0);
  for (const line of frontend) {
    const match =
      /^use_backend group_(\S+) if post prediction_path(?: \{ var\(txn\.bucket\) -m int lt (\d+) \})?$/.exec(line);
    if (match && (match[2] === undefined || bucket < Number(match[2]))) return match[1];
  }
  throw new Error(`no use_backend rule took ${key}`);
}

test('the split sends every key to the group the runtime assignment.py picks, by cumulative weight', () => {
  const groups: ProxyGroup[] = [
    { ...production, weight: 70 },
    { ...candidate, weight: 20 },
    { name: 'third', weight: 10, shadow: false, server: { address: 'third:8080' } },
    { name: 'idle', weight: 0, shadow: false, server: { address: 'idle:8080' } },
  ];
  const frontend = section(haproxyConfig({ ...BASE, groups }).config, 'frontend mlops');
  const counts = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    const key = `user-${i}`;
    const share = fraction(key) * 100;
    const expected = share < 70 ? 'production' : share < 90 ? 'candidate' : 'third';
    const got = routedGroup(frontend, key);
    assert.equal(got, expected, key);
    counts.set(got, (counts.get(got) ?? 0) + 1);
  }
  assert.ok(Math.abs(counts.get('candidate')! / 20_000 - 0.2) < 0.02, JSON.stringify([...counts]));
  assert.ok(!frontend.some((line) => line.includes('group_idle')), 'a group of weight 0 gets no traffic');
  assert.deepEqual(
    frontend.filter((line) => line.startsWith('use_backend')),
    [
      'use_backend group_production if post prediction_path { var(txn.bucket) -m int lt 3006477108 }',
      'use_backend group_candidate if post prediction_path { var(txn.bucket) -m int lt 3865470567 }',
      'use_backend group_third if post prediction_path',
    ],
  );
});

test('predictions hash the request id, or the sticky header when set; everything else goes to the api', () => {
  const byId = section(haproxyConfig(BASE).config, 'frontend mlops');
  assert.ok(byId.includes('acl prediction_path path /invocations'));
  assert.ok(byId.includes('acl prediction_path path_reg ^/v2/models/[^/]+(/versions/[^/]+)?/infer$'));
  assert.ok(byId.includes('http-request set-var(txn.key) var(txn.rid) if post prediction_path'));
  assert.ok(!byId.some((line) => line.includes('req.fhdr(X-User-Id')));
  assert.equal(byId.at(-1), 'default_backend api');

  const sticky = section(haproxyConfig({ ...BASE, stickyKey: 'header:X-User-Id' }).config, 'frontend mlops');
  const keyed = sticky.findIndex((line) => line.startsWith('http-request set-var(txn.key) req.fhdr(X-User-Id,1)'));
  assert.ok(keyed > sticky.indexOf('http-request set-var(txn.key) var(txn.rid) if post prediction_path'));
  assert.match(sticky[keyed], /\{ req\.fhdr\(X-User-Id,1\),length gt 0 \}$/, 'an empty header falls back to the id');
});

test("a client's request id is kept when the model server would keep it, else HAProxy makes one", () => {
  const frontend = section(haproxyConfig(BASE).config, 'frontend mlops');
  assert.ok(frontend.includes('unique-id-format %[uuid()]'));
  const kept = frontend.find((line) => line.startsWith('http-request set-var(txn.rid) req.fhdr(x-request-id,1)'));
  assert.ok(kept?.endsWith('{ req.fhdr(x-request-id,1) -m reg ^[!-~]{1,200}$ }'), kept);
  assert.ok(
    frontend.includes('http-request set-var(txn.rid) unique-id if post prediction_path !{ var(txn.rid) -m found }'),
  );
  assert.ok(frontend.includes('http-request set-header X-Request-Id %[var(txn.rid)] if post prediction_path'));
  assert.ok(frontend.includes('http-request del-header X-Mlops-Shadow if post prediction_path'));
});

test('with the data token, the ids HAProxy makes are signed as data_access.py signs them', () => {
  const files = haproxyConfig({ ...BASE, dataToken: { file: '/run/secrets/mlops-data-token' } });
  const frontend = section(files.config, 'frontend mlops');
  const making = frontend.filter((line) => line.endsWith('if post prediction_path !{ var(txn.rid) -m found }'));
  assert.deepEqual(making, [
    'http-request set-var(txn.id_token) lua.mlops_data_token,base64 if post prediction_path !{ var(txn.rid) -m found }',
    'http-request set-var(txn.id_key) str("mlops request id"),hmac(sha256,txn.id_token),base64 if post prediction_path !{ var(txn.rid) -m found }',
    'http-request set-var-fmt(txn.rid) %[unique-id].%[unique-id,hmac(sha256,txn.id_key),bytes(0,8),hex,lower] if post prediction_path !{ var(txn.rid) -m found }',
  ]);
  assert.match(files.lua, /io\.open\("\/run\/secrets\/mlops-data-token", "r"\)/);
  assert.match(files.lua, /core\.register_fetches\("mlops_data_token"/);
  const fromEnv = haproxyConfig({ ...BASE, dataToken: { env: 'MLOPS_DATA_TOKEN' } }).lua;
  assert.match(fromEnv, /os\.getenv\("MLOPS_DATA_TOKEN"\)/);
  assert.doesNotMatch(haproxyConfig(BASE).lua, /mlops_data_token/);
  assert.ok(!frontend.some((line) => line.includes('protected')), 'the Python router checks the token');
});

test('without the data token, the request log and feedback answer loopback clients only, as the runtime does', () => {
  const frontend = section(haproxyConfig(BASE).config, 'frontend mlops');
  assert.ok(frontend.includes('acl protected path /requests /feedback /router/backends/requests'));
  const refusal = frontend.find((line) => line.startsWith('http-request return status 403'));
  assert.match(refusal ?? '', / if protected !\{ src 127\.0\.0\.0\/8 ::1 \}$/);
  assert.match(refusal ?? '', /string "\{\\"error_code\\":\\"FORBIDDEN\\",/);
  const errors = section(haproxyConfig(BASE).config, 'defaults').filter((line) => line.startsWith('http-error'));
  assert.deepEqual(
    errors.map((line) => line.split(' ')[2]),
    ['502', '503', '504'],
  );
});

test('each group backend sets its variant, retries elsewhere on refusal or 503, and reuses connections', () => {
  const config = haproxyConfig(BASE).config;
  const backend = section(config, 'backend group_candidate');
  for (const line of [
    'http-reuse always',
    'option redispatch 1',
    'retry-on conn-failure empty-response junk-response 503',
    'http-request set-header X-Mlops-Variant candidate',
    'http-response set-header X-Mlops-Variant candidate',
  ])
    assert.ok(backend.includes(line), `${line} in\n${backend.join('\n')}`);
  assert.ok(
    backend.includes(
      'server-template task 1-16 tasks.churn--candidate:8080 resolvers mlops init-addr none resolve-prefer ipv4',
    ),
  );
  assert.deepEqual(section(config, 'backend api').slice(-1), [
    'server-template task 1-16 tasks.churn--api:8080 resolvers mlops init-addr none resolve-prefer ipv4',
  ]);
  const resolvers = section(config, 'resolvers mlops');
  assert.ok(resolvers.includes('nameserver dns 127.0.0.11:53'));
  assert.ok(resolvers.includes('hold valid 1s') && resolvers.includes('timeout resolve 1s'));
  assert.ok(section(config, 'global').includes(`lua-load ${PROXY_CONFIG_DIR}/mirror.lua`));
  assert.deepEqual(PROXY_COMMAND, ['haproxy', '-W', '-db', '-f', '/usr/local/etc/haproxy/haproxy.cfg']);
});

test('fixed addresses need no resolvers; without a resolver given, resolv.conf is read', () => {
  const fixed = haproxyConfig({
    ...BASE,
    groups: [{ ...production, server: { address: '127.0.0.1:9001' } }],
    api: { address: '127.0.0.1:9000' },
    bindAddress: '127.0.0.1',
    maxTasks: 4,
  }).config;
  assert.ok(!fixed.includes('resolvers mlops'));
  assert.ok(section(fixed, 'backend group_production').includes('server task1 127.0.0.1:9001'));
  assert.ok(section(fixed, 'frontend mlops').includes('bind 127.0.0.1:8080'));
  const resolved = haproxyConfig({ ...BASE, dnsResolver: undefined, maxTasks: 4 }).config;
  assert.ok(section(resolved, 'resolvers mlops').includes('parse-resolv-conf'));
  assert.match(resolved, /server-template task 1-4 tasks\.churn:8080 /);
});

test('a shadow gets its percent of the request ids through mirror.lua, as assignment.py mirrors them', () => {
  const files = haproxyConfig({ ...BASE, groups: [production, candidate, shadow], maxShadowInFlight: 32 });
  const frontend = section(files.config, 'frontend mlops');
  const action = frontend.find((line) => line.startsWith('http-request lua.mlops_mirror shadow'));
  const bound = Number(/lt (\d+) \}$/.exec(action ?? '')?.[1]);
  assert.equal(bound, 2 ** 30, action);
  let mirrored = 0;
  for (let i = 0; i < 10_000; i++) {
    const key = `request-${i}:shadow`;
    const hashed = createHash('sha256').update(key).digest().readUInt32BE(0) < bound;
    assert.equal(hashed, fraction(key) * 100 < 25, key);
    if (hashed) mirrored++;
  }
  assert.ok(Math.abs(mirrored / 10_000 - 0.25) < 0.02);
  assert.ok(!frontend.some((line) => line.includes('use_backend group_shadow')), 'no live traffic to a shadow');
  assert.deepEqual(section(files.config, 'frontend shadows'), [
    'bind abns@mlops-shadow-8080',
    'use_backend group_shadow if { req.fhdr(x-mlops-variant) -m str shadow }',
  ]);
  assert.ok(section(files.config, 'backend group_shadow').includes('http-request set-header X-Mlops-Shadow 1'));
  assert.match(files.lua, /^local GROUPS = \{ "shadow" \}$/m);
  assert.match(files.lua, /^local MAX_IN_FLIGHT = 32$/m);
  assert.match(files.lua, /^local ADDRESS = "abns@mlops-shadow-8080"$/m);
  assert.match(files.lua, /core\.register_action\("mlops_mirror", \{ "http-req" \}/);
});

test('a field sticky key, which HAProxy cannot read from a JSON body, sends everything to the Python router', () => {
  const files = haproxyConfig({ ...BASE, groups: [production, candidate, shadow], stickyKey: 'field:user_id' });
  const frontend = section(files.config, 'frontend mlops');
  assert.ok(!frontend.some((line) => line.startsWith('use_backend') || line.includes('lua.mlops_mirror')));
  assert.ok(frontend.some((line) => line.startsWith('#') && line.includes('body field')));
  assert.equal(frontend.at(-1), 'default_backend api');
  assert.ok(!files.config.includes('backend group_'));
  assert.match(files.lua, /^local GROUPS = \{ {2}\}$/m);
});

test('the Prometheus exporter answers on the published port, and on metricsPort when set', () => {
  const config = haproxyConfig({ ...BASE, metricsPort: 9101 }).config;
  assert.ok(
    section(config, 'frontend mlops').includes(
      `http-request use-service prometheus-exporter if { path ${PROXY_METRICS_PATH} }`,
    ),
  );
  const metrics = section(config, 'frontend metrics');
  assert.equal(metrics[0], 'bind :9101');
  assert.ok(metrics.includes('http-request use-service prometheus-exporter if { path /metrics }'));
  assert.ok(!haproxyConfig(BASE).config.includes('frontend metrics'));
});

test('inputs HAProxy cannot run are refused, naming the field', () => {
  const refused: [Partial<ProxyInput>, RegExp][] = [
    [{ groups: [] }, /has no groups/],
    [{ groups: [{ ...production, name: 'bad name' }] }, /group name 'bad name'/],
    [{ groups: [production, { ...candidate, name: 'production' }] }, /names the group 'production' twice/],
    [{ groups: [{ ...production, weight: -1 }] }, /weight of group 'production'/],
    [{ groups: [production, { ...shadow, weight: 150 }] }, /shadow group 'shadow'.*not 150/],
    [{ groups: [{ ...production, weight: 0 }, shadow] }, /sends no live traffic/],
    [{ groups: [{ ...production, server: { dns: 'tasks churn', port: 8080 } }] }, /DNS name of group 'production'/],
    [{ groups: [{ ...production, server: { address: 'churn' } }] }, /address of group 'production', 'churn'/],
    [{ api: { address: 'router:99999' } }, /address of api/],
    [{ stickyKey: 'cookie:user' }, /sticky key 'cookie:user'/],
    [{ stickyKey: 'header:X User' }, /sticky key 'header:X User'/],
    [{ port: 0 }, /port must be a TCP port/],
    [{ metricsPort: 70000 }, /metricsPort must be a TCP port/],
    [{ dnsResolver: 'dns:53' }, /dnsResolver 'dns:53'/],
    [{ bindAddress: 'localhost' }, /bindAddress 'localhost'/],
    [{ maxTasks: 0 }, /maxTasks must be a whole number/],
    [{ dataToken: { file: 'token.txt' } }, /dataToken\.file 'token\.txt'/],
    [{ dataToken: { file: '/run/a "b"' } }, /dataToken\.file/],
    [{ dataToken: { env: 'MLOPS-TOKEN' } }, /dataToken\.env 'MLOPS-TOKEN'/],
  ];
  for (const [change, message] of refused)
    assert.throws(
      () => haproxyConfig({ ...BASE, ...change }),
      (error: unknown) => message.test(describeError(error)),
      JSON.stringify(change),
    );
});
