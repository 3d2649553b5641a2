// The scrape configs of a deployment, parsed back from their YAML: Swarm static (router) and DNS,
// Kubernetes pod annotations and ServiceMonitor; the pod template carries the annotations the
// annotations mode relies on. promtool checks the full configs in test/integration/prometheus.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { deploymentManifest, serviceManifest } from '../../src/deploy/targets/kubernetes/manifests';
import {
  endpointAddress,
  MODEL_CONTAINER,
  prometheusYaml,
  ROUTER_METRICS_PATH,
  SCRAPE_ANNOTATION,
  scrapeConfigYaml,
  scrapeJob,
  SERVICE_PORT_NAME,
  serviceMonitorYaml,
} from '../../src/monitor/export/prometheusConfig';
import { describeError } from '../../src/shared/errors';

type Job = Record<string, unknown> & { relabel_configs?: Record<string, unknown>[] };

function onlyJob(yaml: string): Job {
  const parsed = parse(yaml) as { scrape_configs: Job[] };
  assert.equal(parsed.scrape_configs.length, 1);
  return parsed.scrape_configs[0]!;
}

/** What Prometheus' relabelling does with `replace` and `keep`/`drop` (anchored RE2 regexes), for the rules we write. */
function relabel(rules: Record<string, unknown>[], input: Record<string, string>): Record<string, string> | null {
  const labels = { ...input };
  for (const rule of rules) {
    const value = ((rule.source_labels as string[] | undefined) ?? [])
      .map((name) => labels[name] ?? '')
      .join((rule.separator as string) ?? ';');
    const regex = new RegExp(`^(?:${(rule.regex as string) ?? '(.*)'})$`);
    const match = regex.exec(value);
    const action = (rule.action as string) ?? 'replace';
    if (action === 'keep' && !match) return null;
    if (action === 'drop' && match) return null;
    if (action === 'replace' && match) {
      const replacement = ((rule.replacement as string) ?? '$1').replace(
        /\$(\d)/g,
        (_, n: string) => match[Number(n)] ?? '',
      );
      if (replacement) labels[rule.target_label as string] = replacement;
    }
  }
  return labels;
}

test('swarm static: the router published port, its aggregate path, honor_labels, deployment labels', () => {
  const yaml = scrapeConfigYaml({ name: 'churn', target: 'swarm', mode: 'static', address: 'swarm.example.com:8080' });
  assert.match(yaml, /^# Prometheus scrape job for the MLOps deployment churn/);
  const job = onlyJob(yaml);
  assert.deepEqual(job, {
    job_name: 'mlops-churn',
    scrape_interval: '15s',
    metrics_path: ROUTER_METRICS_PATH,
    honor_labels: true,
    static_configs: [{ targets: ['swarm.example.com:8080'], labels: { deployment: 'churn', mlops_target: 'swarm' } }],
  });
  const direct = scrapeJob({
    name: 'churn',
    target: 'swarm',
    mode: 'static',
    address: '127.0.0.1:5000',
    direct: true,
    scrapeInterval: '1s',
  });
  assert.equal(direct.metrics_path, '/metrics');
  assert.equal(direct.scrape_interval, '1s');
});

test('swarm dns: tasks.NAME A records on the container port, labels by relabelling', () => {
  const job = onlyJob(scrapeConfigYaml({ name: 'churn', target: 'swarm', mode: 'dns' }));
  assert.deepEqual(job.dns_sd_configs, [{ names: ['tasks.churn'], type: 'A', port: 8080 }]);
  assert.equal(job.metrics_path, '/metrics');
  assert.deepEqual(relabel(job.relabel_configs!, { __address__: '10.0.1.7:8080' }), {
    __address__: '10.0.1.7:8080',
    deployment: 'churn',
    mlops_target: 'swarm',
  });
});

test('kubernetes annotations: keeps annotated pods of the deployment, at the annotated port and path', () => {
  const job = onlyJob(scrapeConfigYaml({ name: 'churn', target: 'kubernetes', mode: 'annotations', namespace: 'ml' }));
  assert.deepEqual(job.kubernetes_sd_configs, [{ role: 'pod', namespaces: { names: ['ml'] } }]);
  const pod = {
    __address__: '10.1.2.3:8080',
    __meta_kubernetes_namespace: 'ml',
    __meta_kubernetes_pod_name: 'churn-7d9f-abcde',
    __meta_kubernetes_pod_phase: 'Running',
    __meta_kubernetes_pod_container_name: 'model',
    __meta_kubernetes_pod_label_app_kubernetes_io_name: 'churn',
    __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
    __meta_kubernetes_pod_annotation_prometheus_io_port: '9100',
    __meta_kubernetes_pod_annotation_prometheus_io_path: '/metrics',
  };
  const kept = relabel(job.relabel_configs!, pod);
  assert.ok(kept);
  assert.equal(kept.__address__, '10.1.2.3:9100');
  assert.equal(kept.__metrics_path__, '/metrics');
  assert.deepEqual(
    [kept.namespace, kept.pod, kept.deployment, kept.mlops_target],
    ['ml', 'churn-7d9f-abcde', 'churn', 'kubernetes'],
  );
  assert.equal(
    relabel(job.relabel_configs!, { ...pod, __address__: '[fd00::7]:8080' })?.__address__,
    '[fd00::7]:9100',
    'IPv6 keeps its brackets',
  );
  assert.equal(
    relabel(job.relabel_configs!, { ...pod, __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'false' }),
    null,
  );
  assert.equal(
    relabel(job.relabel_configs!, { ...pod, __meta_kubernetes_pod_label_app_kubernetes_io_name: 'churn-v2' }),
    null,
    'another deployment (even with the name as a prefix)',
  );
  assert.equal(
    relabel(job.relabel_configs!, { ...pod, __meta_kubernetes_pod_container_name: 'istio-proxy' }),
    null,
    'one target per pod',
  );
  assert.equal(relabel(job.relabel_configs!, { ...pod, __meta_kubernetes_pod_phase: 'Succeeded' }), null);
});

test('the pod template carries the annotations and the container the annotations mode looks for', () => {
  const input = {
    spec: { name: 'churn', image: 'churn:2', containerPort: 9000 },
    namespace: 'ml',
    imageRef: 'churn:2',
    modelImage: true,
    gitCommit: null,
    mlflowRunId: null,
    deployedBy: 'ana',
    deployedAt: '2026-11-27T10:00:00.000Z',
    pullSecret: null,
  };
  const template = deploymentManifest(input).spec!.template;
  assert.deepEqual(template.metadata?.annotations, {
    [SCRAPE_ANNOTATION.scrape]: 'true',
    [SCRAPE_ANNOTATION.port]: '9000',
    [SCRAPE_ANNOTATION.path]: '/metrics',
  });
  assert.equal(template.spec!.containers[0]!.name, MODEL_CONTAINER);
  assert.equal(template.metadata?.labels?.['app.kubernetes.io/name'], 'churn');
  assert.equal(
    serviceManifest(input.spec, 'ml').spec?.ports?.[0]?.name,
    SERVICE_PORT_NAME,
    'the ServiceMonitor scrapes the named port',
  );
});

test('servicemonitor: selects the Service by its name label, on the http port, in the namespace', () => {
  const yaml = serviceMonitorYaml({ name: 'churn', target: 'kubernetes', mode: 'servicemonitor', namespace: 'ml' });
  assert.equal(
    scrapeConfigYaml({ name: 'churn', target: 'kubernetes', mode: 'servicemonitor', namespace: 'ml' }),
    yaml,
  );
  const monitor = parse(yaml) as {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace: string };
    spec: { selector: unknown; namespaceSelector: unknown; endpoints: Record<string, unknown>[] };
  };
  assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
  assert.equal(monitor.kind, 'ServiceMonitor');
  assert.deepEqual([monitor.metadata.name, monitor.metadata.namespace], ['churn', 'ml']);
  assert.deepEqual(monitor.spec.selector, { matchLabels: { 'app.kubernetes.io/name': 'churn' } });
  assert.deepEqual(monitor.spec.namespaceSelector, { matchNames: ['ml'] });
  assert.deepEqual([monitor.spec.endpoints[0]!.port, monitor.spec.endpoints[0]!.path], ['http', '/metrics']);
  const service = serviceManifest({ name: 'churn', image: 'x' }, 'ml');
  const matchLabels = (monitor.spec.selector as { matchLabels: Record<string, string> }).matchLabels;
  for (const [key, value] of Object.entries(matchLabels))
    assert.equal(service.metadata?.labels?.[key], value, `the Service has ${key}=${value}`);
});

test('the full prometheus.yml has a global section and the one job', () => {
  const full = parse(
    prometheusYaml({ name: 'churn', target: 'swarm', mode: 'static', address: '10.0.0.5:30080', scrapeInterval: '5s' }),
  ) as { global: Record<string, string>; scrape_configs: Job[] };
  assert.deepEqual(full.global, { scrape_interval: '5s', evaluation_interval: '5s' });
  assert.equal(full.scrape_configs[0]!.job_name, 'mlops-churn');
});

test('bad options are refused with a reason', () => {
  const reason = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return describeError(error);
    }
    return '';
  };
  assert.match(
    reason(() => scrapeJob({ name: 'churn', target: 'swarm', mode: 'static' })),
    /needs the router's published address/,
  );
  assert.match(
    reason(() => scrapeJob({ name: 'churn', target: 'swarm', mode: 'static', address: 'http://x:80' })),
    /not a host:port/,
  );
  assert.match(
    reason(() => scrapeJob({ name: 'churn', target: 'swarm', mode: 'annotations' })),
    /does not apply to swarm: use static or dns/,
  );
  assert.match(
    reason(() => scrapeJob({ name: 'churn"}', target: 'swarm', mode: 'dns' })),
    /not a deployment name/,
  );
  assert.match(
    reason(() => scrapeJob({ name: 'churn', target: 'swarm', mode: 'dns', scrapeInterval: '5 seconds' })),
    /not a Prometheus duration/,
  );
  assert.match(
    reason(() => scrapeJob({ name: 'churn', target: 'kubernetes', mode: 'annotations', namespace: 'ML' })),
    /not a Kubernetes namespace/,
  );
});

test('endpoint URLs become host:port', () => {
  assert.equal(endpointAddress('http://127.0.0.1:8080'), '127.0.0.1:8080');
  assert.equal(endpointAddress('http://[::1]:8080/'), '[::1]:8080');
  assert.equal(endpointAddress('https://models.example.com'), 'models.example.com:443');
});
