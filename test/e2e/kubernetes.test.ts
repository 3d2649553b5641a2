// Kubernetes in the Deployments view of a real VS Code, against a real control plane (kwok as the
// kubelet): the target shows its namespaces, a deployment with its revisions, pods and events,
// another namespace is browsed, "MLOps: Roll Back" from the palette brings revision 1's template
// back, and the manifests export as YAML.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openKubernetesTarget, type KubernetesTarget } from '../../src/deploy/targets/kubernetes/kubernetesTarget';
import { controlPlane, type ControlPlane } from '../support/kubernetes';
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

describe('Kubernetes in the Deployments view', { timeout: 600_000 }, () => {
  let unavailable = workbenchUnavailableReason();
  let plane: ControlPlane | undefined;
  let workbench: Workbench | undefined;
  let target: KubernetesTarget;

  before(
    async () => {
      if (unavailable) return;
      const started = await controlPlane();
      if (!started.ok) return void (unavailable = started.reason);
      plane = started.plane;
      target = await openKubernetesTarget({ kubeconfig: plane.kubeconfig });
      // Two revisions in default, and a deployment in a second namespace to browse.
      await target.deploy({
        name: 'churn',
        image: 'registry.example/churn:1',
        replicas: 2,
        changeCause: 'first model',
      });
      await target.deploy({ name: 'churn', image: 'registry.example/churn:2', replicas: 2, changeCause: 'more trees' });
      await target.applyObjects([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b' } }], false);
      await target.inNamespace('team-b').deploy({ name: 'fraud', image: 'registry.example/fraud:1' });

      const workspace = mkdtempSync(join(tmpdir(), 'mlops-e2e-kubernetes-'));
      mkdirSync(join(workspace, '.vscode'));
      writeFileSync(
        join(workspace, '.vscode', 'settings.json'),
        JSON.stringify(
          {
            'mlops.kubeconfig': plane.kubeconfig,
            'mlops.deployTargets': [
              { name: 'kwok cluster', kubernetes: { context: 'mlops-test', namespace: 'default' } },
            ],
          },
          null,
          2,
        ),
      );
      writeFileSync(
        join(workspace, 'thresholds.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: churn-thresholds\ndata:\n  alert: "0.7"\n',
      );
      workbench = await openWorkbench(workspace);
    },
    { timeout: 300_000 },
  );

  after(async () => {
    await workbench?.close();
    await plane?.stop();
  });

  test('the target shows its namespaces, the deployment with two revisions, its pods and events', async (t) => {
    if (!needService(t, !unavailable, `the Kubernetes end-to-end test cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    const { row } = rowFinder(page);
    await showDeploymentsView(page);
    assert.match(await (await row('kwok cluster', 60_000)).innerText(), /mlops-test · default · 1 deployment/);
    assert.match(await (await row({ label: 'default' })).innerText(), /deploys here/);
    const churn = await row({ label: 'churn' });
    assert.match(await churn.innerText(), /2\/2 healthy · rev 2/);
    await churn.click();
    assert.match(await (await row({ label: 'Revision 2' })).innerText(), /current[\s\S]*more trees/);
    assert.match(await (await row({ label: 'Revision 1' })).innerText(), /first model/);
    await (await row({ label: 'Pods' })).click();
    await row(/running/);
    const events = await row({ label: 'Events' });
    await events.click();
    await row(/ScalingReplicaSet/);
    await screenshot(page, 'deployments-kubernetes-events');
    // The tree renders only the rows in sight: the events fold away to bring team-b into view.
    await events.click();
    await (await row({ label: 'team-b' })).click();
    assert.match(await (await row({ label: 'fraud' })).innerText(), /1\/1 healthy · rev 1/);
    await screenshot(page, 'deployments-kubernetes');
  });

  test('"MLOps: Roll Back" from the palette brings revision 1\'s template back', async (t) => {
    if (!needService(t, !unavailable, `the Kubernetes end-to-end test cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    const { row, pickRow, pickRows, labelled } = rowFinder(page);
    await runCommand(page, 'MLOps: Roll Back');
    // Deployments of other targets (the local swarm, team-b) make the command ask which one first.
    await pickRows()
      .filter({ hasText: 'churn' })
      .or(labelled(pickRows, 'Revision 1'))
      .first()
      .waitFor({ timeout: 60_000 });
    if ((await labelled(pickRows, 'Revision 1').count()) === 0) await (await pickRow({ label: 'churn' })).click();
    await (await pickRow({ label: 'Revision 1' })).click();
    const done = page.locator('.notification-toast', { hasText: /Rolled back churn to revision 1/ }).first();
    await done.waitFor({ timeout: 120_000 });
    assert.match(await done.innerText(), /2\/2 healthy/);
    assert.equal(
      await done.locator('.monaco-button', { hasText: 'Open Endpoint' }).count(),
      0,
      'a ClusterIP answers inside the cluster only',
    );
    // As with kubectl rollout undo, revision 1's template comes back as revision 3.
    // The watch brings the view up to date: the rollout is complete, revision 1's template is current.
    await row(/2\/2 healthy · rev 3/);
    assert.match(await (await row({ label: 'Revision 3' })).innerText(), /current[\s\S]*first model/);
    await screenshot(page, 'deployments-kubernetes-rollback');
    const [deployment] = await target.exportManifests('churn');
    assert.equal(
      (deployment as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec
        .containers[0]!.image,
      'registry.example/churn:1',
    );
  });

  test('"Apply Kubernetes YAML" shows the dry run as a diff and applies after the confirmation', async (t) => {
    if (!needService(t, !unavailable, `the Kubernetes end-to-end test cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('thresholds.yaml');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'thresholds.yaml' }).first().click();
    await page.locator('.tabs-container .tab', { hasText: 'thresholds.yaml' }).waitFor({ timeout: 30_000 });
    await runCommand(page, 'MLOps: Apply Kubernetes YAML');
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'Apply thresholds.yaml to mlops-test · default?' });
    await dialog.waitFor({ timeout: 60_000 });
    assert.match(await dialog.innerText(), /1 created/);
    await page
      .locator('.tabs-container .tab', { hasText: /thresholds\.yaml: live ↔ after apply/ })
      .waitFor({ timeout: 30_000 });
    await screenshot(page, 'deployments-kubernetes-apply');
    await dialog.locator('.monaco-button', { hasText: 'Apply' }).click();
    await page
      .locator('.notification-toast', { hasText: /Applied thresholds\.yaml to mlops-test · default: 1 created/ })
      .first()
      .waitFor({ timeout: 60_000 });
    const [applied] = await target.applyObjects(
      [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'churn-thresholds' } }],
      true,
    );
    assert.deepEqual(
      (applied!.before as { data?: unknown } | null)?.data,
      { alert: '0.7' },
      'the ConfigMap exists after the confirmation',
    );
  });

  test('"Deploy Image" to the cluster through its quick picks, then Scale and Remove', async (t) => {
    if (!needService(t, !unavailable, `the Kubernetes end-to-end test cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    const { row, pickRow } = rowFinder(page);
    const { widget, input, answer } = quickInput(page);
    await runCommand(page, 'MLOps: Deploy Image');
    await widget.filter({ hasText: 'Deploy: which image?' }).waitFor({ timeout: 30_000 });
    await input.fill('Enter an image name');
    await (await pickRow(/Enter an image name/)).click();
    await answer(/An image the target can run/, 'registry.example/scorer:1');
    await (await pickRow({ label: 'kwok cluster' })).click();
    await answer(/Service name/, 'scorer');
    await answer(/Replicas/, '2');
    await answer(/NodePort \(30000–32767\)/, '30080');
    await answer(/Change cause/, 'from the palette');
    const deployed = page.locator('.notification-toast', { hasText: /Deployed scorer revision 1/ }).first();
    await deployed.waitFor({ timeout: 120_000 });
    assert.match(await deployed.innerText(), /on kwok cluster: 2\/2 healthy/);
    assert.equal(
      await deployed.locator('.monaco-button', { hasText: 'Open Endpoint' }).count(),
      1,
      'a NodePort can be opened',
    );
    assert.deepEqual(
      (await target.endpoints('scorer')).map((e) => [e.url, e.publishMode]),
      [['http://127.0.0.1:30080', 'nodePort']],
    );

    // From the palette, which asks which deployment: the tree re-renders as the watches report.
    await row({ label: 'scorer' }, 60_000);
    await runCommand(page, 'MLOps: Scale Deployment');
    await (await pickRow(/scorer/)).click();
    await answer(/Replicas \(now \d running of 2\)/, '3');
    await page
      .locator('.notification-toast', { hasText: /scorer: 3\/3 healthy/ })
      .first()
      .waitFor({ timeout: 120_000 });
    assert.deepEqual((await target.status('scorer')).replicas, { running: 3, desired: 3 });

    await runCommand(page, 'MLOps: Remove Deployment');
    await (await pickRow(/scorer/)).click();
    const confirm = page.locator('.monaco-dialog-box', {
      hasText: 'Remove the deployment "scorer" from kwok cluster?',
    });
    await confirm.waitFor({ timeout: 30_000 });
    await confirm.locator('.monaco-button', { hasText: 'Remove' }).click();
    await page
      .locator('.notification-toast', { hasText: /Removed scorer from kwok cluster/ })
      .first()
      .waitFor({ timeout: 60_000 });
    await assert.rejects(target.status('scorer'), /No deployment named scorer/);
  });

  test('"Export Manifests as YAML" opens the live manifests, cleaned for GitOps', async (t) => {
    if (!needService(t, !unavailable, `the Kubernetes end-to-end test cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    const { pickRows } = rowFinder(page);
    await runCommand(page, 'MLOps: Export Manifests as YAML');
    const editor = page.locator('.editor-instance .view-lines').first();
    // Deployments of other targets make the command ask which one first.
    await pickRows()
      .filter({ hasText: 'churn' })
      .or(editor.filter({ hasText: 'kind: Deployment' }))
      .first()
      .waitFor({ timeout: 30_000 });
    if (await pickRows().filter({ hasText: 'churn' }).count())
      await pickRows().filter({ hasText: 'churn' }).first().click();
    await editor.filter({ hasText: 'kind: Deployment' }).waitFor({ timeout: 30_000 });
    const text = await editor.innerText();
    assert.match(text, /kubernetes\.io\/change-cause/);
    assert.doesNotMatch(text, /managedFields|resourceVersion/);
    await screenshot(page, 'deployments-kubernetes-export');
  });
});
