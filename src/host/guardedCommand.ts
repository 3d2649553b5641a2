// The one wrapper of every command: an error becomes a logged message (with its remedy) and a
// "Show Log" button, a cancellation a warning, never a crash.
import * as vscode from 'vscode';
import { describeError, MlopsError } from '../shared/errors';
import type { Logger } from '../shared/logger';

/** Thrown when the user cancelled long work; reported as a warning, not an error. */
export class CancelledError extends MlopsError {}

export interface GuardOptions {
  /** The notification shows the message only, the remedy staying in the log (a build log's tail is too long to read in a toast). */
  remedyInLogOnly?: boolean;
}

/** Registers a command whose errors become a logged message with "Show Log", never a crash. */
export function guardedCommand(
  id: string,
  log: Logger & { show(): void },
  body: (...args: never[]) => Promise<void>,
  options: GuardOptions = {},
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: never[]) => {
    try {
      await body(...args);
    } catch (error) {
      if (error instanceof CancelledError) {
        log.warn(`${id}: ${describeError(error)}`);
        void vscode.window.showWarningMessage(describeError(error));
        return;
      }
      log.error(`${id}: ${describeError(error)}`);
      const shown = options.remedyInLogOnly && error instanceof MlopsError ? error.message : describeError(error);
      void vscode.window.showErrorMessage(shown, 'Show Log').then((choice) => choice && log.show());
    }
  });
}
