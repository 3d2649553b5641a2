// "Review Candidate Answers" on a deployment: its Review panel, with samples pulled fresh from its
// request log into the lake, decisions recorded in the workspace, and Promote behind the gate.
import * as vscode from 'vscode';
import type { DeploymentsService } from '../../deploy/deployments/deploymentsService';
import type { TargetConfig } from '../../deploy/deployments/targetConfig';
import type { DeployTarget } from '../../deploy/targets/deployTarget';
import type { Lake } from '../../datasets/model';
import { guardedCommand } from '../../host/guardedCommand';
import { setting, workspaceRoot } from '../../host/settings';
import { badLineWarnings } from '../../shared/badLines';
import { describeError, MlopsError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { monitoringDir } from '../../monitor/countsLog';
import { targetKey } from '../../monitor/targetKey';
import type { ReviewFeed } from './reviewFeed';

type Section = Record<string, Record<string, unknown>>;

function requireWorkspace(): string {
  const root = workspaceRoot();
  if (!root) throw new MlopsError('Reviews are kept in the workspace (.mlops/monitoring): open a folder first.');
  return root;
}

export function registerReviewCommands(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel & Logger,
  deployments: DeploymentsService,
): void {
  let lake: Lake | undefined;

  async function feedFor(config: TargetConfig, target: DeployTarget, name: string): Promise<ReviewFeed> {
    const workspace = requireWorkspace();
    const [{ openLake, defaultLakeRoot }, decisions, { deploymentGate }, { reviewSamples }, { reviewerName }] =
      await Promise.all([
        import('../../datasets/lake/duckdbLake'),
        import('./decisions'),
        import('./gate'),
        import('./samples'),
        import('./reviewer'),
      ]);
    lake ??= openLake(defaultLakeRoot(workspace));
    const opened = lake;
    const targetId = targetKey(target);
    const dir = monitoringDir(workspace, targetId, name);
    const reviewer = await reviewerName(workspace);
    const onBadLine = badLineWarnings(log);
    return {
      title: `${name} on ${config.name}`,
      async samples(signal) {
        const [{ pullRequestLog }, { deploymentSource }] = await Promise.all([
          import('../../monitor/observe'),
          import('../../monitor/sources'),
        ]);
        // The newest answers into the lake first; when the deployment cannot be reached, the samples already there remain.
        try {
          await pullRequestLog(opened, await deploymentSource(target, name), { targetId, name, signal });
        } catch (error) {
          if (signal.aborted) throw error;
          log.warn(`review: reading the request log of ${name}: ${describeError(error)}`);
        }
        const reviewed = decisions.latestDecisions(decisions.readDecisions(dir, { onBadLine })).map((d) => d.requestId);
        return reviewSamples(opened, { target: targetId, deployment: name, reviewed });
      },
      gate: (candidateVersion) =>
        deploymentGate(dir, name, workspace, {
          setting: setting<Section>('review.gate', {}),
          onBadLine,
          ...(candidateVersion ? { candidateVersion } : {}),
        }),
      async decide(sample, verdict, comment) {
        decisions.appendDecision(
          { dir, targetId, deployment: name },
          {
            requestId: sample.requestId,
            verdict,
            ...(comment ? { comment } : {}),
            reviewer,
            ts: new Date().toISOString(),
            candidateVersion: sample.candidate.version,
            productionVersion: sample.production.version,
          },
        );
        deployments.refresh();
      },
      async promote(variant, reason) {
        await vscode.commands.executeCommand('mlops.promote', {
          target: config.id,
          deployment: name,
          variant,
          reason,
          source: 'review',
        });
      },
    };
  }

  context.subscriptions.push(
    { dispose: () => void lake?.close() },
    guardedCommand('mlops.openReview', log, async (arg?: unknown) => {
      const resolved = await deployments.resolveDeployment(arg, 'Review the candidate answers of which deployment?');
      if (!resolved) return;
      const { openReviewPanel } = await import('./reviewPanel');
      openReviewPanel(context, await feedFor(resolved.config, resolved.target, resolved.name), log);
    }),
  );
}
