// The Deployments view in a real VS Code against a real single-node swarm: two versions of the
// churn notebook's model are built and deployed with the core API, the view shows the service
// with both revisions, and "MLOps: Roll Back" from the palette brings revision 1 back.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../scripts/lib/codeServer.mjs';
import { ensureSwarm, PROXY_IMAGE } from '../../scripts/lib/docker.mjs';
import { ensureMlflow } from '../../scripts/lib/mlflow.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { containerizeNotebook } from '../../src/containerize/containerize';
import type { DeployTarget } from '../../src/deploy/targets/deployTarget';
import { openSwarmTarget } from '../../src/deploy/targets/swarm/swarmTarget';
import { testBaseImage } from '../support/docker';
import { needService } from '../support/services';
import {
  openWorkbench,
  quickInput,
  rowFinder,
  runCommand,
  screenshot,
  showDeploymentsView,
  workbenchUnavailableReason,
  type Workbench,
} from '../support/workbench';

describe('the Deployments view on a real swarm', { timeout: 1_200_000 }, () => {
  const name = `e2e-churn-${Date.now().toString(36)}`;
  let unavailable = workbenchUnavailableReason();
  let workbench: Workbench | undefined;
  let target: DeployTarget | undefined;
  let deployed = false;
  const images: string[] = [];

  before(
    async () => {
      if (unavailable) return;
      const base = await testBaseImage();
      if (!base.ok) return void (unavailable = base.reason);
      const mlflow = ensureMlflow();
      if (!mlflow.ok) return void (unavailable = mlflow.reason);
      const swarm = await ensureSwarm();
      if (!swarm.ok) return void (unavailable = swarm.reason);

      // Two versions of the model: the fixture notebook, then the same with more trees.
      const workspace = join(mkdtempSync(join(tmpdir(), 'mlops-e2e-deployments-')), 'churn');
      cpSync(join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace'), workspace, { recursive: true });
      const notebook = join(workspace, 'churn_forest.ipynb');
      const build = async () => {
        const result = await containerizeNotebook({
          notebook,
          workspaceRoot: workspace,
          python: mlflow.python,
          baseImage: base.image,
          outDir: mkdtempSync(join(tmpdir(), 'mlops-e2e-context-')),
          smoke: false,
        });
        assert.ok(result.image, 'the image was built');
        return result.image;
      };
      images.push(await build());
      const source = readFileSync(notebook, 'utf8');
      assert.ok(source.includes('n_estimators=50'), 'the fixture fits 50 trees');
      writeFileSync(notebook, source.replace('n_estimators=50', 'n_estimators=80'));
      images.push(await build());
      assert.notEqual(images[0], images[1], 'the edited notebook gives another image');

      // Deployed with the core API, as the CLI or CI would; the view finds them on the swarm.
      target = await openSwarmTarget({ proxyImage: PROXY_IMAGE });
      const publishedPort = await freePort();
      deployed = true;
      for (const [index, changeCause] of ['first model', 'more trees'].entries()) {
        const result = await target.deploy(
          { name, image: images[index]!, replicas: 1, publishedPort, publishMode: 'host', changeCause },
          { timeoutMs: 300_000 },
        );
        assert.equal(result.rolledBack, false, `revision ${index + 1} converged: ${result.status.message}`);
        assert.equal(result.revision.revision, index + 1);
      }
      workbench = await openWorkbench(workspace);
    },
    { timeout: 1_000_000 },
  );

  after(async () => {
    await workbench?.close();
    if (!deployed) return;
    for (const service of [name, `${name}-ui`]) {
      await target
        ?.remove(service)
        .catch((error: Error) => service === name && console.error(`removing ${service}: ${error.message}`));
    }
  });

  const find = () => rowFinder(workbench!.page);
  const rows = () => find().rows();
  const pickRows = () => find().pickRows();
  const labelled: ReturnType<typeof rowFinder>['labelled'] = (list, label) => find().labelled(list, label);
  const shown: ReturnType<typeof rowFinder>['shown'] = (list, text, timeout) => find().shown(list, text, timeout);
  const row = (text: string | RegExp | { label: string }, timeout?: number) => find().row(text, timeout);
  const pickRow = (text: string | RegExp | { label: string }, timeout?: number) => find().pickRow(text, timeout);

  test('shows the deployed service with its two revisions, the current one marked', async (t) => {
    if (!needService(t, !unavailable, `the deployments end-to-end test cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    await showDeploymentsView(page);

    const service = await row(name, 60_000);
    assert.match(await service.innerText(), /1\/1 healthy · rev 2/);
    await service.click();
    assert.match(await (await row({ label: 'Revision 2' })).innerText(), /current[\s\S]*more trees/);
    const first = await row({ label: 'Revision 1' });
    assert.match(await first.innerText(), /first model/);
    assert.doesNotMatch(await first.innerText(), /current/);
    await screenshot(page, 'deployments-view');
  });

  test('"MLOps: Roll Back" from the palette brings revision 1 back', async (t) => {
    if (!needService(t, !unavailable, `the deployments end-to-end test cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    await runCommand(page, 'MLOps: Roll Back');
    // Other deployments on this engine make the command ask which one first.
    await pickRows()
      .filter({ hasText: name })
      .or(labelled(pickRows, 'Revision 1'))
      .first()
      .waitFor({ timeout: 60_000 });
    if ((await labelled(pickRows, 'Revision 1').count()) === 0) await (await pickRow(name)).click();
    const target1 = await pickRow({ label: 'Revision 1' });
    assert.match(await (await pickRow({ label: 'Revision 2' })).innerText(), /current/);
    await target1.click();

    const done = page.locator('.notification-toast', { hasText: /Rolled back .* to revision 1/ }).first();
    await done.waitFor({ timeout: 300_000 });
    assert.match(await done.innerText(), new RegExp(`Rolled back ${name} to revision 1 \\(.*\\): 1/1 healthy`));
    await shown(() => labelled(rows, 'Revision 1'), 'current');
    assert.doesNotMatch(await (await row({ label: 'Revision 2' })).innerText(), /current/);
    await screenshot(page, 'deployments-rollback');

    const status = await target!.status(name);
    assert.equal(status.revision, 1);
    assert.equal(status.image, images[0]);
  });

  test('"MLOps: Deploy Image" deploys through its quick picks and reports the endpoint', async (t) => {
    if (!needService(t, !unavailable, `the deployments end-to-end test cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    const { widget, input, answer } = quickInput(page);
    await runCommand(page, 'MLOps: Deploy Image');
    await widget.filter({ hasText: 'Deploy: which image?' }).waitFor({ timeout: 30_000 });
    await input.fill(images[1]!);
    await (await pickRow(images[1]!, 60_000)).click();
    await answer(/Service name/, `${name}-ui`);
    await answer(/Replicas/);
    await answer(/Host port/, String(await freePort()));
    await answer(/Change cause/, 'from the palette');

    const done = page.locator('.notification-toast', { hasText: new RegExp(`Deployed ${name}-ui revision 1`) }).first();
    await done.waitFor({ timeout: 300_000 });
    assert.match(await done.innerText(), /1\/1 healthy/);
    assert.equal(await done.locator('.monaco-button', { hasText: 'Open Endpoint' }).count(), 1);
    // The view re-lists when the deploy ends: its row may still show the deploy in progress for a moment.
    assert.match(
      await (await row(new RegExp(`${name}-ui[\\s\\S]*1/1 healthy · rev 1`))).innerText(),
      /1\/1 healthy · rev 1/,
    );
    const history = await target!.history(`${name}-ui`);
    assert.deepEqual(
      history.map((r) => [r.revision, r.image, r.changeCause, r.current]),
      [[1, images[1], 'from the palette', true]],
    );
  });
});
