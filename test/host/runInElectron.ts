/**
 * Runs the in-extension-host suite in desktop VS Code through
 * @vscode/test-electron, for machines that can download VS Code or have it in
 * .vscode-test/ (or name an executable with BATHYSPHERE_VSCODE_EXECUTABLE).
 * On closed machines use runInCodeServer.ts, which runs the same suite.
 *   node --require tsx/cjs test/host/runInElectron.ts
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { HOST_SUITE, REPO_ROOT } from '../../scripts/codeServer';

async function main(): Promise<void> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'bathysphere-electron-'));
  const report = path.join(workspace, 'report.txt');
  try {
    await runTests({
      version: '1.100.3',
      vscodeExecutablePath: process.env.BATHYSPHERE_VSCODE_EXECUTABLE,
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: HOST_SUITE,
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
      extensionTestsEnv: { BATHYSPHERE_TEST_REPORT: report },
    });
  } finally {
    if (fs.existsSync(report)) process.stdout.write(fs.readFileSync(report, 'utf8'));
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(`in-host suite (desktop VS Code) failed: ${error.message}`);
  process.exit(1);
});
