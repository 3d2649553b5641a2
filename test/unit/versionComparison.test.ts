import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatasetProfile } from '../../src/datasets/model';
import { compareVersionsMarkdown } from '../../src/datasets/versionComparison';

const column = (name: string, type: string, mean?: number) => ({
  name,
  type,
  nulls: 0,
  distinct: 2,
  ...(mean === undefined ? {} : { mean }),
});

test('two versions: row delta, schema changes and the statistics that moved', () => {
  const before: DatasetProfile = {
    rows: 2,
    columns: [column('id', 'BIGINT', 1.5), column('age', 'BIGINT', 42.5), column('city', 'VARCHAR')],
  };
  const after: DatasetProfile = {
    rows: 3,
    columns: [column('id', 'BIGINT', 2), column('age', 'DOUBLE', 38), column('churned', 'BIGINT', 0.33333333)],
  };
  const markdown = compareVersionsMarkdown(
    'data/customers.csv',
    { label: 'abc1234', profile: before },
    { label: 'working copy', profile: after },
  );
  assert.match(markdown, /\| rows \| 2 \| 3 \(\+1\) \|/);
  assert.match(markdown, /churned/);
  assert.match(markdown, /city/);
  assert.match(markdown, /age.*BIGINT.*DOUBLE/);
  assert.match(markdown, /\| id \| mean \| 1\.5 \| \*\*2\*\* \|/);
  assert.doesNotMatch(markdown, /\| id \| nulls/);
});
