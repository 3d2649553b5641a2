import * as vscode from 'vscode';
import type { Logger } from '../shared/logger';

export function registerEnvironmentCommands(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel & Logger,
): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('mlops.checkEnvironment', async () =>
      (await import('./environmentPanel')).showEnvironmentPanel(context, log),
    ),
    vscode.commands.registerCommand('mlops.showLog', () => log.show()),
  );
}
