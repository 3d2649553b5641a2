// Promotion moves the registered model's alias through a real `mlflow server`: found from the
// image's labels (models:/NAME/VERSION, models:/NAME@ALIAS, or the run it was logged from).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startMlflowServer } from '../../scripts/lib/mlflow.mjs';
import { moveAlias, registeredVersionOf } from '../../src/release/mlflowAlias';
import { MlopsError } from '../../src/shared/errors';
import { mlflowUnavailableReason, registerModelVersions } from '../support/mlflow';
import { needService } from '../support/services';

describe('moving an MLflow alias on promotion', () => {
  const unavailable = mlflowUnavailableReason();
  const folder = mkdtempSync(join(tmpdir(), 'mlops-alias-'));
  let server: Awaited<ReturnType<typeof startMlflowServer>> | undefined;
  const runs: string[] = [];

  async function rest<T>(endpoint: string, body: unknown): Promise<T> {
    const response = await fetch(`${server!.url}/api/2.0/mlflow/${endpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(response.ok, `${endpoint}: ${response.status} ${await response.clone().text()}`);
    return (await response.json()) as T;
  }

  before(async () => {
    if (unavailable) return;
    server = await startMlflowServer({ backendStoreUri: `sqlite:///${join(folder, 'mlflow.db')}` });
    runs.push(...(await registerModelVersions(server.url, 'churn-model', 2)));
    await rest('registered-models/alias', { name: 'churn-model', alias: 'champion', version: '1' });
  });
  after(async () => {
    await server?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  test('the version of an image is found by its model URI or its run', async (t) => {
    if (!needService(t, !unavailable, `MLflow is not available: ${unavailable}`)) return;
    const at = { url: server!.url };
    assert.deepEqual(await registeredVersionOf(at, { 'mlops.mlflow.model_uri': 'models:/churn-model/2' }), {
      name: 'churn-model',
      version: '2',
    });
    assert.deepEqual(await registeredVersionOf(at, { 'mlops.mlflow.model_uri': 'models:/churn-model@champion' }), {
      name: 'churn-model',
      version: '1',
    });
    assert.deepEqual(
      await registeredVersionOf(at, {
        'mlops.mlflow.model_uri': `runs:/${runs[1]}/model`,
        'mlops.mlflow.run_id': runs[1],
      }),
      { name: 'churn-model', version: '2' },
    );
    assert.equal(
      await registeredVersionOf(at, { 'mlops.notebook': 'churn.ipynb' }),
      null,
      'an image built from a notebook has no registered version',
    );
  });

  test('the alias moves to the promoted version, and the registry says so', async (t) => {
    if (!needService(t, !unavailable, `MLflow is not available: ${unavailable}`)) return;
    const moved = await moveAlias({ url: server!.url }, { name: 'churn-model', version: '2' }, 'champion');
    assert.deepEqual(moved, { name: 'churn-model', version: '2', alias: 'champion', previous: '1' });
    const answer = await fetch(`${server!.url}/api/2.0/mlflow/registered-models/alias?name=churn-model&alias=champion`);
    assert.equal(((await answer.json()) as { model_version: { version: string } }).model_version.version, '2');
  });

  test('a bad alias and an unknown model are refused with a message naming them', async (t) => {
    if (!needService(t, !unavailable, `MLflow is not available: ${unavailable}`)) return;
    await assert.rejects(
      moveAlias({ url: server!.url }, { name: 'churn-model', version: '2' }, 'latest'),
      /'latest' cannot be an MLflow alias/,
    );
    await assert.rejects(
      moveAlias({ url: server!.url }, { name: 'no-such-model', version: '1' }, 'champion'),
      (error: unknown) => error instanceof MlopsError && /registered-models\/get answered 404/.test(error.message),
    );
    await assert.rejects(
      moveAlias({ url: 'http://127.0.0.1:9' }, { name: 'churn-model', version: '1' }, 'champion'),
      /cannot be reached/,
    );
  });
});
