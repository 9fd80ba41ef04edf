/**
 * Runs the in-extension-host suite inside a real VS Code workbench: code-server
 * serves it, headless Chromium opens it with the development extension and
 * the tests module in the URL's `payload` (as VS Code runs its own browser
 * integration tests), and the workbench reports the outcome by calling
 * window.codeAutomationExit(code).
 *   node --require tsx/cjs test/host/runInCodeServer.ts
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  developmentUrl,
  HOST_SUITE,
  launchChromium,
  startCodeServer,
} from '../../scripts/codeServer';

const TIMEOUT_MS = 5 * 60_000;

async function main(): Promise<number> {
  if (!fs.existsSync(HOST_SUITE))
    throw new Error(`${HOST_SUITE} is missing: run npm run build first`);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bathysphere-host-run-'));
  const workspace = path.join(stateDir, 'workspace');
  fs.mkdirSync(workspace);
  const report = path.join(stateDir, 'report.txt');
  const server = await startCodeServer({
    stateDir,
    workspace,
    env: { BATHYSPHERE_TEST_REPORT: report },
  });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const exitCode = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    await page.goto(developmentUrl(server, workspace, HOST_SUITE));
    const code = await Promise.race([
      exitCode,
      new Promise<number>((_, reject) =>
        setTimeout(
          () => reject(new Error(`the in-host suite did not finish within ${TIMEOUT_MS / 1000} s`)),
          TIMEOUT_MS,
        ),
      ),
    ]);
    return code;
  } finally {
    if (fs.existsSync(report)) process.stdout.write(fs.readFileSync(report, 'utf8'));
    else
      process.stdout.write(
        `no report was written; server log: ${path.join(stateDir, 'code-server.log')}\n`,
      );
    await browser.close();
    await server.stop();
  }
}

main().then(
  (code) => {
    console.log(code === 0 ? 'in-host suite passed' : `in-host suite failed (exit ${code})`);
    process.exit(code);
  },
  (error: Error) => {
    console.error(`in-host suite could not run: ${error.message}`);
    process.exit(1);
  },
);
