import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SessionStore } from '../../src/extension/store/sessionStore';
import { JAVA_DEMO_MAIN, writeJavaDemo } from '../support/javaDemo';
import {
  openWorkbench,
  screenshotOnFailure,
  runCommand,
  screenshot,
  type Workbench,
} from './workbench';

describe('end to end: recording a Java program from its launch configuration', () => {
  let workbench: Workbench;

  before(async () => {
    workbench = await openWorkbench(writeJavaDemo);
  });
  afterEach(async function () {
    await screenshotOnFailure(this, workbench);
  });
  after(async () => {
    await workbench?.close();
  });

  it('starts the bathysphere-java configuration and lists the recorded run', async () => {
    const { page, workspace } = workbench;
    await page.locator('.activitybar .action-item a[aria-label^="Bathysphere"]').click();
    await runCommand(page, 'Debug: Select and Start Debugging');
    const configuration = page.locator('.quick-input-list .monaco-list-row', {
      hasText: 'Record the demo program',
    });
    await configuration.click();
    const run = page.locator('.part.sidebar [role="treeitem"]', { hasText: JAVA_DEMO_MAIN });
    await run.waitFor({ timeout: 90_000 });
    await page
      .locator('.part.sidebar [role="treeitem"]', { hasText: 'demo-recording.bathy' })
      .waitFor();
    await screenshot(page, 'java-recorded');

    const sessionFile = path.join(workspace, 'demo-recording.bathy');
    assert.ok(fs.existsSync(sessionFile));
    const store = await SessionStore.open(sessionFile, { flushIntervalMs: 0 });
    try {
      const runs = store.runs();
      assert.equal(runs.length, 1);
      assert.equal(runs[0].targetKind, 'jvm');
      assert.equal(runs[0].metadata.exitCode, 0);
    } finally {
      await store.close();
    }
  });

  it('opens the recorded run in the editor and travels through it with the keyboard', async () => {
    const { page } = workbench;
    await page.locator('.part.sidebar [role="treeitem"]', { hasText: JAVA_DEMO_MAIN }).click();
    const status = page.locator('.statusbar-item', { hasText: /Step \d+\/\d+ · main/ });
    await status.waitFor();
    assert.match((await status.textContent()) ?? '', /Step 1\/\d+ · main/);
    await page.locator('.monaco-editor .view-lines').first().click(); // keybindings need the editor focused
    const currentStep = async () =>
      Number(/Step (\d+)\//.exec((await status.textContent()) ?? '')![1]);
    /** Presses a key and waits until the status bar shows another step. */
    const press = async (key: string): Promise<number> => {
      const before = await currentStep();
      for (const part of key.split(' ')) await page.keyboard.press(part); // chords: 'Alt+F12 V'
      for (let waited = 0; waited < 10_000; waited += 50) {
        const now = await currentStep();
        if (now !== before) return now;
        await page.waitForTimeout(50);
      }
      throw new Error(`${key} did not move from step ${before}`);
    };
    const afterOver = await press('Alt+F10'); // over the constructor call
    assert.ok(afterOver > 2, `step over skipped the constructor (now at ${afterOver})`);
    assert.equal(await press('Alt+F11'), afterOver + 1); // into average(): int count = ...
    assert.equal(await press('Alt+F11'), afterOver + 2); // no call there: the next line
    assert.equal(await press('Alt+F11'), afterOver + 3); // into sum(): total = 0
    const inSum = afterOver + 3;
    // The current line shows what the step wrote (decorations are CSS ::after content).
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.view-lines span')].some((span) =>
        /wrote .*total = 0/.test(getComputedStyle(span, '::after').content),
      ),
    );
    assert.ok((await press('Alt+F10')) > inSum); // to the loop condition
    const inLoop = await press('Alt+F10'); // into the loop body: reads the array and total
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.view-lines span')].some((span) =>
        /read .*total = 0/.test(getComputedStyle(span, '::after').content),
      ),
    );
    await screenshot(page, 'trace-navigation');
    assert.ok(inLoop > inSum);
    assert.ok((await press('Alt+Shift+F11')) < inSum); // out to the caller

    // Feedback, Microbat-style: the printed report is wrong (line 44).
    await page.keyboard.press('Control+G');
    await page.locator('.quick-input-widget input.input').fill(':44');
    await page.keyboard.press('Enter');
    const atPrint = await press('Alt+F7'); // next execution of line 44
    /** Says a value read at the current step is wrong (Alt+F12 V), picking which one. */
    const wrongValue = async (variable: string): Promise<number> => {
      const before = await currentStep();
      await page.keyboard.press('Alt+F12');
      await page.keyboard.press('V');
      await page
        .locator('.quick-input-list .monaco-list-row', { hasText: `${variable} =` })
        .first()
        .click();
      for (let waited = 0; (await currentStep()) === before && waited < 10_000; waited += 100) {
        await page.waitForTimeout(100);
      }
      return currentStep();
    };
    const suggested = await wrongValue('report');
    assert.ok(suggested < atPrint, `suggested step ${suggested} comes before the print`);
    await page
      .locator('.notifications-toasts', { hasText: /Inspect step #\d+/ })
      .first()
      .waitFor();
    const next = await wrongValue('average'); // line 43 reads average and highest
    assert.ok(next < suggested, `moved back to where average was computed (step ${next})`);
    await screenshot(page, 'feedback');
  });
});
