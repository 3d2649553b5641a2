// The composition root: build the services, then hand them to each area's registration. Heavy
// modules (Docker, Kubernetes, DuckDB) are loaded by the commands that use them.
import * as vscode from 'vscode';
import { registerDatasets } from './datasets/commands';
import { registerDeployCommands } from './containerize/commands';
import { registerDeploymentCommands } from './deploy/commands';
import { DeploymentsService } from './deploy/deployments/deploymentsService';
import { registerRegistryCommands } from './containerize/registry/commands';
import { registerEnvironmentCommands } from './environment/commands';
import { registerExperiments } from './experiments/commands';
import { recordActivation } from './host/activationTiming';
import { createOutputLog } from './host/output';
import { workspaceRoot } from './host/settings';
import { monitorAuditTrail } from './monitor/auditTrail';
import { registerMonitorCommands } from './monitor/commands';
import { registerExportCommands } from './monitor/export/commands';
import { registerReleaseCommands } from './release/commands';
import { registerBacktestCommands } from './release/backtest/commands';
import { registerReviewCommands } from './release/review/commands';
import { registerWorkflowCommands } from './release/workflow/commands';

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const log = createOutputLog(context);
  const deployments = new DeploymentsService(context, log, monitorAuditTrail(workspaceRoot));

  registerDatasets(context, log);
  registerDeploymentCommands(context, log, deployments);
  registerMonitorCommands(context, log, deployments);
  registerExportCommands(context, log, deployments);
  registerReleaseCommands(context, log, deployments);
  registerBacktestCommands(context, log, deployments);
  registerReviewCommands(context, log, deployments);
  registerWorkflowCommands(context, log, deployments);
  registerExperiments(context, log);
  registerDeployCommands(context, log);
  registerRegistryCommands(context, log);
  registerEnvironmentCommands(context, log);

  const timing = recordActivation(started);
  log.info(`activated in ${timing.activateMs.toFixed(1)} ms (bundle loaded in ${timing.loadMs.toFixed(1)} ms)`);
}
