import * as vscode from 'vscode';
import { describeError } from '../shared/errors';
import type { Logger } from '../shared/logger';

/** Registers a command whose errors become a logged message with "Show Log", never a crash. */
export function guardedCommand(
  id: string,
  log: Logger & { show(): void },
  body: (...args: unknown[]) => Promise<void>,
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      await body(...args);
    } catch (error) {
      log.error(`${id}: ${describeError(error)}`);
      void vscode.window.showErrorMessage(describeError(error), 'Show Log').then((choice) => choice && log.show());
    }
  });
}
