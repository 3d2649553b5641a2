// Thresholds checked against a window's numbers, and the revert to the stable revision they can
// trigger. A rate is judged only once a version has served `minRequests` requests in the window,
// so one failure among the first two requests is not a 50 % error rate.
import type { DeployTarget, DeployResult } from '../deploy/targets/deployTarget';
import { MlopsError } from '../shared/errors';
import type { Alert, DriftRow, Thresholds, VersionHealth } from './model';

export const DEFAULT_MIN_REQUESTS = 20;

const percent = (value: number) => `${(value * 100).toFixed(1)} %`;

export function evaluateThresholds(
  deployment: string,
  versions: VersionHealth[],
  drift: DriftRow[],
  thresholds: Thresholds,
): Alert[] {
  const alerts: Alert[] = [];
  const minRequests = thresholds.minRequests ?? DEFAULT_MIN_REQUESTS;
  for (const health of versions) {
    if (health.requests < minRequests) continue;
    if (thresholds.errorRate !== undefined && health.errorRate !== null && health.errorRate > thresholds.errorRate) {
      alerts.push({
        rule: 'errorRate',
        version: health.version,
        value: health.errorRate,
        threshold: thresholds.errorRate,
        message: `${deployment} ${health.version}: error rate ${percent(health.errorRate)} is above ${percent(thresholds.errorRate)} (${health.errors} of ${health.requests} requests).`,
      });
    }
    const p95 = health.latencyMs.p95;
    if (thresholds.p95LatencyMs !== undefined && p95 !== null && p95 > thresholds.p95LatencyMs) {
      alerts.push({
        rule: 'p95LatencyMs',
        version: health.version,
        value: p95,
        threshold: thresholds.p95LatencyMs,
        message: `${deployment} ${health.version}: p95 latency ${p95.toFixed(1)} ms is above ${thresholds.p95LatencyMs} ms.`,
      });
    }
  }
  if (thresholds.psi !== undefined) {
    for (const row of drift) {
      if (row.psi > thresholds.psi) {
        // The inputs drift, whichever version answers them.
        alerts.push({
          rule: 'psi',
          version: 'all',
          feature: row.feature,
          value: row.psi,
          threshold: thresholds.psi,
          message: `${deployment}: input drift on ${row.feature}, PSI ${row.psi.toFixed(3)} is above ${thresholds.psi}.`,
        });
      }
    }
  }
  return alerts;
}

/**
 * Rolls back to the revision pinned as stable, or to the previous one when none is pinned.
 * Nothing happens (and null comes back) when the stable revision already serves.
 */
export async function revertToStable(
  target: DeployTarget,
  name: string,
  options: { signal?: AbortSignal; onProgress?(message: string): void } = {},
): Promise<{ result: DeployResult | null; from: number; to: number; pinned: boolean }> {
  const history = await target.history(name);
  const current = history.find((r) => r.current);
  if (!current) throw new MlopsError(`${name} on ${target.location} has no current revision to revert from.`);
  const stable = history.find((r) => r.stable);
  const previous = history.filter((r) => r.revision < current.revision).at(-1);
  const to = stable ?? previous;
  if (!to)
    throw new MlopsError(
      `${name} on ${target.location} has no stable revision to revert to: revision ${current.revision} is its only one.`,
      'Pin a revision as stable from the Deployments view once one has proven itself.',
    );
  if (to.revision === current.revision)
    return { result: null, from: current.revision, to: to.revision, pinned: Boolean(stable) };
  const result = await target.rollback(name, to.revision, {
    signal: options.signal,
    onProgress: (p) => options.onProgress?.(p.message),
  });
  return { result, from: current.revision, to: to.revision, pinned: Boolean(stable) };
}
