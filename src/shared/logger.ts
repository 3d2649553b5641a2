import { redactUserInfo } from './redact';

/** Where the core writes what it does. The extension backs it with the "MLOps" output channel. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger for the CLI: diagnostics go to stderr so that stdout stays machine-readable. */
export const stderrLogger: Logger = {
  info: (message) => process.stderr.write(`${redactUserInfo(message)}\n`),
  warn: (message) => process.stderr.write(`warning: ${redactUserInfo(message)}\n`),
  error: (message) => process.stderr.write(`error: ${redactUserInfo(message)}\n`),
};
