// Drives a real VS Code (code-server) in Debian's Chromium with playwright-core.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Frame, type Locator, type Page } from 'playwright-core';
import { codeServerReady, ensureCodeServer, startCodeServer } from '../../scripts/lib/codeServer.mjs';
import { PROXY_IMAGE } from '../../scripts/lib/docker.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';

export const screenshotDir = join(repoRoot, 'test-results', 'screenshots');

// Without the background-networking flags Chromium keeps reaching for hosts this network refuses.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface Workbench {
  page: Page;
  close(): Promise<void>;
}

/** Installs code-server if it can; returns why it cannot run otherwise. */
export function workbenchUnavailableReason(): string | undefined {
  if (codeServerReady()) return undefined;
  const result = ensureCodeServer();
  return result.ok ? undefined : result.reason;
}

export async function openWorkbench(workspace: string, env: NodeJS.ProcessEnv = {}): Promise<Workbench> {
  mkdirSync(screenshotDir, { recursive: true });
  // Deployments in the workbench run the HAProxy image the tests build (modelImages() makes it).
  const server = await startCodeServer({
    workspace,
    env,
    logFile: join(repoRoot, 'test-results', 'code-server.log'),
    settings: { 'mlops.proxyImage': PROXY_IMAGE },
  });
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(server.url);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const opened = browser;
    return {
      page,
      close: async () => {
        await opened.close();
        await server.stop();
      },
    };
  } catch (error) {
    await browser?.close();
    await server.stop();
    throw error;
  }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const file = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Opens the MLOps container from the activity bar. */
export async function openMlopsContainer(page: Page): Promise<void> {
  const item = page
    .locator('.activitybar .action-item a[aria-label^="MLOps"], .activitybar .action-label[aria-label^="MLOps"]')
    .first();
  await item.waitFor({ timeout: 30_000 });
  await item.click();
  await page.locator('.pane-header[aria-label^="Datasets"]').first().waitFor({ timeout: 30_000 });
}

/** The command palette's input, once it shows. F1 can be lost (a dialog or a quick pick closing as
 * it is pressed): then Escape closes what is open and F1 is pressed again. */
async function openPalette(page: Page): Promise<Locator> {
  const input = page.locator('.quick-input-widget input');
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      return input;
    } catch (error) {
      if (attempt === 3)
        throw new Error(`the command palette did not open; ${await workbenchState(page)}`, { cause: error });
      console.log(`F1 did not open the command palette; ${await workbenchState(page)}`);
      await page.keyboard.press('Escape');
    }
  }
}

/** Opens the command palette with a query and returns the labels it lists. */
export async function paletteEntries(page: Page, query: string): Promise<string[]> {
  const input = await openPalette(page);
  await input.fill(`>${query}`);
  await page.waitForTimeout(500);
  const rows = page.locator('.quick-input-list .monaco-list-row');
  await rows.first().waitFor({ timeout: 10_000 });
  return rows.evaluateAll((nodes) =>
    nodes.map((node) => (node.getAttribute('aria-label') ?? node.textContent ?? '').trim()),
  );
}

export async function runCommand(page: Page, title: string): Promise<void> {
  const input = await openPalette(page);
  await input.fill(`>${title}`);
  // The list filters as it is typed into; waiting for the row with the title (not just any first
  // row) keeps a slow machine from running whatever the unfiltered list showed first.
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: 10_000 });
  await row.click();
}

/** Finds the frame of a webview panel by a selector that only its content has. */
export async function webviewFrame(page: Page, selector: string, timeoutMs = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (
        await frame
          .locator(selector)
          .count()
          .catch(() => 0)
      )
        return frame;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no webview frame shows ${selector}; ${await workbenchState(page)}`);
}

/** What the workbench shows, for messages of failed waits: the editor tabs and notifications. */
async function workbenchState(page: Page): Promise<string> {
  const tabs = await page
    .locator('.tabs-container .tab')
    .allInnerTexts()
    .catch(() => []);
  const notes = await page
    .locator('.notification-toast, .notifications-list-container .monaco-list-row')
    .allInnerTexts()
    .catch(() => []);
  await screenshot(page, 'failed-wait').catch(() => undefined);
  return `tabs: [${tabs.join(' | ')}], notifications: [${notes.join(' | ').replace(/\s+/g, ' ')}]`;
}

/** Rows of the MLOps views and of the quick pick, found by text or by exact label. */
export function rowFinder(page: Page) {
  const rows = () => page.locator('[id="workbench.view.extension.mlops"] .monaco-list-row');
  const pickRows = () => page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  /** Rows whose label is exactly `label` (the description follows the label with no space in the text). */
  const labelled = (list: () => Locator, label: string) =>
    list().filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${label}\\s*$`) }) });
  /** The first row with `text` (or the exact label), once it shows; a timeout names the rows that did show. */
  const shown = async (
    list: () => Locator,
    text: string | RegExp | { label: string },
    timeout = 30_000,
  ): Promise<Locator> => {
    const found = (
      typeof text === 'object' && 'label' in text ? labelled(list, text.label) : list().filter({ hasText: text })
    ).first();
    try {
      await found.waitFor({ timeout });
    } catch (error) {
      await screenshot(page, 'failed-wait').catch(() => undefined);
      const texts = await list()
        .allInnerTexts()
        .catch(() => []);
      throw new Error(
        `no row with ${JSON.stringify(text) ?? text} in [${texts.map((t) => t.replace(/\s+/g, ' ')).join(' | ')}]: ${(error as Error).message.split('\n')[0]}`,
      );
    }
    return found;
  };
  return {
    rows,
    pickRows,
    labelled,
    shown,
    row: (text: string | RegExp | { label: string }, timeout?: number) => shown(rows, text, timeout),
    pickRow: (text: string | RegExp | { label: string }, timeout?: number) => shown(pickRows, text, timeout),
  };
}

/** Opens the MLOps container with only the Deployments view expanded, in a side bar wide enough for its descriptions. */
export async function showDeploymentsView(page: Page): Promise<void> {
  await openMlopsContainer(page);
  for (const [view, expanded] of [
    ['Datasets', 'false'],
    ['Experiments', 'false'],
    ['Deployments', 'true'],
  ] as const) {
    const header = page.locator(`.pane-header[aria-label^="${view}"]`).first();
    for (let attempt = 0; attempt < 3 && (await header.getAttribute('aria-expanded')) !== expanded; attempt++) {
      await header.click();
      await page.waitForTimeout(300);
    }
  }
  const sidebar = await page.locator('.part.sidebar').boundingBox();
  if (sidebar) {
    await page.mouse.move(sidebar.x + sidebar.width + 1, sidebar.y + 300);
    await page.mouse.down();
    await page.mouse.move(sidebar.x + 820, sidebar.y + 300, { steps: 10 });
    await page.mouse.up();
  }
}

/** The quick input: waits for the box that says `prompt`, types `value` (when given) and accepts it. */
export function quickInput(page: Page) {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input').first();
  const answer = async (prompt: RegExp | string, value?: string) => {
    try {
      await widget.filter({ hasText: prompt }).waitFor({ timeout: 30_000 });
    } catch (error) {
      throw new Error(`no input box says ${String(prompt)}; ${await workbenchState(page)}`, { cause: error });
    }
    if (value !== undefined) await input.fill(value);
    await input.press('Enter');
  };
  return { widget, input, answer };
}
