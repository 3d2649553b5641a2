import * as vscode from 'vscode';
import type { Logger } from '../shared/logger';

/** The one "MLOps" output channel that every long operation logs to. */
export function createOutputLog(context: vscode.ExtensionContext): vscode.LogOutputChannel & Logger {
  const channel = vscode.window.createOutputChannel('MLOps', { log: true });
  context.subscriptions.push(channel);
  return channel;
}
