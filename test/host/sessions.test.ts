import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SessionStore } from '../../src/extension/store/sessionStore';
import { writeSampleSession } from '../support/sampleSession';
import { activateExtension, EXTENSION_ID } from './extensionUnderTest';

describe('Bathysphere in the extension host: sessions', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bathysphere-host-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('contributes its commands, view container and settings', async () => {
    await activateExtension();
    const commands = await vscode.commands.getCommands(true);
    for (const id of [
      'bathysphere.openSession',
      'bathysphere.showGraph',
      'bathysphere.closeSession',
    ]) {
      assert.ok(commands.includes(id), `${id} registered`);
    }
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON;
    assert.equal(manifest.contributes.viewsContainers.activitybar[0].title, 'Bathysphere');
    const flush = vscode.workspace
      .getConfiguration('bathysphere')
      .get<number>('session.flushIntervalSeconds');
    assert.equal(flush, 2);
  });

  it('opens a session file through the command and lists it', async () => {
    const api = await activateExtension();
    const file = path.join(dir, 'open.bathy');
    await writeSampleSession(file);
    await vscode.commands.executeCommand('bathysphere.openSession', vscode.Uri.file(file));
    const store = api.sessions.get(file);
    assert.ok(store, 'session is open');
    assert.equal(store.runs().length, 1);
    await vscode.commands.executeCommand('bathysphere.closeSession', { kind: 'session', file });
    assert.equal(api.sessions.get(file), undefined);
  });

  it('writes changes made in the extension host to disk on close', async () => {
    const api = await activateExtension();
    const file = path.join(dir, 'written.bathy');
    await writeSampleSession(file);
    const store = await api.sessions.open(file);
    store.addRun({ targetKind: 'graph', target: 'added in the host' });
    await api.sessions.close(file);
    const reread = await SessionStore.open(file, { flushIntervalMs: 0 });
    assert.deepEqual(
      reread.runs().map((run) => run.target),
      ['sample graph', 'added in the host'],
    );
    await reread.close();
  });

  it('reports an unusable file as an error, and opens nothing', async () => {
    const api = await activateExtension();
    const file = path.join(dir, 'junk.bathy');
    fs.writeFileSync(file, 'junk'.repeat(100));
    await vscode.commands.executeCommand('bathysphere.openSession', vscode.Uri.file(file));
    assert.equal(api.sessions.get(file), undefined);
  });
});
