// A damaged line of a file read back (or a record that does not parse) is skipped but never
// silent: it is reported once, as panels re-read the same files every few seconds.
import type { MlopsError } from './errors';
import type { Logger } from './logger';

/** Told of each line or record that was skipped; its message names the file and line (or the record). */
export type BadLineReporter = (problem: MlopsError) => void;

/** A reporter that passes each problem to `warn` once (keyed by its message: the file, line and fault). */
export function reportOnce(warn: (message: string) => void): BadLineReporter {
  const reported = new Set<string>();
  return (problem) => {
    if (reported.has(problem.message)) return;
    reported.add(problem.message);
    warn(`${problem.message} It was skipped; the rest was read.`);
  };
}

const byLog = new WeakMap<Pick<Logger, 'warn'>, BadLineReporter>();

/** The reporter that warns on `log`, one per log: every area holding the log shares its reported keys. */
export function badLineWarnings(log: Pick<Logger, 'warn'>): BadLineReporter {
  let reporter = byLog.get(log);
  if (!reporter) {
    reporter = reportOnce((message) => log.warn(message));
    byLog.set(log, reporter);
  }
  return reporter;
}

/** The reporter of a CLI command: a warning on stderr, leaving stdout (and its JSON) alone. */
export function badLineStderr(io: { stderr(text: string): void }): BadLineReporter {
  return reportOnce((message) => io.stderr(`warning: ${message}\n`));
}
