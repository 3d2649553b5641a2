import * as vscode from 'vscode';
import { setting, workspaceRoot } from '../host/settings';
import { showWebviewPanel, type OpenPanel } from '../host/webviewPanel';
import type { Logger } from '../shared/logger';
import { EnvironmentRequest, type EnvironmentUpdate } from './contract';
import { checkEnvironment } from './checks';

/** The "MLOps: Environment" panel: what is available for training, tracking and deploying. */
export function showEnvironmentPanel(context: vscode.ExtensionContext, log: vscode.LogOutputChannel & Logger): void {
  const panel = showWebviewPanel<EnvironmentRequest, EnvironmentUpdate>(context, log, {
    viewType: 'mlops.environment',
    title: 'MLOps: Environment',
    bundle: 'environment',
    incoming: EnvironmentRequest,
    onMessage: (message, open) => {
      switch (message.type) {
        case 'ready':
        case 'rerun':
          return runChecks(open, log);
        case 'showLog':
          return log.show();
      }
    },
  });
  void runChecks(panel, log);
}

async function runChecks(panel: OpenPanel<EnvironmentUpdate>, log: Logger): Promise<void> {
  await panel.post({ type: 'running' });
  const checks = await checkEnvironment({
    pythonPath: setting('pythonPath', ''),
    dockerHost: setting('dockerHost', ''),
    kubeconfig: setting('kubeconfig', ''),
    cwd: workspaceRoot(),
  });
  for (const check of checks) log.info(`environment: ${check.label}: ${check.status}: ${check.detail}`);
  await panel.post({ type: 'checks', checks, checkedAt: new Date().toISOString() });
}
