// Input drift between two dataset files (the training data and, say, logged requests), per feature.
import { resolve } from 'node:path';
import { openDuckDb } from '../datasets/duckdb';
import { openSource, readDataset } from '../datasets/source';
import { MlopsError } from '../shared/errors';
import { drift, type FeatureDrift } from './drift';

/** Reads both files into tables `baseline` and `current` once, then measures the drift. */
export async function driftBetweenFiles(
  baselineFile: string,
  currentFile: string,
  features?: string[],
): Promise<FeatureDrift[]> {
  const [baseline, current] = await Promise.all([openSource(resolve(baselineFile)), openSource(resolve(currentFile))]);
  const db = await openDuckDb({ preserveInsertionOrder: false });
  try {
    await readDataset(baseline, (relation) =>
      db.query(`CREATE OR REPLACE TABLE baseline AS SELECT * FROM ${relation}`),
    );
    await readDataset(current, (relation) => db.query(`CREATE OR REPLACE TABLE current AS SELECT * FROM ${relation}`));
    try {
      return await drift(db, 'baseline', 'current', features);
    } catch (error) {
      if (/is not a column/.test((error as Error).message))
        throw new MlopsError(`${(error as Error).message} (${baselineFile}, ${currentFile}).`);
      throw error;
    }
  } finally {
    db.close();
  }
}
