// Prometheus scrape configuration for one deployment, as YAML to paste into an existing
// prometheus.yml (a `scrape_configs` snippet), as a full minimal prometheus.yml, or, for the
// Prometheus Operator, as a ServiceMonitor. Every series gets `deployment` and `mlops_target`
// labels, so the Grafana dashboard (grafanaDashboard.ts) selects it by deployment.
// - Swarm `static`: the router's published host:port, path /router/backends/metrics (every task's
//   /metrics with `instance` and `group` labels of its own, hence honor_labels), for a Prometheus
//   outside the swarm. With `direct`, a model server's own /metrics instead.
// - Swarm `dns`: DNS service discovery of `tasks.NAME` (one A record per task), port 8080, for a
//   Prometheus attached to the deployment's overlay network.
// - Kubernetes `annotations`: pod discovery in the namespace, keeping the pods annotated
//   prometheus.io/scrape=true with app.kubernetes.io/name=NAME, at prometheus.io/port and path.
// - Kubernetes `servicemonitor`: a monitoring.coreos.com/v1 ServiceMonitor on the Service's `http` port.
// Pure: no I/O, so the output is unit-tested and checked with promtool.
import { Document } from 'yaml';
import { MlopsError } from '../../shared/errors';

export type ScrapeTargetKind = 'swarm' | 'kubernetes';
export type ScrapeMode = 'static' | 'dns' | 'annotations' | 'servicemonitor';

export const SCRAPE_MODES: Record<ScrapeTargetKind, readonly ScrapeMode[]> = {
  swarm: ['static', 'dns'],
  kubernetes: ['annotations', 'servicemonitor'],
};

/** Where the router serves every task's metrics, relabelled per task. */
export const ROUTER_METRICS_PATH = '/router/backends/metrics';
export const SERVER_METRICS_PATH = '/metrics';
export const DEFAULT_CONTAINER_PORT = 8080;
export const DEFAULT_SCRAPE_INTERVAL = '15s';
/** The model container of a Kubernetes deployment's pods (manifests.ts); other containers are not scraped. */
export const MODEL_CONTAINER = 'model';
/** The Service port name the ServiceMonitor scrapes (manifests.ts names it). */
export const SERVICE_PORT_NAME = 'http';

/** The pod annotations the `annotations` mode relies on (manifests.ts sets them on the pod template). */
export const SCRAPE_ANNOTATION = {
  scrape: 'prometheus.io/scrape',
  port: 'prometheus.io/port',
  path: 'prometheus.io/path',
} as const;

export interface ScrapeConfigOptions {
  /** The deployment name. */
  name: string;
  target: ScrapeTargetKind;
  mode: ScrapeMode;
  /** Swarm static: the router's published `host:port`. */
  address?: string;
  /** Swarm static: scrape a model server's own /metrics at `address` rather than the router's aggregate. */
  direct?: boolean;
  /** Kubernetes: the deployment's namespace (default "default"). */
  namespace?: string;
  /** Swarm dns: the model server's container port (default 8080). */
  containerPort?: number;
  /** The job's scrape interval (default 15s). */
  scrapeInterval?: string;
  /** Default `mlops-NAME`. */
  jobName?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

/** host:port of an endpoint URL such as http://127.0.0.1:8080 (IPv6 hosts in brackets). */
export function endpointAddress(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'https:' ? '443' : '80')}`;
}

export function jobNameOf(name: string): string {
  return `mlops-${name}`;
}

/** Checks the options, saying what is wrong in CLI terms. */
export function checkScrapeOptions(options: ScrapeConfigOptions): void {
  if (!NAME.test(options.name))
    throw new MlopsError(`"${options.name}" is not a deployment name (letters, digits, '-', '_' and '.').`);
  if (!SCRAPE_MODES[options.target]?.includes(options.mode)) {
    throw new MlopsError(
      `--mode ${options.mode} does not apply to ${options.target}: use ${SCRAPE_MODES[options.target]?.join(' or ') ?? 'swarm or kubernetes as the target'}.`,
    );
  }
  if (options.mode === 'static') {
    if (!options.address)
      throw new MlopsError(
        `The static scrape config of ${options.name} needs the router's published address (host:port).`,
      );
    if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(options.address))
      throw new MlopsError(`"${options.address}" is not a host:port address.`);
  }
  if (options.scrapeInterval !== undefined && !DURATION.test(options.scrapeInterval))
    throw new MlopsError(`"${options.scrapeInterval}" is not a Prometheus duration (such as 15s or 1m).`);
  if (options.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.namespace))
    throw new MlopsError(`"${options.namespace}" is not a Kubernetes namespace.`);
}

/** RE2 with everything but letters, digits, '-' and '_' escaped, anchored as Prometheus anchors relabel regexes. */
function literalRegex(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, (c) => `\\${c}`);
}

function constantLabel(label: string, value: string): Record<string, unknown> {
  return { target_label: label, replacement: value };
}

/** One `scrape_configs` entry, as an object (its YAML is what scrapeConfigYaml writes). */
export function scrapeJob(options: ScrapeConfigOptions): Record<string, unknown> {
  checkScrapeOptions(options);
  if (options.mode === 'servicemonitor')
    throw new MlopsError('A ServiceMonitor is no scrape_configs entry: the Prometheus Operator makes the job from it.');
  const job = options.jobName ?? jobNameOf(options.name);
  const interval = options.scrapeInterval ?? DEFAULT_SCRAPE_INTERVAL;
  const common = { job_name: job, scrape_interval: interval };
  switch (options.mode) {
    case 'static':
      return {
        ...common,
        metrics_path: options.direct ? SERVER_METRICS_PATH : ROUTER_METRICS_PATH,
        // The router labels each task's series with its own instance and group: keep them.
        honor_labels: true,
        static_configs: [
          { targets: [options.address], labels: { deployment: options.name, mlops_target: options.target } },
        ],
      };
    case 'dns':
      return {
        ...common,
        metrics_path: SERVER_METRICS_PATH,
        dns_sd_configs: [
          { names: [`tasks.${options.name}`], type: 'A', port: options.containerPort ?? DEFAULT_CONTAINER_PORT },
        ],
        relabel_configs: [constantLabel('deployment', options.name), constantLabel('mlops_target', options.target)],
      };
    case 'annotations': {
      const namespace = options.namespace ?? 'default';
      return {
        ...common,
        kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [namespace] } }],
        relabel_configs: [
          { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], action: 'keep', regex: 'true' },
          {
            source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'],
            action: 'keep',
            regex: literalRegex(options.name),
          },
          // One target per pod: the model container's, not a sidecar's or an init container's.
          { source_labels: ['__meta_kubernetes_pod_container_name'], action: 'keep', regex: MODEL_CONTAINER },
          { source_labels: ['__meta_kubernetes_pod_phase'], action: 'drop', regex: 'Pending|Succeeded|Failed' },
          // host[:port] and the annotated port make the address (IPv6 hosts keep their brackets).
          {
            source_labels: ['__address__', '__meta_kubernetes_pod_annotation_prometheus_io_port'],
            action: 'replace',
            regex: '(.+?)(?::\\d+)?;(\\d+)',
            replacement: '$1:$2',
            target_label: '__address__',
          },
          {
            source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'],
            action: 'replace',
            regex: '(.+)',
            target_label: '__metrics_path__',
          },
          { source_labels: ['__meta_kubernetes_namespace'], action: 'replace', target_label: 'namespace' },
          { source_labels: ['__meta_kubernetes_pod_name'], action: 'replace', target_label: 'pod' },
          constantLabel('deployment', options.name),
          constantLabel('mlops_target', options.target),
        ],
      };
    }
  }
}

function describe(options: ScrapeConfigOptions): string {
  switch (options.mode) {
    case 'static':
      return options.direct
        ? `the model server at ${options.address} (its own /metrics)`
        : `the router of ${options.name} at ${options.address} (every task's /metrics, labelled with its instance and group)`;
    case 'dns':
      return `every task of ${options.name}, found by DNS (tasks.${options.name}); Prometheus must run in a container on the deployment's overlay network`;
    case 'annotations':
      return `the pods of ${options.name} in namespace ${options.namespace ?? 'default'}, found by the Kubernetes API (annotations prometheus.io/scrape, port and path); Prometheus needs RBAC to list and watch pods there`;
    case 'servicemonitor':
      return `the Service ${options.name} in namespace ${options.namespace ?? 'default'}, port ${SERVICE_PORT_NAME}, through the Prometheus Operator`;
  }
}

function yamlOf(value: unknown, comment: string): string {
  const document = new Document(value);
  document.commentBefore = comment
    .split('\n')
    .map((line) => (line ? ` ${line}` : ''))
    .join('\n');
  return document.toString({ lineWidth: 0 });
}

/** A `scrape_configs:` snippet with the one job, to merge into an existing prometheus.yml. */
export function scrapeConfigYaml(options: ScrapeConfigOptions): string {
  if (options.mode === 'servicemonitor') return serviceMonitorYaml(options);
  const job = scrapeJob(options);
  return yamlOf(
    { scrape_configs: [job] },
    `Prometheus scrape job for the MLOps deployment ${options.name}: ${describe(options)}.\nAdd the entry under scrape_configs in prometheus.yml, then reload Prometheus.`,
  );
}

/** A complete minimal prometheus.yml that scrapes only this deployment. */
export function prometheusYaml(options: ScrapeConfigOptions & { evaluationInterval?: string }): string {
  if (options.mode === 'servicemonitor') return serviceMonitorYaml(options);
  const job = scrapeJob(options);
  const interval = options.scrapeInterval ?? DEFAULT_SCRAPE_INTERVAL;
  return yamlOf(
    {
      global: { scrape_interval: interval, evaluation_interval: options.evaluationInterval ?? interval },
      scrape_configs: [job],
    },
    `A minimal prometheus.yml for the MLOps deployment ${options.name}: ${describe(options)}.\nRun: prometheus --config.file=prometheus.yml`,
  );
}

/** The ServiceMonitor object (Prometheus Operator) for a Kubernetes deployment's Service. */
export function serviceMonitor(options: ScrapeConfigOptions): Record<string, unknown> {
  checkScrapeOptions({ ...options, mode: 'servicemonitor', target: 'kubernetes' });
  const namespace = options.namespace ?? 'default';
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: {
      name: options.name,
      namespace,
      labels: { 'app.kubernetes.io/name': options.name, 'app.kubernetes.io/managed-by': 'mlops' },
    },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': options.name } },
      namespaceSelector: { matchNames: [namespace] },
      endpoints: [
        {
          port: SERVICE_PORT_NAME,
          path: SERVER_METRICS_PATH,
          interval: options.scrapeInterval ?? DEFAULT_SCRAPE_INTERVAL,
          relabelings: [
            { action: 'replace', targetLabel: 'deployment', replacement: options.name },
            { action: 'replace', targetLabel: 'mlops_target', replacement: 'kubernetes' },
          ],
        },
      ],
    },
  };
}

export function serviceMonitorYaml(options: ScrapeConfigOptions): string {
  return yamlOf(
    serviceMonitor(options),
    `ServiceMonitor for the MLOps deployment ${options.name}: ${describe({ ...options, mode: 'servicemonitor' })}.\nApply it with kubectl apply -f; your Prometheus resource's serviceMonitorSelector must match its labels (add a release label if it asks for one).`,
  );
}
