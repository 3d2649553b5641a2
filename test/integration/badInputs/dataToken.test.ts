// Bad inputs of `mlops token`: what is missing or unknown is named, with the exit code of a usage
// error (2) or of a failure (1), and no stack trace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensureSwarm } from '../../../scripts/lib/docker.mjs';
import { expectRefused } from '../../support/badInput';
import { dockerAvailable } from '../../support/docker';
import { needService } from '../../support/services';

test('a token without --name', async () => {
  await expectRefused({ args: ['token', '--target', 'swarm'], exitCode: 2, message: /--name NAME is required/ });
});

test('a token on an unknown target (--target nomad)', async () => {
  await expectRefused({
    args: ['token', '--target', 'nomad', '--name', 'churn'],
    exitCode: 2,
    message: /--target nomad is not supported; use --target swarm or --target kubernetes/,
  });
});

test('the token of a deployment that does not exist', async (t) => {
  const engine = await dockerAvailable();
  const swarm = engine.ok ? await ensureSwarm() : { ok: false, reason: engine.reason };
  if (!needService(t, swarm.ok, `no swarm: ${swarm.ok ? '' : swarm.reason}`)) return;
  const result = await expectRefused({
    args: ['token', '--target', 'swarm', '--name', 'no-such-deployment'],
    message: [/No deployment named no-such-deployment on \/var\/run\/docker\.sock\./, /Deploy it first/],
  });
  assert.equal(result.stdout, '', 'no token is printed');
});
