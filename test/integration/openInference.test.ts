// One running model image, two independent clients: Triton's Open Inference Protocol client
// (tritonclient[http] from PyPI) and MLflow's scoring server client get the same predictions,
// which are the notebook model's own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import Dockerode from 'dockerode';
import * as v from 'valibot';
import { ensureMlflow } from '../../scripts/lib/mlflow.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { ensureTritonclient } from '../../scripts/lib/tritonclient.mjs';
import { containerizeNotebook } from '../../src/containerize/containerize';
import { waitHealthy } from '../../src/containerize/image/smokeTest';
import { dockerAvailable, testBaseImage } from '../support/docker';
import { needService } from '../support/services';

const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });
const TAG = `mlops-test/open-inference:${Date.now()}`;
let unavailable = '';
let baseImage = '';
let mlflowPython = '';
let tritonPython = '';

// Reads the model's metadata, sends the records as one tensor per input, first as JSON, then with
// the binary tensor extension, and prints the metadata and both answers.
const TRITON_CLIENT = `import json, sys
import numpy as np
import tritonclient.http as http
url, name, records = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
client = http.InferenceServerClient(url=url)
assert client.is_server_live() and client.is_server_ready() and client.is_model_ready(name)
metadata = client.get_model_metadata(name)
dtypes = {"FP64": np.float64, "FP32": np.float32, "INT64": np.int64, "INT32": np.int32, "BOOL": np.bool_}
answers = []
for binary in (False, True):
    inputs = []
    for spec in metadata["inputs"]:
        values = np.array([r[spec["name"]] for r in records], dtype=dtypes.get(spec["datatype"], np.object_))
        tensor = http.InferInput(spec["name"], [len(records)], spec["datatype"])
        tensor.set_data_from_numpy(values, binary_data=binary)
        inputs.append(tensor)
    outputs = [http.InferRequestedOutput("predict", binary_data=binary)]
    result = client.infer(name, inputs, outputs=outputs, request_id=f"triton-{binary}")
    assert result.get_response()["id"] == f"triton-{binary}"
    answers.append(result.as_numpy("predict").tolist())
print(json.dumps({"metadata": metadata, "predictions": answers}))
`;

// MLflow's own client for its scoring server, sending a DataFrame to /invocations.
const MLFLOW_CLIENT = `import json, sys
import pandas as pd
from mlflow.pyfunc.scoring_server.client import ScoringServerClient
client = ScoringServerClient("127.0.0.1", int(sys.argv[1]))
client.wait_server_ready(timeout=60)
response = client.invoke(pd.DataFrame(json.loads(sys.argv[2])))
print(json.dumps(response.get_predictions(predictions_format="ndarray").tolist()))
`;

const TritonAnswer = v.object({
  metadata: v.object({
    name: v.string(),
    inputs: v.array(v.object({ name: v.string(), datatype: v.string(), shape: v.array(v.number()) })),
  }),
  predictions: v.tuple([v.array(v.unknown()), v.array(v.unknown())]),
});

function ready(t: TestContext): boolean {
  return needService(t, !unavailable, unavailable);
}

function runPython(python: string, script: string, args: string[]): string {
  const result = spawnSync(python, ['-c', script, ...args], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim().split('\n').at(-1)!;
}

before(async () => {
  const engine = await dockerAvailable();
  if (!engine.ok) return void (unavailable = engine.reason);
  const image = await testBaseImage();
  if (!image.ok) return void (unavailable = image.reason);
  baseImage = image.image;
  const mlflow = ensureMlflow();
  if (!mlflow.ok) return void (unavailable = mlflow.reason);
  mlflowPython = mlflow.python;
  const triton = ensureTritonclient();
  if (!triton.ok) return void (unavailable = triton.reason);
  tritonPython = triton.python;
});

after(async () => {
  if (!unavailable)
    await docker
      .getImage(TAG)
      .remove({ noprune: true })
      .catch(() => undefined);
});

describe('the Open Inference Protocol of a model image', { timeout: 600_000 }, () => {
  test('a V2 client and an MLflow client get the same predictions from one running image', async (t) => {
    if (!ready(t)) return;
    const root = mkdtempSync(join(tmpdir(), 'mlops-open-inference-'));
    cpSync(join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace'), root, { recursive: true });
    for (const args of [
      ['init', '-q'],
      ['add', '.'],
      ['-c', 'user.email=t@example.org', '-c', 'user.name=t', 'commit', '-qm', 'notebooks'],
    ])
      spawnSync('git', args, { cwd: root });
    const result = await containerizeNotebook({
      notebook: join(root, 'churn_forest.ipynb'),
      workspaceRoot: root,
      python: mlflowPython,
      baseImage,
      outDir: mkdtempSync(join(tmpdir(), 'mlops-context-')),
      tag: TAG,
    });
    assert.ok(result.smoke?.ok, result.smoke?.message);
    const records = v.parse(v.array(v.record(v.string(), v.unknown())), result.smoke.sample);
    const expected = v.parse(v.array(v.unknown()), result.smoke.expected);
    const name = result.labels['org.opencontainers.image.title']!;

    const container = await docker.createContainer({
      Image: TAG,
      HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
      ExposedPorts: { '8080/tcp': {} },
    });
    try {
      await container.start();
      const port = (await container.inspect()).NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
      assert.ok(port);
      await waitHealthy(container, `http://127.0.0.1:${port}`, 90_000);

      const triton = v.parse(
        TritonAnswer,
        JSON.parse(runPython(tritonPython, TRITON_CLIENT, [`127.0.0.1:${port}`, name, JSON.stringify(records)])),
      );
      const mlflow = v.parse(
        v.array(v.unknown()),
        JSON.parse(runPython(mlflowPython, MLFLOW_CLIENT, [port, JSON.stringify(records)])),
      );

      assert.equal(triton.metadata.name, name);
      assert.deepEqual(triton.metadata.inputs.map((input) => input.name).sort(), Object.keys(records[0]!).sort());
      assert.deepEqual(triton.predictions[0], expected);
      assert.deepEqual(triton.predictions[1], expected);
      assert.deepEqual(mlflow, expected);
    } finally {
      await container.remove({ force: true });
    }
  });
});
