// `mlops drift BASELINE CURRENT`: input drift between two dataset files (the training data and,
// say, logged requests), per feature, with PSI and KS; `--fail-on` makes it a CI gate.
import { resolve } from 'node:path';
import type { CliCommand } from '../cli/program';
import { UsageError } from '../cli/program';
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

const LEVELS = ['moderate', 'major'] as const;

export const driftCommand: CliCommand = {
  name: 'drift',
  summary: 'Input drift between two dataset files, per feature: PSI (deciles or categories) and the KS statistic',
  usage: 'drift BASELINE CURRENT [--features a,b] [--fail-on moderate|major] [--json]',
  options: { features: { type: 'string' }, 'fail-on': { type: 'string' } },
  async run(context) {
    const [baseline, current, ...extra] = context.positionals;
    if (!baseline || !current || extra.length) throw new UsageError('drift needs a BASELINE and a CURRENT file');
    const failOn = context.values['fail-on'] as string | undefined;
    if (failOn !== undefined && !LEVELS.includes(failOn as (typeof LEVELS)[number]))
      throw new UsageError(`--fail-on takes moderate or major, not '${failOn}'`);
    const features =
      typeof context.values.features === 'string'
        ? context.values.features
            .split(',')
            .map((f) => f.trim())
            .filter(Boolean)
        : undefined;
    const results = await driftBetweenFiles(baseline, current, features);
    if (context.json) context.io.stdout(`${JSON.stringify({ baseline, current, features: results }, null, 2)}\n`);
    else {
      const width = Math.max(7, ...results.map((r) => r.feature.length));
      context.io.stdout(`${'feature'.padEnd(width)}  kind         PSI      KS  drift\n`);
      for (const r of results) {
        context.io.stdout(
          `${r.feature.padEnd(width)}  ${r.kind.padEnd(11)}  ${r.psi.toFixed(4).padStart(6)}  ${r.ks === null ? '     -' : r.ks.toFixed(4)}  ${r.severity}\n`,
        );
      }
    }
    const failing = failOn
      ? results.filter((r) => r.severity === 'major' || (failOn === 'moderate' && r.severity === 'moderate'))
      : [];
    if (failing.length && !context.json)
      context.io.stderr(`drift at or above ${failOn} in: ${failing.map((r) => r.feature).join(', ')}\n`);
    return failing.length ? 1 : 0;
  },
};
