// `mlops split`, `mlops abtest` and `mlops promote`: the A/B test and shadow of a candidate from a
// terminal or a CI job, on Swarm or Kubernetes, with the same flow as the extension's commands.
import type { CliCommand, CliContext } from '../shared/cliFramework';
import { UsageError } from '../shared/cliFramework';
import { openTarget, requiredName, TARGET_OPTIONS, TARGET_USAGE } from '../deploy/cli';
import { PRODUCTION_VARIANT, type DeployTarget, type TrafficSplit } from '../deploy/targets/deployTarget';
import { resolveTrackingStore, trackingServer } from '../experiments/trackingStoreResolver';
import { appendAudit } from '../monitor/audit';
import { monitoringDir } from '../monitor/countsLog';
import { targetKey } from '../monitor/targetKey';
import { badLineStderr } from '../shared/badLines';
import { MlopsError } from '../shared/errors';
import { redactUserInfo } from '../shared/redact';
import { abState, candidateGate } from './abFeed';
import type { PromotionEvidence } from './promote';
import { formatWeights, validateStickyKey, validateVariantName, weightsAfter } from './splitInput';

function progress(context: CliContext) {
  return { onProgress: ({ message }: { message: string }) => !context.json && context.io.stderr(`${message}\n`) };
}

function percent(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 100)
    throw new UsageError(`${flag} takes a whole percentage from 0 to 100, not '${String(value)}'`);
  return number;
}

async function withLake<T>(work: (lake: import('../datasets/model').Lake) => Promise<T>): Promise<T> {
  const { openLake, defaultLakeRoot } = await import('../datasets/lake/duckdbLake');
  const lake = openLake(defaultLakeRoot(process.cwd()));
  try {
    return await work(lake);
  } finally {
    await lake.close();
  }
}

function requireSplitting(target: DeployTarget): Required<Pick<DeployTarget, 'split' | 'splitStatus' | 'endSplit'>> {
  if (!target.split || !target.splitStatus || !target.endSplit)
    throw new MlopsError(`${target.kind} targets cannot split traffic.`);
  return {
    split: target.split.bind(target),
    splitStatus: target.splitStatus.bind(target),
    endSplit: target.endSplit.bind(target),
  };
}

export const splitCommand: CliCommand = {
  name: 'split',
  summary: 'Start, change or end an A/B test or a shadow of a candidate beside production',
  usage: `split ${TARGET_USAGE} --name NAME (--candidate IMAGE [--variant candidate] [--weight 10] [--shadow] [--sticky header:NAME|field:NAME] | --weights production=90,candidate=10 | --end) [--json]`,
  options: {
    ...TARGET_OPTIONS,
    candidate: { type: 'string' },
    variant: { type: 'string' },
    weight: { type: 'string' },
    shadow: { type: 'boolean' },
    sticky: { type: 'string' },
    weights: { type: 'string' },
    end: { type: 'boolean' },
  },
  async run(context) {
    const { values } = context;
    const name = requiredName(context);
    const target = await openTarget(context);
    const splitting = requireSplitting(target);
    const dir = monitoringDir(process.cwd(), targetKey(target), name);
    const audit = (message: string) =>
      appendAudit(dir, {
        at: new Date().toISOString(),
        target: targetKey(target),
        deployment: name,
        kind: 'split',
        message,
        by: 'cli',
      });
    if (values.end === true) {
      await splitting.endSplit(name, progress(context));
      audit(`${name}: the test ended; production takes all the traffic.`);
      context.io.stdout(
        context.json
          ? `${JSON.stringify({ deployment: name, split: null })}\n`
          : `${name}: production takes all the traffic again.\n`,
      );
      return 0;
    }
    let split: TrafficSplit;
    if (typeof values.weights === 'string') {
      const current = await splitting.splitStatus(name);
      if (!current) throw new MlopsError(`${name} has no test running: start one with --candidate IMAGE.`);
      const weights = Object.fromEntries(
        values.weights.split(',').map((part) => {
          const [variant, weight] = part.split('=').map((s) => s.trim());
          return [variant, percent(weight, `--weights ${variant}`, NaN)];
        }),
      );
      split = {
        variants: weightsAfter(current, weights),
        ...(current.stickyKey ? { stickyKey: current.stickyKey } : {}),
      };
    } else {
      if (typeof values.candidate !== 'string')
        throw new UsageError('split takes --candidate IMAGE, --weights or --end');
      const variant = typeof values.variant === 'string' ? values.variant : 'candidate';
      const invalid =
        validateVariantName(variant) ??
        (typeof values.sticky === 'string' ? validateStickyKey(values.sticky) : undefined);
      if (invalid) throw new UsageError(invalid);
      const shadow = values.shadow === true;
      const weight = percent(values.weight, '--weight', shadow ? 100 : 10);
      split = {
        variants: shadow
          ? [
              { name: PRODUCTION_VARIANT, weight: 100 },
              { name: variant, image: values.candidate, weight, shadow: true },
            ]
          : [
              { name: PRODUCTION_VARIANT, weight: 100 - weight },
              { name: variant, image: values.candidate, weight },
            ],
        ...(typeof values.sticky === 'string' && values.sticky ? { stickyKey: values.sticky } : {}),
      };
    }
    const status = await splitting.split(name, split, progress(context));
    audit(`${name}: traffic split ${formatWeights(split.variants)}.`);
    context.io.stdout(
      context.json
        ? `${JSON.stringify(status, null, 2)}\n`
        : `${name}: ${formatWeights(status.variants)} via ${status.via}${status.route ? ` on Gateway ${status.route.gateway} (${status.route.message})` : ''}${status.stickyKey ? `, sticky on ${status.stickyKey}` : ''}\n`,
    );
    return 0;
  },
};

export const abtestCommand: CliCommand = {
  name: 'abtest',
  summary:
    "A deployment's A/B test: per-variant traffic, errors, latency and outcomes, with significance against production",
  usage: `abtest ${TARGET_USAGE} --name NAME [--json]`,
  options: { ...TARGET_OPTIONS },
  async run(context) {
    const name = requiredName(context);
    const target = await openTarget(context);
    const state = await withLake((lake) =>
      abState({
        workspace: process.cwd(),
        lake,
        target,
        targetId: targetKey(target),
        name,
        onBadLine: badLineStderr(context.io),
      }),
    );
    if (context.json) {
      context.io.stdout(`${JSON.stringify(state, null, 2)}\n`);
      return 0;
    }
    const out = context.io.stdout;
    out(
      state.split
        ? `${name}: ${formatWeights(state.split.variants)} since ${state.split.startedAt ?? '?'}\n`
        : `${name}: no test running (the last hour)\n`,
    );
    for (const v of state.report.variants) {
      const accuracy = v.accuracy === null ? '' : `, accuracy ${(v.accuracy * 100).toFixed(1)}% of ${v.labelled}`;
      out(
        `  ${v.variant}${v.shadow ? ' (shadow)' : ''}: ${v.requests} answers, ${v.errors} errors, p95 ${v.latencyMs.p95?.toFixed(1) ?? '-'} ms${accuracy}\n`,
      );
    }
    out(`${state.report.verdict.summary}\n`);
    if (state.gate) out(`${state.gate.reason}\n`);
    return 0;
  },
};

export const promoteCommand: CliCommand = {
  name: 'promote',
  summary:
    'Promote a variant of a test to all the traffic: a new stable revision, the split ended, the MLflow alias moved',
  usage: `promote ${TARGET_USAGE} --name NAME --variant VARIANT [--reason TEXT] [--mlflow URL] [--alias champion] [--json]`,
  options: {
    ...TARGET_OPTIONS,
    variant: { type: 'string' },
    reason: { type: 'string' },
    mlflow: { type: 'string' },
    alias: { type: 'string' },
  },
  async run(context) {
    const { values } = context;
    const name = requiredName(context);
    if (typeof values.variant !== 'string' || !values.variant)
      throw new UsageError('--variant VARIANT is required (production keeps the current version)');
    const mlflowFlag = typeof values.mlflow === 'string' ? values.mlflow.trim() : '';
    if (mlflowFlag && !/^https?:\/\//i.test(mlflowFlag))
      throw new UsageError(`--mlflow takes the http(s) URL of a tracking server, not '${redactUserInfo(mlflowFlag)}'`);
    const variant = values.variant;
    const target = await openTarget(context);
    const workspace = process.cwd();
    const targetId = targetKey(target);
    const onBadLine = badLineStderr(context.io);
    const state = await withLake((lake) => abState({ workspace, lake, target, targetId, name, onBadLine }));
    const gate =
      variant === PRODUCTION_VARIANT
        ? null
        : candidateGate({ workspace, targetId, name, onBadLine }, state.report, variant);
    const evidence: PromotionEvidence[] = [
      ...(typeof values.reason === 'string' ? [{ source: 'manual' as const, summary: values.reason }] : []),
      { source: 'ab-test', summary: state.report.verdict.summary },
      ...(gate ? [{ source: 'review' as const, summary: gate.reason }] : []),
    ];
    const { promote } = await import('./promote');
    // --mlflow, else MLFLOW_TRACKING_URI; the token comes from the environment, never a flag that
    // shell history would keep. Only a tracking server's registry has aliases to move.
    const server = trackingServer(await resolveTrackingStore({ flag: mlflowFlag, env: process.env }));
    const { imageLabels } = await import('../containerize/docker/imageLabels');
    const result = await promote({
      target,
      targetId,
      deployment: name,
      variant,
      evidence,
      gate,
      auditDir: monitoringDir(workspace, targetId, name),
      by: 'cli',
      options: progress(context),
      ...(server
        ? {
            mlflow: {
              server,
              alias: typeof values.alias === 'string' ? values.alias : 'champion',
              imageLabels: (image: string) =>
                imageLabels(image, typeof values['docker-host'] === 'string' ? values['docker-host'] : undefined),
            },
          }
        : {}),
    });
    context.io.stdout(context.json ? `${JSON.stringify(result, null, 2)}\n` : `${result.message}\n`);
    return 0;
  },
};
