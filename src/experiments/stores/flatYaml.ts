// MLflow's meta.yaml files are maps of scalars (written by PyYAML), with at most one level of
// nesting (a registered model's aliases). This reads exactly that and rejects anything else, so a
// garbled file is reported rather than half-read.

export type Scalar = string | number | boolean | null;
export type YamlValue = Scalar | string[] | Record<string, Scalar | string[]>;

export class YamlError extends Error {}

function scalar(raw: string, line: number): Scalar | string[] {
  const text = raw.trim();
  if (text === '' || text === '~' || text === 'null') return null;
  if (text === '[]' || text === '{}') return [];
  if (text === 'true' || text === 'false') return text === 'true';
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) throw new YamlError(`line ${line}: unterminated quoted value`);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (text.startsWith('"')) {
    try {
      return JSON.parse(text) as string;
    } catch {
      throw new YamlError(`line ${line}: unterminated quoted value`);
    }
  }
  // Experiment ids are 18-digit integers: beyond 2^53 they stay strings, or they would change.
  if (/^[-+]?\d+$/.test(text)) return Number.isSafeInteger(Number(text)) ? Number(text) : text;
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (/^[[{]|[{}[\]]$/.test(text)) throw new YamlError(`line ${line}: unexpected collection '${text}'`);
  return text;
}

export function parseFlatYaml(text: string): Record<string, YamlValue> {
  const result: Record<string, YamlValue> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    // A list item under the previous key (PyYAML writes lists as "- item" lines).
    const item = /^\s*-\s+(.*)$/.exec(line);
    const lastKey = Object.keys(result).at(-1);
    if (item && lastKey !== undefined) {
      const list = Array.isArray(result[lastKey]) ? (result[lastKey] as string[]) : [];
      list.push(String(scalar(item[1], i + 1)));
      result[lastKey] = list;
      continue;
    }
    // An indented entry of the map that the previous key opened.
    const nested = /^\s+([A-Za-z_][\w.-]*):(?:\s+(.*))?$/.exec(line);
    if (nested && lastKey !== undefined && (result[lastKey] === null || isMap(result[lastKey]))) {
      const previous = result[lastKey];
      const map = isMap(previous) ? previous : {};
      map[nested[1]] = scalar(nested[2] ?? '', i + 1);
      result[lastKey] = map;
      continue;
    }
    const match = /^([A-Za-z_][\w.-]*):(?:\s+(.*))?$/.exec(line);
    if (!match) throw new YamlError(`line ${i + 1}: expected 'key: value', found '${line.slice(0, 40)}'`);
    result[match[1]] = scalar(match[2] ?? '', i + 1);
  }
  return result;
}

function isMap(value: YamlValue | undefined): value is Record<string, Scalar | string[]> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
