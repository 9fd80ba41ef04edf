/**
 * End-to-end fixture: the packaged .vsix installed into a fresh code-server,
 * the workbench opened in headless Chromium, and helpers that act as a person
 * would (command palette, file dialog, views, webviews).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import {
  installVsix,
  launchChromium,
  REPO_ROOT,
  startCodeServer,
  type RunningCodeServer,
} from '../../scripts/codeServer';

export const VSIX = path.join(REPO_ROOT, 'dist-vsix/bathysphere.vsix');
export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results');

export interface Workbench {
  page: Page;
  workspace: string;
  server: RunningCodeServer;
  close(): Promise<void>;
}

function ensurePackaged(): void {
  if (!fs.existsSync(VSIX))
    execFileSync('npm', ['run', 'package'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

/** Starts code-server with the packaged extension and opens `workspace` in Chromium. */
export async function openWorkbench(
  prepareWorkspace: (dir: string) => void | Promise<void>,
): Promise<Workbench> {
  ensurePackaged();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bathysphere-e2e-'));
  const workspace = path.join(stateDir, 'workspace');
  fs.mkdirSync(workspace);
  await prepareWorkspace(workspace);
  installVsix(stateDir, VSIX);
  const server = await startCodeServer({ stateDir, workspace });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${server.url}?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    // The explorer is up once the workspace folder's name shows.
    await page.locator('.explorer-folders-view, .pane-header').first().waitFor({ timeout: 60_000 });
    const openedBrowser = browser;
    return {
      page,
      workspace,
      server,
      close: async () => {
        await openedBrowser.close();
        await server.stop();
        fs.rmSync(stateDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await browser?.close();
    await server.stop();
    throw error;
  }
}

/**
 * Runs a command from the command palette by its title, as a person types it.
 * Retries when the palette opened before the workbench had registered the
 * command (a cold start under load).
 */
export async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input.input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    await input.waitFor();
    await input.fill(`>${title}`);
    try {
      await row.waitFor({ timeout: 15_000 });
      await input.press('Enter');
      return;
    } catch (error) {
      if (attempt === 3) {
        await screenshot(page, `command-not-found-${title.replace(/\W+/g, '-')}`);
        throw error;
      }
      await page.keyboard.press('Escape');
    }
  }
}

/**
 * Answers the workbench's file dialog (the simple, quick-input one that
 * code-server uses). The dialog fills in its starting folder asynchronously,
 * which can overwrite a path typed too early: wait for its listing, type, and
 * retry until the dialog accepts the path and closes.
 */
export async function answerFileDialog(page: Page, file: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input.input');
  await widget.locator('.quick-input-list .monaco-list-row').first().waitFor();
  for (let attempt = 1; ; attempt++) {
    await input.fill(file);
    await page.waitForTimeout(300); // the dialog validates the typed path as it changes
    if ((await input.inputValue()) !== file) continue;
    await input.press('Enter');
    try {
      await widget.waitFor({ state: 'hidden', timeout: 5_000 });
      return;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/** The content frame of the active webview (two iframes deep in the workbench). */
export function activeWebview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** A screenshot of the workbench when a test failed, named after the test, for diagnosis. */
export async function screenshotOnFailure(
  context: Mocha.Context,
  workbench: Workbench | undefined,
): Promise<void> {
  const test = context.currentTest;
  if (!workbench || test?.state !== 'failed') return;
  const file = await screenshot(
    workbench.page,
    `failed-${test.title.replace(/\W+/g, '-').slice(0, 80)}`,
  );
  console.log(`    screenshot of the failure: ${file}`);
}
