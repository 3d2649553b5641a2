// What the first bytes of a delimited text file tell before DuckDB reads it: the encoding, the
// delimiter, and the first row whose field count breaks ranks. DuckDB's own sniffer settles
// for a one-column '|' dialect on a file with a short row near the top, so the delimiter is
// chosen here and DuckDB is held to it.
// Own code, not a library: CSV parsers guess a delimiter but report neither the encoding nor the first ragged row.
import { isUtf8 } from 'node:buffer';

/** Encodings as DuckDB's read_csv names them, and UTF-16 big-endian, which it cannot read. */
export type TextEncoding = 'utf-8' | 'utf-16' | 'latin-1' | 'utf-16be';

/** `complete` says whether `head` is the whole file, or only its start (where a character may be cut). */
export function detectEncoding(head: Uint8Array, complete: boolean): TextEncoding {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  const sample = head.subarray(0, Math.min(head.length, 4096));
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < sample.length; i++) {
    if (sample[i] !== 0) continue;
    if (i % 2) oddZeros++;
    else evenZeros++;
  }
  // ASCII text in UTF-16 has a zero byte beside every character.
  if (oddZeros > sample.length / 4) return 'utf-16';
  if (evenZeros > sample.length / 4) return 'utf-16be';
  const { invalidAt } = scanUtf8(head, complete);
  return invalidAt === undefined ? 'utf-8' : 'latin-1';
}

export function decodeHead(head: Uint8Array, encoding: TextEncoding): string {
  const label = encoding === 'latin-1' ? 'latin1' : encoding === 'utf-16' ? 'utf-16le' : encoding;
  return new TextDecoder(label).decode(head);
}

const DELIMITER_CANDIDATES = [',', '\t', ';', '|'];

/** The delimiter of a CSV: the candidate that splits the first record most often (a comma when none does). */
export function detectDelimiter(text: string): string {
  const line = firstLine(text);
  let best = ',';
  let bestCount = 0;
  for (const candidate of DELIMITER_CANDIDATES) {
    const count = countOutsideQuotes(line, candidate);
    if (count > bestCount) [best, bestCount] = [candidate, count];
  }
  return best;
}

export interface RaggedRow {
  /** 1-based line where the record starts. */
  line: number;
  fields: number;
  expected: number;
}

/**
 * The first record whose field count differs from the first record's. `complete` false means
 * `text` is only the start of the file: its last, possibly cut, record is not judged.
 */
export function firstRaggedRow(text: string, delimiter: string, complete: boolean): RaggedRow | undefined {
  const all = records(text, delimiter);
  const judged = complete ? all : all.slice(0, -1);
  const expected = judged[0]?.fields.length;
  for (const record of judged.slice(1)) {
    const blank = record.fields.length === 1 && record.fields[0] === '';
    if (!blank && record.fields.length !== expected)
      return { line: record.line, fields: record.fields.length, expected: expected! };
  }
  return undefined;
}

/** The first line, where a quoted field may span line breaks. */
function firstLine(text: string): string {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (!quoted && (text[i] === '\n' || text[i] === '\r')) return text.slice(0, i);
  }
  return text;
}

function countOutsideQuotes(line: string, char: string): number {
  let count = 0;
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === char && !quoted) count++;
  }
  return count;
}

/** RFC 4180 records: quoted fields may hold delimiters, doubled quotes and line breaks. */
function records(text: string, delimiter: string): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') quoted = true;
    else if (c === delimiter) {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      out.push({ line: start, fields });
      fields = [];
      field = '';
      start = ++line;
    } else field += c;
  }
  if (field !== '' || fields.length > 0) out.push({ line: start, fields: [...fields, field] });
  return out;
}

export interface Utf8Scan {
  /** Offset of the first byte that is not valid UTF-8. */
  invalidAt?: number;
  /** Where a character cut by the end of `bytes` starts (`bytes.length` when none is cut). */
  validUpTo: number;
}

/** Finds the first invalid UTF-8 sequence. When `final` is false, a character cut at the end is not an error. */
export function scanUtf8(bytes: Uint8Array, final: boolean): Utf8Scan {
  if (isUtf8(bytes)) return { validUpTo: bytes.length };
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    const length = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0) return { invalidAt: i, validUpTo: i };
    // The second byte's range excludes overlong forms, surrogates and code points past U+10FFFF.
    const low = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const high = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k < length; k++) {
      if (i + k >= bytes.length) return final ? { invalidAt: i, validUpTo: i } : { validUpTo: i };
      const next = bytes[i + k];
      if (k === 1 ? next < low || next > high : (next & 0xc0) !== 0x80) return { invalidAt: i, validUpTo: i };
    }
    i += length;
  }
  return { validUpTo: bytes.length };
}
