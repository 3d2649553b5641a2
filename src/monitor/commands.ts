// Monitoring in VS Code: "Open Monitor" on a deployment (its panel), and a watcher that looks at
// every deployment with thresholds every `mlops.monitoring.intervalSeconds`, raises a
// notification for each new alert (open the monitor, or revert to stable) and, with
// `autoRevert`, reverts by itself. Alerts and reverts go to the deployment's audit log.
import * as vscode from 'vscode';
import type { DeploymentsService } from '../deploy/deployments/deploymentsService';
import type { DeployTarget } from '../deploy/targets/deployTarget';
import { guardedCommand } from '../host/guardedCommand';
import { setting, workspaceRoot } from '../host/settings';
import { badLineWarnings } from '../shared/badLines';
import { describeError, MlopsError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Lake } from '../datasets/model';
import { revertToStable } from './alerts';
import { readAudit } from './audit';
import { baselineFor } from './baseline';
import { monitoringDir } from './countsLog';
import type { AuditEntry } from './model';
import { monitoringFor, readConfigSection } from './monitoringConfig';
import { auditManualRevert, respondToAlerts, type Response } from './respond';
import { targetKey } from './targetKey';
import type { MonitorFeed } from './monitorFeed';

type Section = Record<string, Record<string, unknown>>;

function requireWorkspace(): string {
  const root = workspaceRoot();
  if (!root) throw new MlopsError('Monitoring keeps its records in the workspace: open a folder first.');
  return root;
}

const RANGE_TEXT: Record<number, string> = {
  300: '5m',
  900: '15m',
  3600: '1h',
  21600: '6h',
  86400: '24h',
  604800: '7d',
};

export function registerMonitorCommands(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel & Logger,
  deployments: DeploymentsService,
): void {
  let lake: Lake | undefined;
  const lakeFor = async (workspace: string): Promise<Lake> => {
    if (!lake) {
      const { openLake, defaultLakeRoot } = await import('../datasets/lake/duckdbLake');
      lake = openLake(defaultLakeRoot(workspace));
    }
    return lake;
  };
  const monitoringSetting = () => setting<Section>('monitoring.thresholds', {});

  /** One look at a deployment, with the alerts it raises acted upon. */
  async function look(
    target: DeployTarget,
    name: string,
    options: { sinceMs: number; sinceText: string; series: boolean; signal?: AbortSignal },
  ) {
    const workspace = requireWorkspace();
    const { observe } = await import('./observe');
    const configured = monitoringFor(name, workspace, monitoringSetting());
    const { thresholds } = configured;
    const baseline = await baselineFor(
      target,
      name,
      workspace,
      configured.baseline,
      setting('dockerHost', '') || undefined,
    );
    const targetId = targetKey(target);
    const prometheusUrl = setting('prometheusUrl', '').trim();
    const observation = await observe({
      workspace,
      targetId,
      target,
      name,
      thresholds,
      drift: { lake: await lakeFor(workspace), ...(baseline ? { baseline } : {}) },
      ...(prometheusUrl ? { prometheus: { url: prometheusUrl } } : {}),
      onBadLine: badLineWarnings(log),
      ...options,
    });
    const response = await respondToAlerts({
      dir: monitoringDir(workspace, targetId, name),
      target,
      targetId,
      name,
      alerts: observation.summary.alerts,
      thresholds,
      by: 'monitor',
      ...(options.signal ? { signal: options.signal } : {}),
    });
    announce(target, name, response);
    return observation;
  }

  function announce(target: DeployTarget, name: string, response: Response): void {
    for (const entry of response.entries)
      log[entry.kind === 'alert' ? 'warn' : entry.kind === 'revert' ? 'info' : 'error'](`monitor: ${entry.message}`);
    if (response.entries.length) deployments.refresh();
    if (!response.fresh.length) return;
    const reverted = response.entries.find((e) => e.kind === 'revert');
    const failed = response.entries.find((e) => e.kind === 'revert-failed');
    const message = [response.fresh.map((a) => a.message).join(' '), reverted?.message, failed?.message]
      .filter(Boolean)
      .join(' ');
    const actions = reverted ? ['Open Monitor'] : ['Open Monitor', 'Revert to Stable'];
    void vscode.window.showWarningMessage(message, ...actions).then((choice) => {
      if (choice === 'Open Monitor') void openFor(target, name);
      if (choice === 'Revert to Stable')
        void revertWithProgress(target, name).catch(
          (error: unknown) => void vscode.window.showErrorMessage(describeError(error)),
        );
    });
  }

  async function revertWithProgress(target: DeployTarget, name: string): Promise<string> {
    return vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Reverting ${name} to its stable revision`,
        cancellable: true,
      },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return revert(target, name, { signal: abort.signal, onProgress: (message) => progress.report({ message }) });
      },
    );
  }

  /** Reverts and records it; the panel runs this under its own progress notification. */
  async function revert(
    target: DeployTarget,
    name: string,
    options: { signal?: AbortSignal; onProgress?(message: string): void } = {},
  ): Promise<string> {
    const workspace = requireWorkspace();
    const outcome = await revertToStable(target, name, options);
    deployments.refresh();
    if (outcome.result === null) return `${name} already serves revision ${outcome.to}.`;
    const message = `${name} went back from revision ${outcome.from} to ${outcome.pinned ? 'the stable' : 'the previous'} revision ${outcome.to}${outcome.result.rolledBack ? ', but the orchestrator rolled that back' : ''}.`;
    auditManualRevert(monitoringDir(workspace, targetKey(target), name), {
      targetId: targetKey(target),
      name,
      from: outcome.from,
      to: outcome.to,
      by: 'you',
      message,
    });
    log.info(`monitor: ${message}`);
    return message;
  }

  async function openFor(target: DeployTarget, name: string): Promise<void> {
    const workspace = requireWorkspace();
    const { openMonitorPanel } = await import('./monitorPanel');
    const targetId = targetKey(target);
    const feed: MonitorFeed = {
      title: `${name} on ${target.kind === 'kubernetes' ? 'Kubernetes' : 'Swarm'} (${target.location})`,
      thresholds: monitoringFor(name, workspace, monitoringSetting()).thresholds,
      load: async (rangeSeconds, signal) => {
        const { summary, series } = await look(target, name, {
          sinceMs: rangeSeconds * 1000,
          sinceText: RANGE_TEXT[rangeSeconds] ?? `${rangeSeconds}s`,
          series: true,
          signal,
        });
        return { summary, series };
      },
      revertToStable: () => revert(target, name),
      audit: async (): Promise<AuditEntry[]> =>
        readAudit(monitoringDir(workspace, targetId, name), 200, { onBadLine: badLineWarnings(log) }),
    };
    openMonitorPanel(context, feed, log);
  }

  // The watcher: only deployments that have thresholds are looked at.
  let watching = false;
  const tick = async () => {
    if (watching) return;
    const workspace = workspaceRoot();
    if (!workspace) return;
    let sections: Section[];
    try {
      sections = [readConfigSection(workspace), monitoringSetting()];
    } catch (error) {
      return log.warn(`monitor: ${describeError(error)}`);
    }
    const names = new Set(sections.flatMap((s) => Object.keys(s)));
    if (!names.size) return;
    watching = true;
    try {
      for (const config of deployments.configs()) {
        const target = await deployments.open(config);
        for (const status of await target.list()) {
          if (!names.has(status.name) && !names.has('*')) continue;
          await look(target, status.name, {
            sinceMs: setting('monitoring.windowMinutes', 15) * 60_000,
            sinceText: `${setting('monitoring.windowMinutes', 15)}m`,
            series: false,
          }).catch((error: unknown) => log.warn(`monitor: ${status.name} on ${config.name}: ${describeError(error)}`));
        }
      }
    } catch (error) {
      log.warn(`monitor: ${describeError(error)}`);
    } finally {
      watching = false;
    }
  };
  const interval = Math.max(5, setting('monitoring.intervalSeconds', 30)) * 1000;
  const timer = setInterval(() => void tick(), interval);

  context.subscriptions.push(
    { dispose: () => (clearInterval(timer), void lake?.close()) },
    guardedCommand('mlops.openMonitor', log, async (arg?: unknown) => {
      const resolved = await deployments.resolveDeployment(arg, 'Monitor which deployment?');
      if (resolved) await openFor(resolved.target, resolved.name);
    }),
  );
}
