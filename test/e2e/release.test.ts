// A release in a real VS Code, on a real single-node swarm: an A/B test started from the palette
// runs between two versions with live per-variant charts; then the candidate shadows production,
// a reviewer judges its answers in the review panel by keyboard, the gate holds promotion until
// the reviews meet it, the decisions survive a new extension host (a reloaded window), and the candidate
// is promoted from the review panel; a back-test of it against the version it replaced opens its report.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { freePort } from '../../scripts/lib/codeServer.mjs';
import { ensureSwarm, PROXY_IMAGE } from '../../scripts/lib/docker.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import type { DeployTarget } from '../../src/deploy/targets/deployTarget';
import { openSwarmTarget } from '../../src/deploy/targets/swarm/swarmTarget';
import { modelImages } from '../support/modelImages';
import { needService } from '../support/services';
import {
  openWorkbench,
  quickInput,
  rowFinder,
  runCommand,
  screenshot,
  showDeploymentsView,
  webviewFrame,
  workbenchUnavailableReason,
  type Workbench,
} from '../support/workbench';

/** The process ids of code-server's extension hosts. */
function extensionHosts(): Set<string> {
  const lines = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n');
  return new Set(
    lines.filter((line) => line.includes('--type=extensionHost')).map((line) => line.trim().split(/\s+/)[0]!),
  );
}

describe('a safe release in VS Code on a real swarm', { timeout: 1_800_000 }, () => {
  const name = `e2e-release-${Date.now().toString(36)}`;
  let unavailable = workbenchUnavailableReason();
  let workbench: Workbench | undefined;
  let target: DeployTarget | undefined;
  let images: { v1: string; v2: string } = { v1: '', v2: '' };
  let port = 0;
  let running = true;
  let traffic: Promise<void> | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; requestId: string }>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', ...headers },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, requestId: String(res.headers['x-request-id'] ?? '') }),
          );
        },
      );
      req.on('error', () => resolve({ status: 0, requestId: '' }));
      req.end(body);
    });

  before(
    async () => {
      if (unavailable) return;
      const swarm = await ensureSwarm();
      if (!swarm.ok) return void (unavailable = swarm.reason);
      const built = await modelImages();
      if (!built.ok) return void (unavailable = built.reason);
      images = built;
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

      const workspace = join(mkdtempSync(join(tmpdir(), 'mlops-e2e-release-')), 'churn');
      cpSync(join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace'), workspace, { recursive: true });
      writeFileSync(
        join(workspace, 'mlops.config.json'),
        JSON.stringify({ review: { [name]: { minReviews: 3, minAcceptance: 0.6 } } }, null, 2),
      );
      // Steady traffic from 500 users, each prediction followed by its real outcome, sent as the
      // user's app sends it: with the deployment's data token.
      const auth = { 'X-Mlops-Token': await target.dataToken(name) };
      const rows = (await import('node:fs'))
        .readFileSync(join(workspace, 'data', 'customers.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(','));
      traffic = (async () => {
        for (let i = 0; running; i++) {
          const [, tenure, charges, , calls, churned] = rows[i % rows.length]!;
          const row = { tenure_months: Number(tenure), monthly_charges: Number(charges), support_calls: Number(calls) };
          const answer = await post('/invocations', JSON.stringify({ dataframe_records: [row] }), {
            'X-User-Id': `user-${i % 500}`,
          });
          if (answer.status === 200)
            await post('/feedback', JSON.stringify({ request_id: answer.requestId, label: Number(churned) }), auth);
          await new Promise((resolve) => setTimeout(resolve, answer.status === 200 ? 40 : 500));
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

  /** What the router on the published port says of itself. */
  const routerHealth = () =>
    new Promise<string>((resolve) => {
      request({ host: '127.0.0.1', port, path: '/router/health' }, (res) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (chunk: string) => (text += chunk))
          .on('end', () => resolve(text));
      })
        .on('error', () => resolve(''))
        .end();
    });

  /** Picks an image by its exact tag: typed first, since the list only renders the rows in view (other tags of the same image may come first). */
  async function pickImage(page: Page, title: RegExp, tag: string): Promise<void> {
    await page.locator('.quick-input-widget', { hasText: title }).waitFor({ timeout: 60_000 });
    await page.locator('.quick-input-widget input').first().fill(tag);
    // The hover of the row under the pointer can cover the row wanted: the pointer leaves the list first.
    await page.mouse.move(1, 1);
    await (await rowFinder(page).pickRow({ label: tag }, 60_000)).click();
  }

  /** Runs a palette command that picks a deployment, and picks ours when it asks. */
  async function onDeployment(page: Page, command: string): Promise<void> {
    await runCommand(page, command);
    const picked = await rowFinder(page)
      .pickRow(name, 10_000)
      .catch(() => undefined);
    await picked?.click();
  }

  async function variantsTable(frame: Frame): Promise<string[][]> {
    return frame
      .locator('section.block', { hasText: 'Variants' })
      .locator('tbody tr')
      .evaluateAll((rows) =>
        rows.map((row) => [...row.querySelectorAll('td')].map((cell) => (cell.textContent ?? '').trim())),
      );
  }

  test('an A/B test with live per-variant charts, then a shadow reviewed by keyboard, gated, and promoted', async (t) => {
    if (!needService(t, !unavailable, `the release end-to-end test cannot run: ${unavailable}`)) return;
    const { page } = workbench!;
    page.on('console', (message) => message.type() === 'error' && t.diagnostic(`console: ${message.text()}`));
    await showDeploymentsView(page);
    await rowFinder(page).row(name, 60_000);
    const ask = quickInput(page);

    // 1. Start the A/B test from the palette: the candidate answers half of the users.
    await onDeployment(page, 'MLOps: Start A/B Test or Shadow');
    await (await rowFinder(page).pickRow('A/B test', 30_000)).click();
    await pickImage(page, /which candidate image/, images.v2);
    await ask.answer('Variant name', 'candidate');
    await ask.answer('Share of the traffic the candidate answers', '50');
    await ask.answer('What keeps a user on one variant', 'header:X-User-Id');
    const frame = await webviewFrame(page, '.verdict', 300_000);
    const split = await target!.splitStatus!(name);
    assert.deepEqual(
      split?.variants.map((v) => [v.name, v.weight]),
      [
        ['production', 50],
        ['candidate', 50],
      ],
    );

    // Live: both variants answer, the charts draw them, the verdict compares their accuracy.
    await frame.locator('.chart-grid canvas').first().waitFor({ timeout: 120_000 });
    await frame.locator('.verdict', { hasText: /candidate's accuracy/ }).waitFor({ timeout: 120_000 });
    await page.waitForTimeout(11_000);
    const table = await variantsTable(frame);
    assert.deepEqual(
      table.map((row) => row[0]),
      ['production', 'candidate'],
    );
    for (const row of table)
      assert.ok(Number(row[3]!.replace(/[^0-9]/g, '')) > 5, `answers of ${row[0]}: ${row.join(' | ')}`);
    const promote = frame.locator('vscode-button', { hasText: /^Promote/ });
    assert.match(
      (await promote.getAttribute('title')) ?? '',
      /gated: review gate of (candidate|production)|No variant leads|Move all traffic/,
    );
    await runCommand(page, 'View: Toggle Primary Side Bar Visibility');
    await page.waitForTimeout(1500);
    await screenshot(page, 'abtest-panel');
    await frame
      .locator('h2', { hasText: 'Live, per variant' })
      .evaluate((heading) => heading.scrollIntoView({ block: 'start' }));
    await screenshot(page, 'abtest-charts');
    await runCommand(page, 'View: Toggle Primary Side Bar Visibility');

    // 2. The candidate shadows production instead: its answers are logged beside production's.
    await onDeployment(page, 'MLOps: Start A/B Test or Shadow');
    await (await rowFinder(page).pickRow('Shadow', 30_000)).click();
    await pickImage(page, /which candidate image/, images.v2);
    await ask.answer('Variant name', 'candidate');
    await ask.answer('Share of requests mirrored', '100');
    // The router-api and the proxy restart with the shadow group: wait until both run with it.
    const deadline = Date.now() + 300_000;
    const shadowing = async () =>
      /"shadow":\s*true/.test(await routerHealth()) &&
      (await target!.splitStatus!(name))?.variants.some((v) => v.shadow) === true;
    while (!(await shadowing()) && Date.now() < deadline) await page.waitForTimeout(2000);
    assert.equal((await target!.splitStatus!(name))?.variants.find((v) => v.name === 'candidate')?.shadow, true);
    await page.waitForTimeout(10_000);

    // 3. Review by keyboard: the gate (3 reviews, 60 %) holds promotion until the third verdict.
    await onDeployment(page, 'MLOps: Review Candidate Answers');
    let review = await webviewFrame(page, '.gate-text', 120_000);
    for (let attempt = 0; attempt < 20 && !(await review.locator('h2', { hasText: /^Request / }).count()); attempt++) {
      await review
        .locator('vscode-button', { hasText: 'Refresh' })
        .click({ timeout: 10_000 })
        .catch(() => undefined);
      await page.waitForTimeout(3000);
      review = await webviewFrame(page, '.gate-text', 60_000);
    }
    await review.locator('h2', { hasText: /^Request / }).waitFor({ timeout: 30_000 });
    const promoteCandidate = review.locator('vscode-button', { hasText: 'Promote candidate' });
    assert.equal(await promoteCandidate.getAttribute('disabled'), '', 'promotion waits for the reviews');
    assert.match(await review.locator('.gate-text').innerText(), /0 of 3 reviews/);
    await runCommand(page, 'View: Toggle Primary Side Bar Visibility');
    await screenshot(page, 'review-panel');
    await review.locator('body').click({ position: { x: 5, y: 5 } });
    for (const key of ['1', '3', '1']) {
      await review.locator('body').press(key);
      await page.waitForTimeout(800);
    }
    await review.locator('.gate-text', { hasText: /3 of 3 reviews/ }).waitFor({ timeout: 30_000 });
    assert.equal(await promoteCandidate.getAttribute('disabled'), null, 'the gate is open');
    await screenshot(page, 'review-gate-open');

    // 4. The decisions survive a new extension host: code-server starts one for the reloaded window.
    const hostsBefore = extensionHosts();
    await page.locator('.tabs-container .tab.active').click();
    await runCommand(page, 'Developer: Reload Window');
    await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
    await page.waitForTimeout(5000);
    await onDeployment(page, 'MLOps: Review Candidate Answers');
    const reopened = await webviewFrame(page, '.gate-text', 120_000);
    await reopened.locator('.gate-text', { hasText: /3 of 3 reviews/ }).waitFor({ timeout: 60_000 });
    assert.ok(
      [...extensionHosts()].some((pid) => !hostsBefore.has(pid)),
      'the panel was read by a new extension host',
    );

    // 5. Promote from the review panel: a modal with the evidence, then revision 2 is stable.
    await reopened.locator('vscode-button', { hasText: 'Promote candidate' }).click();
    const dialog = page.locator('.monaco-dialog-box', { hasText: /Promote candidate/ });
    await dialog.waitFor({ timeout: 60_000 });
    assert.match(await dialog.innerText(), /review: .*3 of 3 reviews/);
    await dialog.locator('.monaco-button', { hasText: 'Promote' }).first().click();
    await page
      .locator('.notification-toast', { hasText: /candidate promoted as revision 2/ })
      .first()
      .waitFor({ timeout: 300_000 });
    const status = await target!.status(name);
    assert.deepEqual([status.revision, status.image], [2, images.v2]);
    assert.equal(await target!.splitStatus!(name), null, 'the split ended');
    assert.ok((await target!.history(name)).find((r) => r.revision === 2)?.stable, 'revision 2 is the stable one');
    await screenshot(page, 'release-promoted');
    await runCommand(page, 'View: Toggle Primary Side Bar Visibility');

    // The reviews and the promotion are in the deployment's history in the Deployments view.
    const finder = rowFinder(page);
    const expand = async (text: string | { label: string }) => {
      const row = await finder.row(text, 60_000);
      if ((await row.getAttribute('aria-expanded')) === 'true') return;
      await row.click();
      if ((await row.getAttribute('aria-expanded')) !== 'true') await page.keyboard.press('ArrowRight');
    };
    await expand(name);
    await expand({ label: 'Release History' });
    await finder.row(/Promoted as revision 2/, 30_000);
    assert.equal(
      (await finder
        .rows()
        .filter({ hasText: /^Review/ })
        .count()) >= 3,
      true,
      'each review is in the history',
    );
    await screenshot(page, 'release-history-tree');

    // 6. Back-test the promoted version against the one it replaced; the report opens.
    await runCommand(page, 'MLOps: Back-test a Candidate Image');
    await pickImage(page, /which candidate image/, images.v2);
    await (await finder.pickRow('customers.csv', 60_000)).click();
    await (await finder.pickRow({ label: 'churned' }, 60_000)).click();
    await pickImage(page, /compare with which baseline/, images.v1);
    const report = await webviewFrame(page, '.tiles', 600_000);
    await report.locator('text=F1').first().waitFor({ timeout: 60_000 });
    await runCommand(page, 'View: Toggle Primary Side Bar Visibility');
    await page.waitForTimeout(1500);
    await screenshot(page, 'backtest-report');
  });
});
