import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatasetProfile } from '../../src/datasets/model';
import { profileCsv, profileJson } from '../../src/datasets/profileExport';

const profile: DatasetProfile = {
  rows: 4,
  columns: [
    {
      name: 'age',
      type: 'INTEGER',
      nulls: 1,
      distinct: 3,
      min: 18,
      max: 60,
      mean: 35.5,
      std: 12.1,
      quantiles: { q25: 20, q50: 30, q75: 50 },
      histogram: [{ start: 18, end: 60, count: 3 }],
    },
    {
      name: 'plan, tier',
      type: 'VARCHAR',
      nulls: 0,
      distinct: 2,
      min: 'basic',
      max: 'pro',
      topValues: [{ value: 'pro', count: 3 }],
    },
  ],
};

test('the CSV has a line per column, with empty fields for statistics a column does not have', () => {
  assert.equal(
    profileCsv(profile),
    'column,type,nulls,distinct,min,max,mean,std,q25,q50,q75\r\nage,INTEGER,1,3,18,60,35.5,12.1,20,30,50\r\n"plan, tier",VARCHAR,0,2,basic,pro,,,,,\r\n',
  );
});

test('the JSON holds the path and the whole profile, bins and top values included', () => {
  const parsed = JSON.parse(profileJson('/data/users.csv', profile));
  assert.equal(parsed.path, '/data/users.csv');
  assert.equal(parsed.rows, 4);
  assert.deepEqual(parsed.columns, profile.columns);
});
