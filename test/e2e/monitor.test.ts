// The monitor panel in a real VS Code, on a model deployed to a real single-node swarm: live
// charts of real traffic, then a price rise in the inputs that drifts monthly_charges past its
// PSI threshold, an alert in the panel, and "Revert to stable" bringing back revision 1.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../scripts/lib/codeServer.mjs';
import { ensureSwarm, PROXY_IMAGE } from '../../scripts/lib/docker.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import type { DeployTarget } from '../../src/deploy/targets/deployTarget';
import { openSwarmTarget } from '../../src/deploy/targets/swarm/swarmTarget';
import { modelImages } from '../support/modelImages';
import { needService } from '../support/services';
import {
  openWorkbench,
  rowFinder,
  runCommand,
  screenshot,
  showDeploymentsView,
  webviewFrame,
  workbenchUnavailableReason,
  type Workbench,
} from '../support/workbench';

describe('the monitor panel on a real swarm', { timeout: 1_200_000 }, () => {
  const name = `e2e-watched-${Date.now().toString(36)}`;
  let unavailable = workbenchUnavailableReason();
  let workbench: Workbench | undefined;
  let target: DeployTarget | undefined;
  let port = 0;
  let shift = 0;
  let running = true;
  let traffic: Promise<void> | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });

  const post = (body: string) =>
    new Promise<number>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/invocations',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
      req.end(body);
    });

  before(
    async () => {
      if (unavailable) return;
      const swarm = await ensureSwarm();
      if (!swarm.ok) return void (unavailable = swarm.reason);
      const images = await modelImages();
      if (!images.ok) return void (unavailable = images.reason);
      target = await openSwarmTarget({ proxyImage: PROXY_IMAGE });
      port = await freePort();
      await target.deploy({
        name,
        image: images.v1,
        publishedPort: port,
        publishMode: 'host',
        changeCause: 'the proven model',
      });
      await target.pinStable(name, 1);
      await target.deploy({
        name,
        image: images.v2,
        publishedPort: port,
        publishMode: 'host',
        changeCause: 'more trees',
      });

      const workspace = join(mkdtempSync(join(tmpdir(), 'mlops-e2e-monitor-')), 'churn');
      cpSync(join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace'), workspace, { recursive: true });
      writeFileSync(
        join(workspace, 'mlops.config.json'),
        JSON.stringify(
          {
            monitoring: {
              [name]: { psi: 0.25, errorRate: 0.2, p95LatencyMs: 500, minRequests: 5, baseline: 'data/customers.csv' },
            },
          },
          null,
          2,
        ),
      );
      // Steady traffic: the training rows again and again; `shift` raises monthly_charges later.
      const training = readFileSync(join(workspace, 'data', 'customers.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(','));
      traffic = (async () => {
        let i = 0;
        while (running) {
          i++;
          const [, tenure, charges, , calls] = training[i % training.length]!;
          const row = {
            tenure_months: Number(tenure),
            monthly_charges: Number(charges) + shift,
            support_calls: Number(calls),
          };
          await post(JSON.stringify({ dataframe_records: [row] }));
          if (i % 25 === 0) await post('{"dataframe_records": oops');
          await new Promise((resolve) => setTimeout(resolve, shift ? 5 : 40));
        }
      })();
      workbench = await openWorkbench(workspace);
    },
    { timeout: 1_000_000 },
  );

  after(async () => {
    running = false;
    await traffic;
    agent.destroy();
    await workbench?.close();
    await target?.remove(name).catch(() => undefined);
  });

  test('shows live charts of the deployment, raises a drift alert, and reverts to the stable revision', async (t) => {
    if (!needService(t, !unavailable, `the monitor end-to-end test cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    page.on('console', (message) => message.type() === 'error' && t.diagnostic(`console: ${message.text()}`));
    await showDeploymentsView(page);
    await rowFinder(page).row(name, 60_000);
    await runCommand(page, 'MLOps: Open Monitor');
    const finder = rowFinder(page);
    // Other deployments on the engine make the command ask which one.
    const picked = await finder.pickRow(name, 15_000).catch(() => undefined);
    await picked?.click();

    const frame = await webviewFrame(page, '.tiles .tile', 90_000);
    // Two live refreshes at least, so the charts have lines.
    await frame.locator('.chart-grid canvas').first().waitFor({ timeout: 60_000 });
    await page.waitForTimeout(12_000);
    const requests = frame.locator('.tile', { hasText: 'Requests' }).locator('.tile-value');
    assert.ok(Number((await requests.innerText()).replace(/[^0-9]/g, '')) > 10, await requests.innerText());
    await frame.locator('td.feature', { hasText: 'monthly_charges' }).waitFor({ timeout: 30_000 });
    // The panel alone, wide, for the screenshots; the side bar comes back for the tree below.
    await runCommand(page, 'View: Toggle Primary Side Bar Visibility');
    await page.waitForTimeout(1000);
    await screenshot(page, 'monitor-panel');
    await frame
      .locator('h2', { hasText: 'Traffic, errors and latency' })
      .evaluate((heading) => heading.scrollIntoView({ block: 'start' }));
    await screenshot(page, 'monitor-charts');
    await frame
      .locator('h2', { hasText: 'Input drift' })
      .evaluate((heading) => heading.scrollIntoView({ block: 'start' }));
    await screenshot(page, 'monitor-drift');
    await frame
      .locator('h2')
      .first()
      .evaluate((heading) => heading.scrollIntoView({ block: 'start' }));

    // A price rise: the alert banner names the drifted feature.
    shift = 80;
    const banner = frame.locator('.alert-banner');
    await banner.filter({ hasText: 'monthly_charges' }).waitFor({ timeout: 90_000 });
    await banner.scrollIntoViewIfNeeded();
    assert.match(await banner.innerText(), /input drift on monthly_charges, PSI \d\.\d+ is above 0\.25/);
    await screenshot(page, 'monitor-alert');

    await banner.locator('vscode-button', { hasText: 'Revert to stable' }).click();
    const dialog = page.locator('.monaco-dialog-box', { hasText: `Revert ${name}` });
    await dialog.waitFor({ timeout: 30_000 });
    await dialog.locator('.monaco-button', { hasText: 'Revert' }).first().click();
    const done = page
      .locator('.notification-toast', { hasText: /went back from revision 2 to the stable revision 1/ })
      .first();
    await done.waitFor({ timeout: 300_000 });
    const status = await target!.status(name);
    assert.equal(status.revision, 1);
    await page.waitForTimeout(6_000);
    await screenshot(page, 'monitor-reverted');
    await runCommand(page, 'View: Toggle Primary Side Bar Visibility');

    // The alert and the revert are in the deployment's history in the Deployments view.
    // A row is expanded only when it is not already (a click would toggle it), and again until its
    // child shows: a refresh of the view (the status is polled) can land on the click.
    const expand = async (parent: string | { label: string }, child: string | RegExp | { label: string }) => {
      for (let attempt = 1; ; attempt++) {
        const row = await finder.row(parent, 60_000);
        if ((await row.getAttribute('aria-expanded')) !== 'true') {
          await row.click();
          if ((await row.getAttribute('aria-expanded')) !== 'true') await page.keyboard.press('ArrowRight');
        }
        try {
          return await finder.row(child, 15_000);
        } catch (error) {
          if (attempt === 4) throw error;
          // Expanded with no child: closed, to be opened afresh.
          if ((await row.getAttribute('aria-expanded').catch(() => null)) === 'true') await row.click().catch(() => {});
        }
      }
    };
    await expand(name, { label: 'Release History' });
    await expand({ label: 'Release History' }, /Drift on monthly_charges/);
    await finder.row(/Drift on monthly_charges/, 30_000);
    await finder.row(/Reverted to revision 1/, 30_000);
    assert.equal(
      await finder.rows().filter({ hasText: 'Drift on monthly_charges' }).count(),
      1,
      'one alert per breach, however often the monitor looks',
    );
    await screenshot(page, 'monitor-audit-tree');
  });
});
