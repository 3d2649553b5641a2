// The `expect:` list of a validate step: one rule per item, written `- rule: ...`.
import { isMap, isScalar, isSeq } from 'yaml';
import type { Expectation, ExpectationValue } from './pipelineModel';
import type { NodeReader } from './yamlNodeReader';

export const EXPECTATION_RULES = ['notNull', 'unique', 'range', 'allowedValues', 'rowCount'] as const;

export function readExpectations(reader: NodeReader, node: unknown): Expectation[] | undefined {
  if (node === undefined) return undefined;
  if (!isSeq(node) || node.items.length === 0)
    return reader.problem(
      node,
      "'expect' must be a list of expectations (notNull, unique, range, allowedValues, rowCount)",
    );
  const expectations = node.items.map((item) => readExpectation(reader, reader.resolve(item)));
  return expectations.every((e): e is Expectation => e !== undefined) ? expectations : undefined;
}

function readExpectation(reader: NodeReader, node: unknown): Expectation | undefined {
  const entries = reader.entries(node);
  if (!isMap(node) || entries.size !== 1)
    return reader.problem(node, `an expectation is one of ${EXPECTATION_RULES.join(', ')}, written as '- rule: ...'`);
  const [[rule, { key, value }]] = [...entries];
  const settings = reader.entries(value);
  const only = (allowed: string[]) => {
    if (!isMap(value)) return reader.problem(value ?? key, `${rule} takes a mapping with ${allowed.join(', ')}`);
    for (const [field, { key: fieldKey }] of settings)
      if (!allowed.includes(field))
        reader.problem(fieldKey, `unknown field '${field}' in ${rule} (expected ${allowed.join(', ')})`);
    return true;
  };
  const column = () =>
    settings.get('column')
      ? reader.text(settings.get('column')!.value, 'column')
      : reader.problem(value, `${rule} needs 'column'`);
  switch (rule) {
    case 'notNull':
    case 'unique': {
      const columns = reader.texts(value, `${rule} columns`);
      return columns?.length ? { rule, columns } : undefined;
    }
    case 'range': {
      if (!only(['column', 'min', 'max'])) return undefined;
      const name = column();
      const min = settings.has('min') ? reader.bound(settings.get('min')!.value, 'min') : undefined;
      const max = settings.has('max') ? reader.bound(settings.get('max')!.value, 'max') : undefined;
      if (min === undefined && max === undefined) return reader.problem(value, "range needs 'min', 'max' or both");
      return name === undefined
        ? undefined
        : { rule, column: name, ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
    }
    case 'allowedValues': {
      if (!only(['column', 'values'])) return undefined;
      const name = column();
      const values = readValues(
        reader,
        settings.get('values')?.value ?? reader.problem(value, "allowedValues needs 'values'"),
      );
      return name === undefined || values === undefined ? undefined : { rule, column: name, values };
    }
    case 'rowCount': {
      if (!only(['min', 'max'])) return undefined;
      const min = settings.has('min') ? reader.count(settings.get('min')!.value, 'min') : undefined;
      const max = settings.has('max') ? reader.count(settings.get('max')!.value, 'max') : undefined;
      if (min === undefined && max === undefined) return reader.problem(value, "rowCount needs 'min', 'max' or both");
      return { rule, ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
    }
    default:
      return reader.problem(key, `unknown expectation '${rule}' (expected ${EXPECTATION_RULES.join(', ')})`);
  }
}

function readValues(reader: NodeReader, node: unknown): ExpectationValue[] | undefined {
  if (node === undefined) return undefined;
  if (!isSeq(node) || node.items.length === 0) return reader.problem(node, 'values must be a non-empty list');
  const values = node.items.map((item) => {
    const value = isScalar(item) ? item.value : undefined;
    return typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value))
      ? value
      : reader.problem(item, 'values must be text, numbers or booleans');
  });
  return values.every((v): v is ExpectationValue => v !== undefined) ? values : undefined;
}
