import * as vscode from 'vscode';
import { guardedCommand } from '../host/guardedCommand';
import type { Logger } from '../shared/logger';

export function registerEnvironmentCommands(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel & Logger,
): void {
  context.subscriptions.push(
    guardedCommand('mlops.checkEnvironment', log, async () =>
      (await import('./environmentPanel')).showEnvironmentPanel(context, log),
    ),
    vscode.commands.registerCommand('mlops.showLog', () => log.show()),
  );
}
