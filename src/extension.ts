// The composition root of the extension: build the services once, then hand them to each area's
// registration. Heavy modules (Docker, Kubernetes, DuckDB) are loaded by the commands that use them.
import * as vscode from 'vscode';
import { registerContainerizeCommands } from './containerize/commands';
import { registerRegistryCommands } from './containerize/registry/commands';
import { registerDatasetCommands } from './datasets/commands';
import { registerDeploymentCommands } from './deploy/commands';
import { DeploymentsService } from './deploy/deployments/deploymentsService';
import { registerEnvironmentCommands } from './environment/commands';
import { createEditorTracking, registerExperimentCommands } from './experiments/commands';
import { recordActivation } from './host/activationTiming';
import { createOutputLog } from './host/output';
import { badLineWarnings } from './shared/badLines';
import { workspaceRoot } from './host/settings';
import { monitorAuditTrail } from './monitor/auditTrail';
import { registerMonitorCommands } from './monitor/commands';
import { registerExportCommands } from './monitor/export/commands';
import { registerBacktestCommands } from './release/backtest/commands';
import { registerReleaseCommands } from './release/commands';
import { registerReviewCommands } from './release/review/commands';
import { registerWorkflowCommands } from './release/workflow/commands';

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const log = createOutputLog(context);
  const tracking = createEditorTracking(context, log);
  const deployments = new DeploymentsService(context, log, monitorAuditTrail(workspaceRoot, badLineWarnings(log)));

  registerDatasetCommands(context, log);
  registerExperimentCommands(context, log, tracking);
  registerContainerizeCommands(context, log, tracking.resolve);
  registerRegistryCommands(context, log);
  registerDeploymentCommands(context, log, deployments);
  registerMonitorCommands(context, log, deployments);
  registerExportCommands(context, log, deployments);
  registerReleaseCommands(context, log, deployments, tracking.resolve);
  registerBacktestCommands(context, log, deployments);
  registerReviewCommands(context, log, deployments);
  registerWorkflowCommands(context, log, deployments);
  registerEnvironmentCommands(context, log);

  const timing = recordActivation(started);
  log.info(`activated in ${timing.activateMs.toFixed(1)} ms (bundle loaded in ${timing.loadMs.toFixed(1)} ms)`);
}
