import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DATASET_GLOB, isDatasetFileName } from '../../src/datasets/datasetFileNames';
import { formatBytes } from '../../src/shared/formatBytes';

test('dataset files are found by their extensions', () => {
  assert.equal(DATASET_GLOB, '**/*.{csv,tsv,parquet,json,jsonl}');
});

test('tool configuration is not a dataset, data in JSON is', () => {
  for (const name of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'settings.json',
    'app.config.json',
  ]) {
    assert.equal(isDatasetFileName(name), false, name);
  }
  for (const name of ['customers.json', 'events.jsonl', 'train.csv', 'packages.json']) {
    assert.equal(isDatasetFileName(name), true, name);
  }
});

test('sizes read as people write them', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(formatBytes(10 * 1024 ** 3), '10.0 GB');
});
