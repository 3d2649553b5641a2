// Reads Prometheus' text exposition format (0.0.4), as the model server and its router write
// it: `name{label="value",...} number [timestamp]`, with `# HELP` and `# TYPE` comments.
import { MlopsError } from '../shared/errors';
import type { Sample } from './model';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** The samples of `text`; `source` names where it came from in errors. */
export function parsePrometheusText(text: string, source: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].trim();
    if (!line || line.startsWith('#')) continue;
    try {
      samples.push(parseSample(line));
    } catch (error) {
      throw new MlopsError(
        `${source} line ${index + 1} is not Prometheus text format: ${(error as Error).message} (${JSON.stringify(line.slice(0, 120))}).`,
      );
    }
  }
  return samples;
}

function parseSample(line: string): Sample {
  const name = NAME.exec(line)?.[0];
  if (!name) throw new Error('no metric name');
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at++;
    for (;;) {
      while (line[at] === ' ' || line[at] === ',') at++;
      if (line[at] === '}') {
        at++;
        break;
      }
      const key = LABEL_NAME.exec(line.slice(at))?.[0];
      if (!key) throw new Error('a label name is missing');
      at += key.length;
      if (line[at] !== '=' || line[at + 1] !== '"') throw new Error(`label ${key} has no quoted value`);
      at += 2;
      let value = '';
      for (;;) {
        const char = line[at++];
        if (char === undefined) throw new Error(`label ${key} is not closed`);
        if (char === '"') break;
        if (char === '\\') {
          const escaped = line[at++];
          value += escaped === 'n' ? '\n' : escaped;
        } else value += char;
      }
      labels[key] = value;
    }
  }
  const [valueText] = line.slice(at).trim().split(/\s+/);
  const value = parseValue(valueText);
  if (value === undefined) throw new Error(`'${valueText}' is not a number`);
  return { name, labels, value };
}

function parseValue(text: string | undefined): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!text) return undefined;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}
