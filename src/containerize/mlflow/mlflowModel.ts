// An MLflow logged model as the source of an image: a local folder with an MLmodel file, or a
// runs:/ or models:/ URI that MLflow itself resolves and downloads (so every store and artifact
// backend MLflow knows works). Only the scikit-learn flavour can be served.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import * as v from 'valibot';
import { mlflowClientEnv } from '../../experiments/trackingStoreResolver';
import type { TrackingCredentials } from '../../experiments/trackingAuth';
import { checked, checkedJson } from '../../shared/checked';
import { MlopsError } from '../../shared/errors';
import { runProgram } from '../../shared/process';
import { fromRequirementsTxt } from '../image/requirements';

export interface MlflowModel {
  dir: string;
  uri: string;
  runId: string | null;
  /** The model file, relative to `dir`, and how it was serialised. */
  modelFile: string;
  serialization: 'pickle' | 'cloudpickle' | 'skops';
  features: { name: string; dtype: string }[] | null;
  sample: Record<string, unknown>[] | null;
  requirements: string[];
  sklearnVersion: string | null;
}

const RESOLVE = `import sys, mlflow
if sys.argv[2]:
    mlflow.set_tracking_uri(sys.argv[2])
print(mlflow.artifacts.download_artifacts(artifact_uri=sys.argv[1]))`;

/**
 * A local folder holding the model, downloading it with the workspace's MLflow when it is a URI;
 * a tracking server gets its own credentials only.
 */
export async function resolveModelDir(
  uri: string,
  python: string,
  tracking: { uri?: string; credentials?: TrackingCredentials } = {},
): Promise<string> {
  const local = uri.startsWith('file://') ? new URL(uri).pathname : uri;
  if (existsSync(join(local, 'MLmodel'))) return local;
  if (!/^(runs|models):\//.test(uri))
    throw new MlopsError(`${uri} is neither a folder with an MLmodel file nor a runs:/ or models:/ URI.`);
  const result = await runProgram(python, ['-c', RESOLVE, uri, tracking.uri ?? ''], {
    timeoutMs: 120_000,
    ...(tracking.uri ? { env: mlflowClientEnv(tracking.uri, tracking.credentials ?? {}) } : {}),
  }).catch((error: Error) => {
    throw new MlopsError(
      `Python (${python}) could not start to resolve ${uri}: ${error.message}`,
      'Set mlops.pythonPath to an interpreter with mlflow installed.',
    );
  });
  if (result.code !== 0) {
    const last = result.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit code ${result.code}`;
    throw new MlopsError(
      `MLflow could not resolve ${uri}: ${last}`,
      /No module named 'mlflow'/.test(last) ? `Install mlflow for ${python}, or set mlops.pythonPath.` : undefined,
    );
  }
  const dir = result.stdout.trim().split('\n').pop()!;
  if (!existsSync(join(dir, 'MLmodel'))) throw new MlopsError(`${uri} has no MLmodel file: it is not a logged model.`);
  return dir;
}

const Serializations = ['pickle', 'cloudpickle', 'skops'] as const;
const isSerialization = (format: string): format is MlflowModel['serialization'] =>
  (Serializations as readonly string[]).includes(format);

/** What this extension reads of an MLmodel file (YAML written by MLflow; other keys are kept). */
const MlmodelSchema = v.looseObject({
  run_id: v.nullish(v.string()),
  flavors: v.nullish(
    v.looseObject({
      sklearn: v.nullish(
        v.looseObject({
          pickled_model: v.nullish(v.string()),
          serialization_format: v.nullish(v.string()),
          // A version such as 1.5 may be written unquoted and read back as a number.
          sklearn_version: v.nullish(v.pipe(v.union([v.string(), v.number()]), v.transform(String))),
        }),
      ),
    }),
  ),
  signature: v.nullish(v.looseObject({ inputs: v.nullish(v.string()) })),
  saved_input_example_info: v.nullish(v.looseObject({ artifact_path: v.nullish(v.string()) })),
});

export async function readMlflowModel(dir: string, uri: string): Promise<MlflowModel> {
  const file = join(dir, 'MLmodel');
  let yaml: unknown;
  try {
    yaml = parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new MlopsError(`${file} is not readable YAML: ${(error as Error).message}`);
  }
  const mlmodel = checked(MlmodelSchema, yaml, file, 'an MLflow MLmodel file');
  const sklearn = mlmodel.flavors?.sklearn;
  if (!sklearn?.pickled_model) {
    const flavors = Object.keys(mlmodel.flavors ?? {}).join(', ') || 'none';
    throw new MlopsError(
      `${uri} is not a scikit-learn model (its flavours: ${flavors}).`,
      'Log the model with mlflow.sklearn.log_model, or containerise the notebook that trains it.',
    );
  }
  const serialization = sklearn.serialization_format ?? 'cloudpickle';
  if (!isSerialization(serialization))
    throw new MlopsError(`${file}: serialization_format ${serialization} is not supported.`);
  const requirementsText = await readFile(join(dir, 'requirements.txt'), 'utf8').catch(() => '');
  // The server unpickles with the standard library: MLflow itself is not needed in the image.
  const dropped = new Set(['mlflow', 'mlflow-skinny', ...(serialization === 'skops' ? [] : ['cloudpickle'])]);
  return {
    dir,
    uri,
    runId: mlmodel.run_id ?? null,
    modelFile: sklearn.pickled_model,
    serialization,
    features: signatureFeatures(mlmodel.signature?.inputs, file),
    sample: await inputExample(dir, mlmodel.saved_input_example_info?.artifact_path),
    requirements: fromRequirementsTxt(requirementsText).filter(
      (line) => !dropped.has(line.split(/[=<>~![ ;]/)[0]!.toLowerCase()),
    ),
    sklearnVersion: sklearn.sklearn_version ?? null,
  };
}

/** The columns of an MLmodel's `signature.inputs` (JSON text); a tensor signature names none. */
const SignatureInputs = v.array(v.looseObject({ name: v.optional(v.string()), type: v.optional(v.string()) }));

function signatureFeatures(inputs: string | null | undefined, file: string): MlflowModel['features'] {
  if (!inputs) return null;
  const columns = checkedJson(SignatureInputs, inputs, `signature.inputs of ${file}`, 'a list of columns');
  const features = columns.flatMap((c) => (c.name ? [{ name: c.name, dtype: c.type ?? 'unknown' }] : []));
  return features.length === columns.length ? features : null;
}

/** A logged input example: records, or a DataFrame split-oriented; other shapes (tensors) give no sample. */
const InputExampleSchema = v.union([
  v.array(v.record(v.string(), v.unknown())),
  v.looseObject({ columns: v.optional(v.array(v.string())), data: v.optional(v.array(v.array(v.unknown()))) }),
]);

/** The logged input example as records (MLflow saves DataFrames split-oriented). */
async function inputExample(dir: string, artifactPath: string | null | undefined) {
  if (!artifactPath) return null;
  const path = join(dir, artifactPath);
  const example = checkedJson(
    InputExampleSchema,
    await readFile(path, 'utf8'),
    `The input example ${path}`,
    'a list of records or a split-oriented table',
  );
  if (Array.isArray(example)) return example;
  const { columns, data } = example;
  if (columns && data) return data.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])));
  return null;
}
