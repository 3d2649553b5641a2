// Metric files of the mlruns/ store: one point a line, "<timestamp_ms> <value> [<step>]".
import type { MetricPoint } from '../model';

/** Python writes non-finite floats as nan, inf and -inf. */
export function parsePythonFloat(text: string): number {
  switch (text.toLowerCase()) {
    case 'nan':
    case '-nan':
      return NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
  }
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value)) throw new Error(`'${text}' is not a number`);
  return value;
}

export interface ParsedMetricFile {
  points: MetricPoint[];
  /** Lines that are not metric points, 1-based, with what is wrong. */
  badLines: string[];
}

export function parseMetricFile(text: string): ParsedMetricFile {
  const points: MetricPoint[] = [];
  const badLines = eachMetricLine(text, (point) => points.push(point));
  return { points, badLines };
}

/**
 * The latest point of a metric file, the max by (step, timestamp, value) as MLflow defines it,
 * without keeping every point: listing runs needs no more.
 */
export function latestInMetricFile(text: string): { latest: MetricPoint | undefined; badLines: string[] } {
  let latest: MetricPoint | undefined;
  const badLines = eachMetricLine(text, (point) => {
    if (!latest || isAfter(point, latest)) latest = point;
  });
  return { latest, badLines };
}

/** Calls `onPoint` for each point line and returns the lines that are not points, 1-based, with what is wrong. */
function eachMetricLine(text: string, onPoint: (point: MetricPoint) => void): string[] {
  const badLines: string[] = [];
  let start = 0;
  let lineNumber = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNumber++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (!line) continue;
    const fields = line.split(/\s+/);
    try {
      if (fields.length < 2 || fields.length > 3) throw new Error(`expected 2 or 3 fields, found ${fields.length}`);
      const timestamp = Number(fields[0]);
      // MLflow's FileStore reads a line without a step as step 0.
      const step = fields.length === 3 ? Number(fields[2]) : 0;
      if (!Number.isFinite(timestamp) || !Number.isFinite(step)) throw new Error('timestamp and step must be integers');
      onPoint({ step, timestamp, value: parsePythonFloat(fields[1]) });
    } catch (error) {
      badLines.push(
        `line ${lineNumber}: ${(error as Error).message} ('${line.length > 40 ? `${line.slice(0, 40)}…` : line}')`,
      );
    }
  }
  return badLines;
}

/** What a metric file's bad lines make of it: the file, the first lines that are wrong and the rule they break. */
export function metricFileProblem(file: string, badLines: string[]): string {
  const more = badLines.length > 3 ? ` (and ${badLines.length - 3} more)` : '';
  return `${file} has lines that are not '<timestamp_ms> <value> [<step>]', skipped: ${badLines.slice(0, 3).join('; ')}${more}`;
}

/** MLflow's "latest": a is after b by (step, timestamp, value). */
function isAfter(a: MetricPoint, b: MetricPoint): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  return a.value > b.value;
}

/** History order: by step, then timestamp, as MLflow returns it. */
export function byStepThenTime(a: MetricPoint, b: MetricPoint): number {
  return a.step - b.step || a.timestamp - b.timestamp;
}
