// Releases in VS Code: start an A/B test or a shadow of a candidate beside production, change its
// weights, stop it, open its panel, and promote a variant (from the palette, the A/B panel or the
// review panel) through the one promotion flow.
import * as vscode from 'vscode';
import type { DeploymentsService } from '../deploy/deployments/deploymentsService';
import type { Lake } from '../datasets/model';
import type { TargetConfig } from '../deploy/deployments/targetConfig';
import {
  trackingServer,
  type ResolveTrackingStore,
  type TrackingServerAccess,
} from '../experiments/trackingStoreResolver';
import {
  PRODUCTION_VARIANT,
  type DeployOptions,
  type DeployTarget,
  type SplitStatus,
  type TrafficSplit,
} from '../deploy/targets/deployTarget';
import { guardedCommand } from '../host/guardedCommand';
import { setting, workspaceRoot } from '../host/settings';
import { appendAudit } from '../monitor/audit';
import { monitoringDir } from '../monitor/countsLog';
import { targetKey } from '../monitor/targetKey';
import { badLineWarnings } from '../shared/badLines';
import { MlopsError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { AbState } from './abFeed';
import type { PromotionEvidence } from './promote';
import { formatWeights, parseWeights, validateStickyKey, validateVariantName, weightsAfter } from './splitInput';
import { openAbPanel, type AbFeed } from './abPanel';

interface Subject {
  config: TargetConfig;
  target: DeployTarget;
  name: string;
  workspace: string;
  targetId: string;
}

function requireWorkspace(): string {
  const root = workspaceRoot();
  if (!root) throw new MlopsError('A/B tests keep their records in the workspace: open a folder first.');
  return root;
}

export function registerReleaseCommands(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel & Logger,
  deployments: DeploymentsService,
  resolveTracking: ResolveTrackingStore,
): void {
  let lake: Lake | undefined;
  const lakeOf = async (workspace: string): Promise<Lake> => {
    if (!lake) {
      const { openLake, defaultLakeRoot } = await import('../datasets/lake/duckdbLake');
      lake = openLake(defaultLakeRoot(workspace));
    }
    return lake;
  };
  const gateSetting = () => setting<Record<string, Record<string, unknown>>>('review.gate', {});

  async function subject(arg: unknown, title: string): Promise<Subject | undefined> {
    const given = promoteArgument(arg);
    const resolved = given
      ? await byIds(given.target, given.deployment)
      : await deployments.resolveDeployment(arg, title);
    if (!resolved) return undefined;
    return { ...resolved, workspace: requireWorkspace(), targetId: targetKey(resolved.target) };
  }
  async function byIds(targetId: string, name: string) {
    const config = deployments.configs().find((c) => c.id === targetId);
    if (!config)
      throw new MlopsError(`The deploy target ${targetId} is no longer configured.`, 'Refresh the Deployments view.');
    return { config, target: await deployments.open(config), name };
  }
  const requireSplit = async (s: Subject): Promise<SplitStatus> => {
    if (!s.target.splitStatus) throw new MlopsError(`${s.config.name} (${s.target.kind}) cannot split traffic.`);
    const split = await s.target.splitStatus(s.name);
    if (!split)
      throw new MlopsError(`${s.name} has no A/B test or shadow running.`, 'Start one with MLOps: Start A/B Test.');
    return split;
  };
  const state = async (s: Subject, signal?: AbortSignal): Promise<AbState> =>
    (await import('./abFeed')).abState({
      workspace: s.workspace,
      lake: await lakeOf(s.workspace),
      target: s.target,
      targetId: s.targetId,
      name: s.name,
      gateSetting: gateSetting(),
      onBadLine: badLineWarnings(log),
      ...(signal ? { signal } : {}),
    });

  /** Long work under a cancellable notification, logged to the MLOps channel. */
  async function withProgress<T>(title: string, work: (options: DeployOptions) => Promise<T>): Promise<T> {
    log.info(`release: ${title}`);
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable: true },
        (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          return work({
            signal: abort.signal,
            onProgress: ({ message }) => {
              log.info(`release: ${title}: ${message}`);
              progress.report({ message });
            },
          });
        },
      );
    } finally {
      deployments.refresh();
    }
  }

  const audit = (s: Subject, message: string) =>
    appendAudit(monitoringDir(s.workspace, s.targetId, s.name), {
      at: new Date().toISOString(),
      target: s.targetId,
      deployment: s.name,
      kind: 'split',
      message,
      by: 'user',
    });

  async function applyWeights(s: Subject, split: SplitStatus, weights: Record<string, number>): Promise<string> {
    const next: TrafficSplit = {
      variants: weightsAfter(split, weights),
      ...(split.stickyKey ? { stickyKey: split.stickyKey } : {}),
    };
    await withProgress(`Changing the split of ${s.name}`, (options) => s.target.split!(s.name, next, options));
    const message = `${s.name}: traffic split ${formatWeights(next.variants)}.`;
    audit(s, message);
    return message;
  }

  async function stop(s: Subject): Promise<string | undefined> {
    await requireSplit(s);
    const answer = await vscode.window.showWarningMessage(
      `Stop the test of ${s.name}?`,
      {
        modal: true,
        detail:
          'Production takes all the traffic again and the other variants are removed. Their logged answers stay in the lake.',
      },
      'Stop Test',
    );
    if (answer !== 'Stop Test') return undefined;
    await withProgress(`Stopping the test of ${s.name}`, (options) => s.target.endSplit!(s.name, options));
    const message = `${s.name}: the test ended; production takes all the traffic.`;
    audit(s, message);
    return message;
  }

  async function promoteVariant(
    s: Subject,
    variant: string | undefined,
    extra: PromotionEvidence[] = [],
  ): Promise<string | undefined> {
    const current = await state(s);
    if (!current.split)
      throw new MlopsError(`${s.name} has no A/B test or shadow running, so there is nothing to promote.`);
    const choice = variant ?? (await pickVariant(current));
    if (!choice) return undefined;
    const { candidateGate } = await import('./abFeed');
    const gate =
      choice === PRODUCTION_VARIANT
        ? null
        : candidateGate({ ...s, gateSetting: gateSetting(), onBadLine: badLineWarnings(log) }, current.report, choice);
    if (gate && !gate.open)
      throw new MlopsError(
        `${s.name} cannot promote ${choice} yet: ${gate.reason}.`,
        'Review its answers first (MLOps: Review Candidate Answers).',
      );
    const reviewed =
      gate && !extra.some((e) => e.source === 'review') ? [{ source: 'review' as const, summary: gate.reason }] : [];
    const evidence: PromotionEvidence[] = [
      ...extra,
      { source: 'ab-test', summary: current.report.verdict.summary },
      ...reviewed,
    ];
    const image = current.split.variants.find((v) => v.name === choice)?.image ?? '?';
    const answer = await vscode.window.showWarningMessage(
      choice === PRODUCTION_VARIANT
        ? `Keep production for ${s.name} and end the test?`
        : `Promote ${choice} (${image}) to all of ${s.name}'s traffic?`,
      {
        modal: true,
        detail: `${evidence.map((e) => `${e.source}: ${e.summary}`).join('\n')}\n\nIt becomes the stable revision and the test ends.`,
      },
      'Promote',
    );
    if (answer !== 'Promote') return undefined;
    const { promote } = await import('./promote');
    const server = trackingServer(await resolveTracking());
    const result = await withProgress(`Promoting ${choice} of ${s.name}`, async (options) =>
      promote({
        target: s.target,
        targetId: s.targetId,
        deployment: s.name,
        variant: choice,
        evidence,
        gate,
        auditDir: monitoringDir(s.workspace, s.targetId, s.name),
        by: 'user',
        options,
        ...(server ? { mlflow: await mlflowFor(server) } : {}),
      }),
    );
    log.info(`release: ${result.message}`);
    return result.message;
  }

  async function mlflowFor(server: TrackingServerAccess) {
    const { imageLabels } = await import('../containerize/docker/imageLabels');
    return {
      server,
      alias: setting('release.mlflowAlias', 'champion'),
      imageLabels: (image: string) => imageLabels(image, setting('dockerHost', '')),
    };
  }

  function feedFor(s: Subject): AbFeed {
    return {
      title: `${s.name} on ${s.config.name}`,
      load: (signal) => state(s, signal),
      setWeights: async (weights) => applyWeights(s, await requireSplit(s), weights),
      stop: () => stop(s),
      promote: (variant) => promoteVariant(s, variant),
    };
  }

  context.subscriptions.push(
    guardedCommand('mlops.startAbTest', log, async (arg?: unknown) => {
      const s = await subject(arg, 'A/B test which deployment?');
      if (!s || !s.target.split) {
        if (s) throw new MlopsError(`${s.config.name} (${s.target.kind}) cannot split traffic.`);
        return;
      }
      const mode = await vscode.window.showQuickPick(
        [
          {
            label: '$(split-horizontal) A/B test',
            description: 'a share of the traffic is answered by the candidate',
            shadow: false,
          },
          {
            label: '$(mirror) Shadow',
            description: 'the candidate gets a copy of the traffic; its answers are logged, never returned',
            shadow: true,
          },
        ],
        { title: `Test a candidate beside ${s.name}`, ignoreFocusOut: true },
      );
      if (!mode) return;
      const image = await deployments.pickImage(
        `${mode.shadow ? 'Shadow' : 'A/B test'} ${s.name}: which candidate image?`,
      );
      if (!image) return;
      const variant = await vscode.window.showInputBox({
        title: 'Variant name',
        value: 'candidate',
        ignoreFocusOut: true,
        validateInput: validateVariantName,
      });
      if (variant === undefined) return;
      const share = await vscode.window.showInputBox({
        title: mode.shadow
          ? 'Share of requests mirrored to the shadow (%)'
          : 'Share of the traffic the candidate answers (%)',
        value: mode.shadow ? '100' : '10',
        ignoreFocusOut: true,
        validateInput: (text) =>
          /^(100|[1-9]?[0-9])$/.test(text.trim()) && Number(text) > 0 ? undefined : 'A whole percentage from 1 to 100.',
      });
      if (share === undefined) return;
      const sticky = mode.shadow
        ? ''
        : await vscode.window.showInputBox({
            title: 'What keeps a user on one variant?',
            prompt:
              'header:NAME or field:NAME, hashed so the same value always reaches the same variant. Empty: the request id.',
            value: 'header:X-User-Id',
            ignoreFocusOut: true,
            validateInput: validateStickyKey,
          });
      if (sticky === undefined) return;
      const weight = Number(share.trim());
      const split: TrafficSplit = {
        variants: mode.shadow
          ? [
              { name: PRODUCTION_VARIANT, weight: 100 },
              { name: variant.trim(), image, weight, shadow: true },
            ]
          : [
              { name: PRODUCTION_VARIANT, weight: 100 - weight },
              { name: variant.trim(), image, weight },
            ],
        ...(sticky.trim() ? { stickyKey: sticky.trim() } : {}),
      };
      await withProgress(`Starting ${mode.shadow ? 'a shadow' : 'an A/B test'} of ${s.name}`, (options) =>
        s.target.split!(s.name, split, options),
      );
      audit(
        s,
        `${s.name}: ${mode.shadow ? 'shadow' : 'A/B test'} started with ${image} as ${variant.trim()}: ${formatWeights(split.variants)}.`,
      );
      openAbPanel(context, feedFor(s), log);
    }),
    guardedCommand('mlops.openAbTest', log, async (arg?: unknown) => {
      const s = await subject(arg, 'Open the A/B test of which deployment?');
      if (s) openAbPanel(context, feedFor(s), log);
    }),
    guardedCommand('mlops.changeSplitWeights', log, async (arg?: unknown) => {
      const s = await subject(arg, 'Change the split of which deployment?');
      if (!s) return;
      const split = await requireSplit(s);
      const text = await vscode.window.showInputBox({
        title: `Traffic split of ${s.name}`,
        prompt: 'Weights per variant (percent of the live traffic; a shadow: percent mirrored)',
        value: formatWeights(split.variants),
        ignoreFocusOut: true,
        validateInput: (value) => {
          try {
            parseWeights(value, split);
            return undefined;
          } catch (error) {
            return (error as Error).message;
          }
        },
      });
      if (text === undefined) return;
      void vscode.window.showInformationMessage(await applyWeights(s, split, parseWeights(text, split)));
    }),
    guardedCommand('mlops.stopAbTest', log, async (arg?: unknown) => {
      const s = await subject(arg, 'Stop the test of which deployment?');
      const outcome = s && (await stop(s));
      if (outcome) void vscode.window.showInformationMessage(outcome);
    }),
    guardedCommand('mlops.promote', log, async (arg?: unknown) => {
      const s = await subject(arg, 'Promote a variant of which deployment?');
      if (!s) return;
      const given = promoteArgument(arg);
      const extra: PromotionEvidence[] = given?.reason
        ? [{ source: given.source ?? 'manual', summary: given.reason }]
        : [];
      const outcome = await promoteVariant(s, given?.variant, extra);
      if (outcome) void vscode.window.showInformationMessage(outcome);
    }),
  );
}

/** What the review panel passes to mlops.promote: `{ target, deployment, variant, reason }`. */
function promoteArgument(
  arg: unknown,
):
  | { target: string; deployment: string; variant?: string; reason?: string; source?: PromotionEvidence['source'] }
  | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const { target, deployment, variant, reason, source } = arg as Record<string, unknown>;
  if (typeof target !== 'string' || typeof deployment !== 'string') return undefined;
  return {
    target,
    deployment,
    ...(typeof variant === 'string' ? { variant } : {}),
    ...(typeof reason === 'string' ? { reason } : {}),
    ...(source === 'review' || source === 'backtest' || source === 'ab-test' ? { source } : {}),
  };
}

async function pickVariant(state: AbState): Promise<string | undefined> {
  const leader = state.report.verdict.leader;
  const items = state.split!.variants.map((v) => {
    const figures = state.report.variants.find((f) => f.variant === v.name);
    return {
      label: `${v.name === leader ? '$(star-full) ' : ''}${v.name}`,
      description: `${v.image}${v.shadow ? ' · shadow' : ` · ${v.weight}%`}`,
      detail: figures
        ? `${figures.requests} answers · ${figures.accuracy !== null ? `accuracy ${(figures.accuracy * 100).toFixed(1)}%` : `errors ${((figures.errorRate ?? 0) * 100).toFixed(1)}%`}`
        : 'no answers yet',
      variant: v.name,
    };
  });
  items.sort((a, b) => Number(b.variant === leader) - Number(a.variant === leader));
  return (
    await vscode.window.showQuickPick(items, {
      title: `Promote which variant? ${state.report.verdict.summary}`,
      ignoreFocusOut: true,
    })
  )?.variant;
}
