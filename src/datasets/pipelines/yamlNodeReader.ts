// Typed reads of YAML nodes that remember where each node is, so that every problem found in a
// pipeline file points at its line and column. Problems are collected, not thrown: a file with
// several mistakes reports them all.
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { PipelineProblem } from './pipelineError';
import type { SourcePosition } from './pipelineModel';

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class NodeReader {
  readonly problems: PipelineProblem[] = [];

  constructor(
    private readonly document: Document,
    private readonly lines: LineCounter,
  ) {}

  root(): unknown {
    return this.resolve(this.document.contents);
  }

  resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.document) : node;
  }

  position(node: unknown): SourcePosition {
    const range = (node as Node | null | undefined)?.range;
    return this.lines.linePos(range ? range[0] : 0);
  }

  problem(node: unknown, message: string): undefined {
    this.problems.push({ ...this.position(node), message });
    return undefined;
  }

  /** A mapping's entries by key, reporting keys that are not text. */
  entries(node: unknown): Map<string, { key: unknown; value: unknown }> {
    const entries = new Map<string, { key: unknown; value: unknown }>();
    const map = this.resolve(node);
    if (!isMap(map)) return entries;
    for (const pair of map.items) {
      if (isScalar(pair.key) && typeof pair.key.value === 'string')
        entries.set(pair.key.value, { key: pair.key, value: this.resolve(pair.value) });
      else this.problem(pair.key, 'keys must be names');
    }
    return entries;
  }

  // The readers below pass over a missing (undefined) node quietly: its absence was reported already.
  text(node: unknown, what: string): string | undefined {
    if (node === undefined) return undefined;
    if (isScalar(node) && typeof node.value === 'string' && node.value.trim() !== '') return node.value;
    return this.problem(node, `${what} must be non-empty text`);
  }

  texts(node: unknown, what: string): string[] | undefined {
    if (node === undefined) return undefined;
    if (isScalar(node)) return [this.text(node, what)].filter((t): t is string => t !== undefined);
    if (isSeq(node))
      return node.items.map((item) => this.text(this.resolve(item), what)).filter((t): t is string => t !== undefined);
    return this.problem(node, `${what} must be text or a list of text`);
  }

  table(node: unknown, what: string): string | undefined {
    if (node === undefined) return undefined;
    const name = this.text(node, what);
    if (name !== undefined && !TABLE_NAME.test(name))
      return this.problem(
        node,
        `${what} '${name}' is not a table name (letters, digits and _, not starting with a digit)`,
      );
    return name;
  }

  tables(node: unknown, what: string): string[] | undefined {
    if (node === undefined) return undefined;
    if (!isSeq(node)) return this.problem(node, `${what} must be a list of table names`);
    return node.items.map((item) => this.table(this.resolve(item), what)).filter((t): t is string => t !== undefined);
  }

  boolean(node: unknown, what: string): boolean | undefined {
    if (node === undefined) return undefined;
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    return this.problem(node, `${what} must be true or false`);
  }

  count(node: unknown, what: string): number | undefined {
    if (node === undefined) return undefined;
    if (isScalar(node) && typeof node.value === 'number' && Number.isInteger(node.value) && node.value >= 0)
      return node.value;
    return this.problem(node, `${what} must be a whole number, 0 or more`);
  }

  bound(node: unknown, what: string): number | string | undefined {
    if (node === undefined) return undefined;
    if (
      isScalar(node) &&
      ((typeof node.value === 'number' && Number.isFinite(node.value)) || typeof node.value === 'string')
    )
      return node.value;
    return this.problem(node, `${what} must be a number, or text such as a date`);
  }

  fieldPositions(entries: Map<string, { key: unknown; value: unknown }>): Record<string, SourcePosition> {
    const positions: Record<string, SourcePosition> = {};
    for (const [name, { key, value }] of entries) {
      positions[name] = this.position(key);
      if (isSeq(value)) value.items.forEach((item, index) => (positions[`${name}.${index}`] = this.position(item)));
    }
    return positions;
  }
}
