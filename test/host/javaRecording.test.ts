import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { REPO_ROOT } from '../support/repoRoot';
import { activateExtension } from './extensionUnderTest';

const DEMO_SOURCE = path.join(REPO_ROOT, 'test/fixtures/demo/java/demo/Main.java');

interface Recorded {
  result: { steps: number; threads: number; exitCode: number | null; runId: number };
  sessionFile: string;
}

describe('Bathysphere in the extension host: recording Java programs', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bathysphere-host-java-'));
    fs.mkdirSync(path.join(dir, 'src/demo'), { recursive: true });
    fs.copyFileSync(DEMO_SOURCE, path.join(dir, 'src/demo/Main.java'));
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records the main class of the active editor into a session it lists', async () => {
    const api = await activateExtension();
    const document = await vscode.workspace.openTextDocument(path.join(dir, 'src/demo/Main.java'));
    await vscode.window.showTextDocument(document);
    assert.equal(document.languageId, 'java');
    const recorded = await vscode.commands.executeCommand<Recorded>(
      'bathysphere.recordJavaProgram',
    );
    assert.ok(recorded, 'the command returned a recording');
    assert.equal(recorded.result.exitCode, 0);
    assert.equal(recorded.result.threads, 1);
    assert.ok(recorded.result.steps > 20, `${recorded.result.steps} steps`);
    const store = api.sessions.get(recorded.sessionFile);
    assert.ok(store, 'the new session is open in the Sessions view');
    const run = store.run(recorded.result.runId)!;
    assert.equal(run.targetKind, 'jvm');
    assert.equal(run.target, 'demo.Main');
  });

  it('records from a bathysphere-java launch configuration', async () => {
    const api = await activateExtension();
    const classes = path.join(dir, 'src/.bathysphere/classes'); // compiled by the previous test
    assert.ok(
      fs.existsSync(path.join(classes, 'demo/Main.class')),
      'compiled by the previous test',
    );
    const sessionFile = path.join(dir, 'from-launch.bathy');
    const ended = new Promise<void>((resolve) => {
      const listener = vscode.debug.onDidTerminateDebugSession(() => {
        listener.dispose();
        resolve();
      });
    });
    const started = await vscode.debug.startDebugging(undefined, {
      type: 'bathysphere-java',
      request: 'launch',
      name: 'Record demo',
      mainClass: 'demo.Main',
      classPaths: [classes],
      sessionFile,
    });
    assert.equal(started, true);
    await ended;
    const store = api.sessions.get(sessionFile);
    assert.ok(store, 'the session is open');
    const runs = store.runs();
    assert.equal(runs.length, 1);
    assert.equal(runs[0].target, 'demo.Main');
    assert.equal(runs[0].metadata.exitCode, 0, JSON.stringify(runs[0].metadata));
  });
});
