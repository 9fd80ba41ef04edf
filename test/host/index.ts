/**
 * The in-extension-host suite: mocha running inside VS Code's extension host
 * with the real `vscode` API. Loaded by VS Code through `extensionTestsPath`
 * (code-server's workbench here, desktop VS Code through @vscode/test-electron
 * elsewhere); VS Code awaits run() and reports pass or fail to the launcher.
 *
 * Output goes to the file named by BATHYSPHERE_TEST_REPORT (the launcher
 * prints it), because the extension host's stdout is not the launcher's.
 */
import * as fs from 'node:fs';
import { format } from 'node:util';
import Mocha from 'mocha';
import { runCrashWriter } from './crashWriter';
import { runNavigationBench } from './navigationBench';

export function run(): Promise<void> {
  const reportFile = process.env.BATHYSPHERE_TEST_REPORT;
  const crashSession = process.env.BATHYSPHERE_CRASH_SESSION;
  if (reportFile && crashSession) return runCrashWriter(reportFile, crashSession);
  const benchSession = process.env.BATHYSPHERE_NAV_BENCH;
  if (reportFile && benchSession) {
    const samples = Number(process.env.BATHYSPHERE_NAV_BENCH_SAMPLES ?? '50');
    return runNavigationBench(reportFile, benchSession, samples);
  }
  if (reportFile) {
    fs.writeFileSync(reportFile, '');
    (Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void }).consoleLog = (
      ...args: unknown[]
    ) => fs.appendFileSync(reportFile, format(...args) + '\n');
  }
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  // Define describe/it on the global object, then load the suites, which are
  // bundled into this file and register themselves when required.
  mocha.suite.emit('pre-require', globalThis, 'host-suite', mocha);
  /* eslint-disable @typescript-eslint/no-require-imports -- suites must load after pre-require */
  require('./sessions.test');
  require('./graphPanel.test');
  require('./erlang.test');
  require('./javaRecording.test');
  require('./traceNavigation.test');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return new Promise((resolve, reject) => {
    mocha.run((failures) => {
      if (reportFile) fs.appendFileSync(reportFile, `\n${failures} failing test(s)\n`);
      if (failures > 0) reject(new Error(`${failures} in-host test(s) failed`));
      else resolve();
    });
  });
}
