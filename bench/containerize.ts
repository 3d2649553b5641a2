// Containerise: the first build of a notebook's image against a rebuild after editing only the
// notebook (dependency layers reused). The model server beside its peers is the model-server suite.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBaseImage, ensureDockerEngine } from '../scripts/lib/docker.mjs';
import { ensureMlflow } from '../scripts/lib/mlflow.mjs';
import { repoRoot, say } from '../scripts/lib/setup.mjs';
import { containerizeNotebook } from '../src/containerize/containerize';
import type { BenchSuite } from './suite';

async function buildTimes(
  python: string,
  baseImage: string,
): Promise<{ first: number; rebuild: number; unchanged: number }> {
  const root = mkdtempSync(join(tmpdir(), 'mlops-bench-containerize-'));
  cpSync(join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace'), root, { recursive: true });
  const options = {
    notebook: join(root, 'churn_forest.ipynb'),
    workspaceRoot: root,
    python,
    baseImage,
    smoke: false,
    tag: `mlops-bench/churn:${Date.now()}`,
  };
  const timed = async (extra: object) => {
    const started = performance.now();
    await containerizeNotebook({ ...options, ...extra });
    return (performance.now() - started) / 1000;
  };
  say('containerize: first build, every layer rebuilt');
  const first = await timed({ noCache: true });
  // A value no earlier run used, so the rebuild cannot reuse an image: only its layers.
  writeFileSync(
    options.notebook,
    readFileSync(options.notebook, 'utf8').replace('n_estimators=50', `n_estimators=${50 + (Date.now() % 1000)}`),
  );
  say('containerize: rebuild after editing the notebook');
  const rebuild = await timed({});
  say('containerize: the same inputs again');
  const unchanged = await timed({});
  return { first, rebuild, unchanged };
}

export const containerizeSuite: BenchSuite = {
  name: 'containerize',
  async run() {
    const engine = await ensureDockerEngine();
    if (!engine.ok) throw new Error(engine.reason);
    const image = await ensureBaseImage();
    if (!image.ok) throw new Error(image.reason);
    const mlflow = ensureMlflow();
    if (!mlflow.ok) throw new Error(mlflow.reason);
    const builds = await buildTimes(mlflow.python, image.image);
    return [
      '## Containerise',
      '',
      `The fixture notebook \`churn_forest.ipynb\` (pandas, a train/test split, a random forest, plots and magics) on the offline Debian base image (\`${image.image}\`), through the Docker Engine API. That base image already holds pandas and scikit-learn, so the dependency layer only checks them and most of a build is the training step; where the requirements are installed with pip, reusing that layer saves their download and install too.`,
      '',
      '| build | time | ratio to the first build |',
      '| --- | --- | --- |',
      `| first build, every layer rebuilt (\`noCache\`) | ${builds.first.toFixed(1)} s | 1 |`,
      `| rebuild after editing only the notebook (dependency layers reused) | ${builds.rebuild.toFixed(1)} s | ${(builds.rebuild / builds.first).toFixed(2)} |`,
      `| the same inputs again (the image for the context hash is reused) | ${builds.unchanged.toFixed(1)} s | ${(builds.unchanged / builds.first).toFixed(2)} |`,
      '',
    ].join('\n');
  },
};
