// The composition root: build the services, register views and commands. Each area registers
// its own; heavy modules (Docker, Kubernetes, DuckDB) are loaded by the commands that use them.
import * as vscode from 'vscode';
import { registerDatasets } from './datasets/commands';
import { registerDeployCommands } from './containerize/commands';
import { registerDeployments } from './deploy/deployments/commands';
import { registerRegistryCommands } from './containerize/registry/commands';
import { registerEnvironmentCommands } from './environment/commands';
import { registerExperiments } from './experiments/commands';
import { recordActivation } from './host/activationTiming';
import { createOutputLog } from './host/output';

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const log = createOutputLog(context);

  registerDatasets(context, log);
  registerDeployments(context, log);
  registerExperiments(context, log);
  registerDeployCommands(context, log);
  registerRegistryCommands(context);
  registerEnvironmentCommands(context, log);

  const timing = recordActivation(started);
  log.info(`activated in ${timing.activateMs.toFixed(1)} ms (bundle loaded in ${timing.loadMs.toFixed(1)} ms)`);
}
