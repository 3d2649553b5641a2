// The Python side of the images (runtime/): its own unittest suites, run by the MLflow
// virtualenv's interpreter, which has scikit-learn and pandas as a data scientist's would, so the
// tests of real models run instead of skipping.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ensureMlflow } from '../../scripts/lib/mlflow.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { needService } from '../support/services';

test('the runtime unittest suites pass with pandas and scikit-learn, nothing skipped', { timeout: 600_000 }, (t) => {
  const mlflow = ensureMlflow();
  const python = mlflow.ok ? mlflow.python : '';
  if (!needService(t, mlflow.ok, mlflow.ok ? '' : `the MLflow virtualenv cannot be installed: ${mlflow.reason}`))
    return;
  const result = spawnSync(python, ['-m', 'unittest', 'discover', '-s', 'runtime/tests', '-t', 'runtime', '-v'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 540_000,
    // No __pycache__ folders left in the repository by the test run or the servers it starts.
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.status, 0, `python -m unittest exited with ${result.status ?? result.signal}:\n${output}`);
  const ran = /^Ran (\d+) tests? in /m.exec(output);
  assert.ok(ran && Number(ran[1]) > 0, `no tests ran:\n${output}`);
  const skipped = output.split('\n').filter((line) => / \.\.\. skipped /.test(line));
  assert.deepEqual(skipped, [], `tests were skipped although the interpreter has pandas and scikit-learn:\n${output}`);
});
