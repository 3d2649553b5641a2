import * as vscode from 'vscode';
import type { Logger } from '../shared/logger';
import { redactUserInfo } from '../shared/redact';

/** The one "MLOps" output channel that every long operation logs to. */
export function createOutputLog(context: vscode.ExtensionContext): vscode.LogOutputChannel & Logger {
  const channel = vscode.window.createOutputChannel('MLOps', { log: true });
  context.subscriptions.push(channel);
  return redacting(channel);
}

/** The channel, writing every line without the user info of the URIs in it, whichever area logs it. */
function redacting(channel: vscode.LogOutputChannel): vscode.LogOutputChannel {
  const clean = (value: unknown): unknown =>
    typeof value === 'string'
      ? redactUserInfo(value)
      : value instanceof Error
        ? redactUserInfo(value.stack ?? value.message)
        : value;
  const text = (value: string) => redactUserInfo(value);
  return {
    get name() {
      return channel.name;
    },
    get logLevel() {
      return channel.logLevel;
    },
    onDidChangeLogLevel: channel.onDidChangeLogLevel,
    trace: (message, ...args) => channel.trace(text(message), ...args.map(clean)),
    debug: (message, ...args) => channel.debug(text(message), ...args.map(clean)),
    info: (message, ...args) => channel.info(text(message), ...args.map(clean)),
    warn: (message, ...args) => channel.warn(text(message), ...args.map(clean)),
    error: (error, ...args) => channel.error(clean(error) as string, ...args.map(clean)),
    append: (value) => channel.append(text(value)),
    appendLine: (value) => channel.appendLine(text(value)),
    replace: (value) => channel.replace(text(value)),
    clear: () => channel.clear(),
    show: (columnOrFocus?: vscode.ViewColumn | boolean, preserveFocus?: boolean) =>
      channel.show(columnOrFocus as vscode.ViewColumn, preserveFocus),
    hide: () => channel.hide(),
    dispose: () => channel.dispose(),
  };
}
