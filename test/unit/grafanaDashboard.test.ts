// The Grafana dashboard of a deployment: valid against a JSON Schema of the dashboard model, with
// the panels, units, variables and queries monitoring needs. Its PromQL is evaluated by a real
// Prometheus in test/integration/prometheus.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { dashboardExprs, dashboardUid, grafanaDashboard } from '../../src/monitor/export/grafanaDashboard';

const schema = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'grafana-dashboard.schema.json'), 'utf8'),
) as object;
const validate = new Ajv({ allErrors: true }).compile(schema);

function valid(value: unknown): string {
  return validate(value) ? '' : JSON.stringify(validate.errors, null, 2);
}

test('the dashboard is valid against the dashboard schema, and the schema refuses what Grafana would', () => {
  const dashboard = grafanaDashboard({ name: 'churn' });
  // As it travels: serialised and read back.
  const json = JSON.parse(JSON.stringify(dashboard)) as Record<string, unknown> & { panels: Record<string, unknown>[] };
  assert.equal(valid(json), '');
  const broken = (change: (copy: typeof json) => void) => {
    const copy = structuredClone(json);
    change(copy);
    return valid(copy);
  };
  assert.notEqual(
    broken((c) => delete c.schemaVersion),
    '',
    'schemaVersion is required',
  );
  assert.notEqual(
    broken((c) => ((c.panels[0]!.gridPos as { w: number }).w = 25)),
    '',
    'the grid is 24 columns wide',
  );
  assert.notEqual(
    broken((c) => ((c.panels[0]!.targets as { expr?: string }[])[0]!.expr = '')),
    '',
    'a target needs an expr',
  );
  assert.notEqual(
    broken((c) => (c.panels[0]!.tpye = 'timeseries')),
    '',
    'unknown panel fields are refused',
  );
  assert.notEqual(
    broken((c) => ((c.templating as { list: { type: string }[] }).list[0]!.type = 'datasorce')),
    '',
    'variable types are checked',
  );
});

test('title, uid, tags and the two variables', () => {
  const dashboard = grafanaDashboard({ name: 'churn' });
  assert.equal(dashboard.title, 'MLOps · churn');
  assert.equal(dashboard.uid, 'mlops-churn');
  assert.deepEqual(dashboard.tags, ['mlops', 'churn']);
  const [datasource, version] = dashboard.templating.list;
  assert.deepEqual([datasource?.type, datasource?.name, datasource?.query], ['datasource', 'datasource', 'prometheus']);
  assert.deepEqual(
    [version?.type, version?.name, version?.multi, version?.includeAll, version?.allValue],
    ['query', 'version', true, true, '.*'],
  );
  assert.equal(version?.query, 'label_values(mlops_model_info{deployment="churn"}, version)');
  assert.deepEqual(version?.datasource, { type: 'prometheus', uid: '${datasource}' });
});

test('uids are Grafana-safe, at most 40 characters, and distinct for distinct names', () => {
  assert.equal(dashboardUid('fraud-v2'), 'mlops-fraud-v2');
  const long = dashboardUid('a-very-long-deployment-name-that-goes-on-and-on');
  assert.ok(long.length <= 40 && /^[A-Za-z0-9_-]+$/.test(long), long);
  assert.notEqual(long, dashboardUid('a-very-long-deployment-name-that-goes-on-and-on-2'));
  assert.match(dashboardUid('churn.v2'), /^mlops-churn-v2-[0-9a-f]{8}$/, 'a rewritten name gets a hash');
  assert.notEqual(dashboardUid('churn.v2'), dashboardUid('churn_v2'));
});

test('timeseries panels on the grid, each with its unit and Prometheus targets', () => {
  const dashboard = grafanaDashboard({ name: 'churn' });
  const byTitle = new Map(dashboard.panels.map((panel) => [panel.title, panel]));
  assert.deepEqual(
    [...byTitle.keys()],
    [
      'Requests per second',
      'Error rate',
      'Latency',
      'Predictions per class',
      'Mean prediction',
      'Feature means',
      'Missing feature values',
    ],
  );
  assert.deepEqual(
    dashboard.panels.map((p) => p.fieldConfig.defaults.unit),
    ['reqps', 'percentunit', 's', 'short', 'short', 'short', 'percentunit'],
  );
  for (const panel of dashboard.panels) {
    assert.equal(panel.type, 'timeseries');
    assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '${datasource}' });
    assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, panel.title);
  }
  const cells = dashboard.panels.map((p) => `${p.gridPos.x},${p.gridPos.y}`);
  assert.equal(new Set(cells).size, cells.length, 'no two panels overlap');
  assert.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length);

  const rate = byTitle.get('Requests per second')!.targets[0]!;
  assert.equal(
    rate.expr,
    'sum by (version) (rate(mlops_requests_total{deployment="churn", version=~"$version"}[$__rate_interval]))',
  );
  assert.equal(rate.legendFormat, '{{version}}');
  assert.match(
    byTitle.get('Error rate')!.targets[0]!.expr,
    /^\(sum by \(version\) \(rate\(mlops_request_errors_total\{.*\}\[\$__rate_interval\]\)\) or 0 \* sum by \(version\) \(rate\(mlops_requests_total.*\/ sum by \(version\) \(rate\(mlops_requests_total/,
  );
  const latency = byTitle.get('Latency')!.targets;
  assert.deepEqual(
    latency.map((t) => t.refId),
    ['A', 'B', 'C'],
  );
  assert.deepEqual(
    latency.map((t) => t.expr.slice(0, 24)),
    ['histogram_quantile(0.5, ', 'histogram_quantile(0.95,', 'histogram_quantile(0.99,'],
  );
  assert.ok(latency.every((t) => t.expr.includes('sum by (version, le) (rate(mlops_request_latency_seconds_bucket{')));
  assert.match(
    byTitle.get('Predictions per class')!.targets[0]!.expr,
    /sum by \(version, class\) \(rate\(mlops_predicted_class_total\{/,
  );
  assert.match(
    byTitle.get('Mean prediction')!.targets[0]!.expr,
    /mlops_prediction_value_sum.* \/ .*mlops_prediction_value_count/,
  );
  assert.match(
    byTitle.get('Feature means')!.targets[0]!.expr,
    /sum by \(version, feature\) \(rate\(mlops_feature_value_sum.* \/ sum by \(version, feature\) \(rate\(mlops_feature_value_count/,
  );
  assert.match(
    byTitle.get('Missing feature values')!.targets[0]!.expr,
    /mlops_feature_missing_total.*group_left.*mlops_predictions_total/,
  );
  assert.equal(dashboardExprs(dashboard).length, 9);
  assert.ok(dashboardExprs(dashboard).every((expr) => expr.includes('deployment="churn"')));
});

test('the deployment name is quoted as a PromQL string', () => {
  const exprs = dashboardExprs(grafanaDashboard({ name: 'we"ird\\name' }));
  assert.ok(
    exprs.every((expr) => expr.includes('deployment="we\\"ird\\\\name"')),
    exprs[0],
  );
});
