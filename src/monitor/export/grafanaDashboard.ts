// A Grafana dashboard (classic JSON model) for one deployment, over the model server's Prometheus
// metrics as the scrape configs of prometheusConfig.ts label them (deployment="NAME"): request
// rate, error rate and latency quantiles per version, predictions per class, the mean numeric
// prediction, feature means and the missing-value rate per feature. A `datasource` variable picks
// the Prometheus data source and a multi-value `version` variable the versions shown. Pure.
import { createHash } from 'node:crypto';
import { MlopsError } from '../../shared/errors';

/** The dashboard JSON model version this is written for (Grafana 10.4 to 11 read it as is). */
export const SCHEMA_VERSION = 39;

export interface DashboardOptions {
  /** The deployment name. */
  name: string;
  /** Default: last hour. */
  timeFrom?: string;
  /** Auto-refresh; default 30s. */
  refresh?: string;
}

export interface DataSourceRef {
  type: string;
  uid: string;
}

export interface PrometheusTarget {
  refId: string;
  datasource: DataSourceRef;
  expr: string;
  legendFormat: string;
  range: boolean;
}

export interface TimeseriesPanel {
  id: number;
  type: 'timeseries';
  title: string;
  description: string;
  datasource: DataSourceRef;
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig: {
    defaults: { unit: string; min?: number; max?: number; decimals?: number; custom?: Record<string, unknown> };
    overrides: unknown[];
  };
  options: Record<string, unknown>;
  targets: PrometheusTarget[];
}

export interface TemplateVariable {
  type: 'datasource' | 'query';
  name: string;
  label: string;
  query: string;
  [key: string]: unknown;
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: string;
  editable: boolean;
  graphTooltip: number;
  time: { from: string; to: string };
  refresh: string;
  schemaVersion: number;
  panels: TimeseriesPanel[];
  templating: { list: TemplateVariable[] };
  annotations: { list: Record<string, unknown>[] };
  links: unknown[];
}

const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };
const RATE = '$__rate_interval';

/** A PromQL string literal. */
function quoted(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * The dashboard's uid: `mlops-NAME` in Grafana's alphabet (letters, digits, '-' and '_'), at most
 * 40 characters; a longer or rewritten name ends in a hash of the name so that two names never share one.
 */
export function dashboardUid(name: string): string {
  const plain = `mlops-${name}`;
  const safe = plain.replace(/[^A-Za-z0-9_-]/g, '-');
  if (safe === plain && safe.length <= 40) return safe;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${safe.slice(0, 31)}-${hash}`;
}

export function dashboardTitle(name: string): string {
  return `MLOps · ${name}`;
}

/** Every expr of the dashboard's panels, in panel order, for checks against a real Prometheus. */
export function dashboardExprs(dashboard: GrafanaDashboard): string[] {
  return dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
}

export function grafanaDashboard(options: DashboardOptions): GrafanaDashboard {
  const { name } = options;
  if (!name.trim()) throw new MlopsError('A Grafana dashboard needs the deployment name.');
  const deployment = quoted(name);
  const selector = `deployment=${deployment}, version=~"$version"`;
  const rate = (metric: string, by: string) => `sum by (${by}) (rate(${metric}{${selector}}[${RATE}]))`;
  const requests = rate('mlops_requests_total', 'version');

  let nextId = 1;
  const panel = (
    title: string,
    description: string,
    unit: string,
    targets: { expr: string; legend: string }[],
    extra: { min?: number; max?: number; decimals?: number } = {},
  ): TimeseriesPanel => {
    const index = nextId - 1;
    return {
      id: nextId++,
      type: 'timeseries',
      title,
      description,
      datasource: DATASOURCE,
      // Two panels per row, each half the 24-column grid.
      gridPos: { x: (index % 2) * 12, y: Math.floor(index / 2) * 8, w: 12, h: 8 },
      fieldConfig: {
        defaults: {
          unit,
          ...extra,
          custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false },
        },
        overrides: [],
      },
      options: {
        legend: { showLegend: true, displayMode: 'list', placement: 'bottom', calcs: [] },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
      targets: targets.map((target, i) => ({
        refId: String.fromCharCode(65 + i),
        datasource: DATASOURCE,
        expr: target.expr,
        legendFormat: target.legend,
        range: true,
      })),
    };
  };

  const panels: TimeseriesPanel[] = [
    panel(
      'Requests per second',
      'Scoring requests (POST /invocations) answered per second, per model version.',
      'reqps',
      [{ expr: requests, legend: '{{version}}' }],
      { min: 0 },
    ),
    panel(
      'Error rate',
      'Share of scoring requests answered with an HTTP error (4xx and 5xx), per model version.',
      'percentunit',
      // A version without errors has no error series: it counts as 0, not as missing.
      [
        {
          expr: `(${rate('mlops_request_errors_total', 'version')} or 0 * ${requests}) / ${requests}`,
          legend: '{{version}}',
        },
      ],
      { min: 0, max: 1 },
    ),
    panel(
      'Latency',
      'Time to answer a scoring request: median, 95th and 99th percentile per model version, from the latency histogram.',
      's',
      [0.5, 0.95, 0.99].map((q) => ({
        expr: `histogram_quantile(${q}, ${rate('mlops_request_latency_seconds_bucket', 'version, le')})`,
        legend: `p${Math.round(q * 100)} {{version}}`,
      })),
      { min: 0 },
    ),
    panel(
      'Predictions per class',
      'Predictions per second of each class (classification), per model version.',
      'short',
      [{ expr: rate('mlops_predicted_class_total', 'version, class'), legend: '{{class}} · {{version}}' }],
      { min: 0 },
    ),
    panel(
      'Mean prediction',
      'Mean of the numeric predictions (regression) over the rate interval, per model version.',
      'short',
      [
        {
          expr: `${rate('mlops_prediction_value_sum', 'version')} / ${rate('mlops_prediction_value_count', 'version')}`,
          legend: '{{version}}',
        },
      ],
    ),
    panel(
      'Feature means',
      'Mean of each numeric input feature over the rate interval, per model version: a shift is input drift.',
      'short',
      [
        {
          expr: `${rate('mlops_feature_value_sum', 'version, feature')} / ${rate('mlops_feature_value_count', 'version, feature')}`,
          legend: '{{feature}} · {{version}}',
        },
      ],
    ),
    panel(
      'Missing feature values',
      'Share of input rows where a feature is null or NaN, per feature and model version.',
      'percentunit',
      [
        {
          expr: `${rate('mlops_feature_missing_total', 'version, feature')} / on (version) group_left ${rate('mlops_predictions_total', 'version')}`,
          legend: '{{feature}} · {{version}}',
        },
      ],
      { min: 0, max: 1 },
    ),
  ];

  const versions = `label_values(mlops_model_info{deployment=${deployment}}, version)`;
  return {
    uid: dashboardUid(name),
    title: dashboardTitle(name),
    description: `Traffic, errors, latency, predictions and inputs of the MLOps deployment ${name}, per model version.`,
    tags: ['mlops', name],
    timezone: 'browser',
    editable: true,
    // Shared crosshair: the same moment in every panel.
    graphTooltip: 1,
    time: { from: options.timeFrom ?? 'now-1h', to: 'now' },
    refresh: options.refresh ?? '30s',
    schemaVersion: SCHEMA_VERSION,
    panels,
    templating: {
      list: [
        {
          type: 'datasource',
          name: 'datasource',
          label: 'Data source',
          query: 'prometheus',
          hide: 0,
          refresh: 1,
          regex: '',
          includeAll: false,
          multi: false,
        },
        {
          type: 'query',
          name: 'version',
          label: 'Version',
          datasource: DATASOURCE,
          definition: versions,
          query: versions,
          // Again when the time range changes: versions come and go with releases.
          refresh: 2,
          multi: true,
          includeAll: true,
          allValue: '.*',
          current: { selected: true, text: ['All'], value: ['$__all'] },
          options: [],
          sort: 1,
          hide: 0,
          regex: '',
        },
      ],
    },
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    links: [],
  };
}
