// `mlops review status --name NAME [--wait SECONDS] --json`: the review gate of a deployment, so
// a pipeline can wait for human approval before it promotes; `mlops review export --name NAME`:
// every decision, as JSON Lines or CSV.
import { resolve } from 'node:path';
import type { CliCommand, CliContext } from '../../shared/cliFramework';
import { UsageError } from '../../shared/cliFramework';
import { openTarget, requiredName, TARGET_OPTIONS, TARGET_USAGE } from '../../deploy/cli';
import { monitoringDir } from '../../monitor/countsLog';
import { targetKey } from '../../monitor/targetKey';
import { badLineStderr } from '../../shared/badLines';
import { toCsv } from '../../shared/csv';
import { readDecisions } from './decisions';
import { deploymentGate } from './gate';
import type { ReviewGate } from './model';

/** How often `--wait` reads the decisions again. */
const POLL_MS = 2000;

const EXPORT_COLUMNS = [
  'requestId',
  'verdict',
  'comment',
  'reviewer',
  'ts',
  'candidateVersion',
  'productionVersion',
] as const;

function text(context: CliContext, key: string): string | undefined {
  const value = context.values[key];
  return typeof value === 'string' && value ? value : undefined;
}

async function reviewsDir(context: CliContext, workspace: string, name: string): Promise<string> {
  return monitoringDir(workspace, targetKey(await openTarget(context)), name);
}

function waitSeconds(context: CliContext): number | undefined {
  const value = text(context, 'wait');
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new UsageError(`--wait takes a number of seconds, 0 or more, not '${value}'`);
  return seconds;
}

async function status(context: CliContext, workspace: string, name: string): Promise<number> {
  const wait = waitSeconds(context);
  const candidate = text(context, 'candidate');
  const dir = await reviewsDir(context, workspace, name);
  const onBadLine = badLineStderr(context.io);
  const look = (): ReviewGate =>
    deploymentGate(dir, name, workspace, { onBadLine, ...(candidate ? { candidateVersion: candidate } : {}) }).gate;
  let gate = look();
  if (wait !== undefined) {
    const deadline = Date.now() + wait * 1000;
    let said = '';
    while (!gate.open && Date.now() < deadline) {
      if (!context.json && gate.reason !== said)
        context.io.stderr(`waiting for the review gate of ${name}: ${(said = gate.reason)}\n`);
      await new Promise((done) => setTimeout(done, Math.min(POLL_MS, Math.max(deadline - Date.now(), 0))));
      gate = look();
    }
  }
  if (context.json)
    context.io.stdout(
      `${JSON.stringify({ deployment: name, ...(candidate ? { candidateVersion: candidate } : {}), ...gate }, null, 2)}\n`,
    );
  else context.io.stdout(`${name}: review gate ${gate.open ? 'open' : 'closed'}: ${gate.reason}\n`);
  return wait !== undefined && !gate.open ? 1 : 0;
}

async function exportDecisions(context: CliContext, workspace: string, name: string): Promise<number> {
  const format = text(context, 'format') ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'csv') throw new UsageError(`--format is jsonl or csv, not '${format}'`);
  const decisions = readDecisions(await reviewsDir(context, workspace, name), {
    onBadLine: badLineStderr(context.io),
  });
  if (format === 'csv')
    context.io.stdout(toCsv([[...EXPORT_COLUMNS], ...decisions.map((d) => EXPORT_COLUMNS.map((column) => d[column]))]));
  else for (const decision of decisions) context.io.stdout(`${JSON.stringify(decision)}\n`);
  return 0;
}

const VERBS: Record<string, (context: CliContext, workspace: string, name: string) => Promise<number>> = {
  status,
  export: exportDecisions,
};

export const reviewCommand: CliCommand = {
  name: 'review',
  summary:
    "The human review gate of a deployment's candidate: its status (--wait to wait for approval) or every decision",
  usage: `review status|export ${TARGET_USAGE} --name NAME [--workspace DIR] [--candidate VERSION] [--wait SECONDS] [--format jsonl|csv] [--json]`,
  options: {
    ...TARGET_OPTIONS,
    workspace: { type: 'string' },
    candidate: { type: 'string' },
    wait: { type: 'string' },
    format: { type: 'string' },
  },
  async run(context) {
    const verb = context.positionals[0];
    const action = verb === undefined ? undefined : VERBS[verb];
    if (!action)
      throw new UsageError(
        verb ? `unknown review command '${verb}': use status or export` : 'review needs a command: status or export',
      );
    return action(context, resolve(text(context, 'workspace') ?? process.cwd()), requiredName(context));
  },
};
