// `mlops export grafana | prometheus`: what it prints, the defaults per target, the router address
// looked up when not given, the push with GRAFANA_TOKEN (to a recording stand-in of Grafana), and
// usage errors.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { runCli, type CliContext } from '../../src/shared/cliFramework';
import type { Endpoint } from '../../src/deploy/targets/deployTarget';
import { createExportCommand, type ExportDeps } from '../../src/monitor/export/cli';
import { MlopsError } from '../../src/shared/errors';
import { startFakeGrafana, type FakeGrafana } from '../support/fakeGrafana';

const TOKEN = 'glsa_cliToken_5678';
const lookups: string[] = [];
let endpoints: Endpoint[] | Error = [{ url: 'http://10.0.0.5:30080', publishMode: 'ingress' }];
const env: NodeJS.ProcessEnv = {};
const deps: ExportDeps = {
  env,
  endpoints: async (context: CliContext, name: string) => {
    lookups.push(`${name} on ${String(context.values['docker-host'] ?? 'the local engine')}`);
    if (endpoints instanceof Error) throw endpoints;
    return endpoints;
  },
  namespace: async (context: CliContext) => `from-${String(context.values.context ?? 'current')}-context`,
};
const program = { name: 'mlops', version: '0.0.0', commands: [createExportCommand(deps)] };

async function cli(...argv: string[]) {
  const out = { stdout: '', stderr: '' };
  const code = await runCli(program, argv, {
    stdout: (text) => (out.stdout += text),
    stderr: (text) => (out.stderr += text),
  });
  return { code, ...out };
}

let grafana: FakeGrafana;
before(async () => {
  grafana = await startFakeGrafana();
});
after(() => grafana.close());

test('export grafana prints the dashboard JSON', async () => {
  const { code, stdout, stderr } = await cli('export', 'grafana', '--name', 'churn');
  assert.equal(code, 0, stderr);
  const dashboard = JSON.parse(stdout) as { title: string; uid: string; panels: { type: string }[] };
  assert.equal(dashboard.title, 'MLOps · churn');
  assert.equal(dashboard.uid, 'mlops-churn');
  assert.ok(dashboard.panels.length >= 7 && dashboard.panels.every((p) => p.type === 'timeseries'));
});

test('export prometheus: swarm static by default, with --address or the published address', async () => {
  const given = await cli('export', 'prometheus', '--name', 'churn', '--address', 'models.example.com:8080');
  assert.equal(given.code, 0, given.stderr);
  assert.match(given.stdout, /^# Prometheus scrape job for the MLOps deployment churn/);
  const job = (parse(given.stdout) as { scrape_configs: Record<string, unknown>[] }).scrape_configs[0]!;
  assert.equal(job.metrics_path, '/router/backends/metrics');
  assert.equal(job.honor_labels, true);
  assert.deepEqual(job.static_configs, [
    { targets: ['models.example.com:8080'], labels: { deployment: 'churn', mlops_target: 'swarm' } },
  ]);
  assert.deepEqual(lookups, [], 'no lookup when the address is given');

  const looked = await cli('export', 'prometheus', '--name', 'churn', '--docker-host', 'tcp://swarm:2376', '--json');
  assert.equal(looked.code, 0, looked.stderr);
  assert.deepEqual(lookups, ['churn on tcp://swarm:2376']);
  const answer = JSON.parse(looked.stdout) as { target: string; mode: string; address: string; yaml: string };
  assert.deepEqual([answer.target, answer.mode, answer.address], ['swarm', 'static', '10.0.0.5:30080']);
  assert.match(answer.yaml, /- 10\.0\.0\.5:30080/);

  endpoints = [];
  const unpublished = await cli('export', 'prometheus', '--name', 'churn');
  assert.equal(unpublished.code, 1);
  assert.match(unpublished.stderr, /churn publishes no port.*--address HOST:PORT.*--mode dns/s);
  endpoints = new MlopsError('No Docker Engine answered at /var/run/docker.sock.', 'Start Docker.');
  const noEngine = await cli('export', 'prometheus', '--name', 'churn');
  assert.equal(noEngine.code, 1);
  assert.equal(
    noEngine.stderr,
    "mlops: No Docker Engine answered at /var/run/docker.sock.\nStart Docker. Or give the router's published address with --address HOST:PORT.\n",
  );
  endpoints = [{ url: 'http://10.0.0.5:30080', publishMode: 'ingress' }];
});

test('export prometheus: dns, the full prometheus.yml, kubernetes annotations and servicemonitor', async () => {
  const dns = await cli(
    'export',
    'prometheus',
    '--name',
    'churn',
    '--mode',
    'dns',
    '--full',
    '--scrape-interval',
    '5s',
  );
  assert.equal(dns.code, 0, dns.stderr);
  const full = parse(dns.stdout) as {
    global: { scrape_interval: string };
    scrape_configs: { dns_sd_configs: unknown }[];
  };
  assert.equal(full.global.scrape_interval, '5s');
  assert.deepEqual(full.scrape_configs[0]!.dns_sd_configs, [{ names: ['tasks.churn'], type: 'A', port: 8080 }]);

  const pods = await cli('export', 'prometheus', '--name', 'churn', '--target', 'kubernetes', '--namespace', 'ml');
  assert.equal(pods.code, 0, pods.stderr);
  assert.deepEqual(
    (parse(pods.stdout) as { scrape_configs: { kubernetes_sd_configs: unknown }[] }).scrape_configs[0]!
      .kubernetes_sd_configs,
    [{ role: 'pod', namespaces: { names: ['ml'] } }],
  );

  const monitor = await cli(
    'export',
    'prometheus',
    '--name',
    'churn',
    '--target',
    'kubernetes',
    '--mode',
    'servicemonitor',
    '--context',
    'prod',
  );
  assert.equal(monitor.code, 0, monitor.stderr);
  const object = parse(monitor.stdout) as { kind: string; metadata: { namespace: string } };
  assert.equal(object.kind, 'ServiceMonitor');
  assert.equal(object.metadata.namespace, 'from-prod-context', "without --namespace, the context's");
});

test('usage errors exit with 2 and say what is wrong; a token is never a flag', async () => {
  const cases: [string[], RegExp][] = [
    [['export'], /export needs what to export: grafana or prometheus/],
    [['export', 'loki', '--name', 'x'], /export takes grafana or prometheus, not 'loki'/],
    [['export', 'grafana'], /--name NAME is required/],
    [['export', 'prometheus', '--name', 'x', '--target', 'nomad'], /--target takes swarm or kubernetes/],
    [
      ['export', 'prometheus', '--name', 'x', '--target', 'kubernetes', '--mode', 'dns'],
      /--mode takes annotations or servicemonitor with --target kubernetes/,
    ],
    [['export', 'prometheus', '--name', 'x', '--mode', 'dns', '--address', 'a:1'], /--address goes with --mode static/],
    [['export', 'grafana', '--name', 'x', '--push'], /--push needs --grafana-url URL/],
    [
      ['export', 'grafana', '--name', 'x', '--grafana-url', 'http://g:3000'],
      /--grafana-url and --folder go with --push/,
    ],
    [
      ['export', 'grafana', '--name', 'x', '--push', '--grafana-url', 'http://g:3000', '--token', 'abc'],
      /never a flag.*GRAFANA_TOKEN/,
    ],
  ];
  for (const [argv, message] of cases) {
    const { code, stderr } = await cli(...argv);
    assert.equal(code, 2, argv.join(' '));
    assert.match(stderr, message, argv.join(' '));
  }
});

test('export grafana --push saves it with GRAFANA_TOKEN and prints where', async () => {
  delete env.GRAFANA_TOKEN;
  const missing = await cli('export', 'grafana', '--name', 'churn', '--push', '--grafana-url', grafana.url);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /GRAFANA_TOKEN is not set/);

  env.GRAFANA_TOKEN = TOKEN;
  grafana.answer({
    status: 200,
    body: { uid: 'mlops-churn', url: '/d/mlops-churn/mlops-churn', version: 2, status: 'success' },
  });
  const pushed = await cli(
    'export',
    'grafana',
    '--name',
    'churn',
    '--push',
    '--grafana-url',
    grafana.url,
    '--folder',
    'ml',
  );
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.equal(pushed.stdout, `Saved MLOps · churn in Grafana: ${grafana.url}/d/mlops-churn/mlops-churn (version 2)\n`);
  const request = grafana.requests.at(-1)!;
  assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal((JSON.parse(request.body) as { folderUid: string }).folderUid, 'ml');

  grafana.answer({ status: 401, body: { message: 'invalid API key' } });
  const refused = await cli('export', 'grafana', '--name', 'churn', '--push', '--json');
  assert.equal(refused.code, 2, 'no URL: GRAFANA_URL is not set either');
  env.GRAFANA_URL = grafana.url;
  const unauthorized = await cli('export', 'grafana', '--name', 'churn', '--push', '--json');
  assert.equal(unauthorized.code, 1);
  const error = JSON.parse(unauthorized.stderr) as { error: string; remedy: string };
  assert.match(error.error, /did not accept the token \(HTTP 401/);
  assert.ok(!unauthorized.stderr.includes(TOKEN));
});
