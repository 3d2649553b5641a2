// `npm run demo` as a user runs it: it builds, creates the sample workspace, starts VS Code and
// prints a URL where the MLOps views show the workspace's data and the notebook opens.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { freePort } from '../../scripts/lib/codeServer.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { needService } from '../support/services';
import { CHROMIUM_ARGS, openMlopsContainer, screenshot, workbenchUnavailableReason } from '../support/workbench';

let demo: ChildProcess | undefined;
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  demo?.kill('SIGTERM');
});

test('npm run demo opens the sample workspace in VS Code and prints its URL', { timeout: 240_000 }, async (t) => {
  const unavailable = workbenchUnavailableReason();
  if (!needService(t, !unavailable, `code-server cannot run: ${unavailable}`)) return;
  const workspace = join(mkdtempSync(join(tmpdir(), 'mlops-demo-')), 'workspace');
  const port = await freePort();
  demo = spawn(
    process.execPath,
    [join(repoRoot, 'scripts', 'demo.mjs'), '--workspace', workspace, '--port', String(port)],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  demo.stderr?.on('data', (chunk) => (output += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed:\n${output}`)), 120_000);
    demo!.stdout?.on('data', (chunk) => {
      output += chunk;
      const match = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    demo!.once('exit', (code) => reject(new Error(`demo exited with ${code}:\n${output}`)));
  });
  assert.equal(url, `http://127.0.0.1:${port}/`);
  for (const file of ['notebooks/churn.ipynb', 'data/customers.csv', '.git'])
    assert.ok(existsSync(join(workspace, file)), file);

  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await openMlopsContainer(page);
  const rows = page.locator('[id="workbench.view.extension.mlops"] .monaco-list-row');
  await rows.filter({ hasText: 'customers.csv' }).first().waitFor({ timeout: 30_000 });
  assert.ok(await rows.filter({ hasText: 'support_tickets.jsonl' }).count());

  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill('churn.ipynb');
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor();
  await page.keyboard.press('Enter');
  // Notebook cells are Monaco editors; wait for the code of the model cell to be rendered.
  await page
    .locator('.notebookOverlay .view-line', { hasText: 'RandomForestClassifier(' })
    .first()
    .waitFor({ timeout: 30_000 });
  await screenshot(page, 'demo');
});
