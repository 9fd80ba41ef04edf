import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SAMPLE_GRAPH, writeSampleSession } from '../support/sampleSession';
import { activateExtension, waitFor } from './extensionUnderTest';

describe('Bathysphere in the extension host: graph panel', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bathysphere-host-graph-'));
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('draws the stored graph in the webview after the ready handshake', async () => {
    const api = await activateExtension();
    const file = path.join(dir, 'graph.bathy');
    await writeSampleSession(file);
    await vscode.commands.executeCommand('bathysphere.openSession', vscode.Uri.file(file));
    const panel = await waitFor('the graph panel to render', () =>
      api.graphPanels().find((status) => status.source.sessionFile === file && status.rendered),
    );
    assert.equal(panel.ready, true);
    assert.equal(panel.rendered!.nodeCount, SAMPLE_GRAPH.nodes.length);
    assert.equal(panel.rendered!.edgeCount, SAMPLE_GRAPH.edges.length);
    assert.ok(['webgl', 'canvas'].includes(panel.rendered!.renderer));
  });

  it('resends a full snapshot when the panel becomes visible again', async () => {
    const api = await activateExtension();
    const file = path.join(dir, 'graph.bathy');
    const store = api.sessions.get(file)!;
    const runId = store.runs()[0].id;
    // Change the data while the panel is hidden behind another editor.
    const doc = await vscode.workspace.openTextDocument({ content: 'hide the graph' });
    await vscode.window.showTextDocument(doc, vscode.ViewColumn.Active);
    store.putGraph(runId, [{ id: 'late', label: 'added while hidden', kind: 'process' }]);
    await vscode.commands.executeCommand('bathysphere.showGraph', {
      kind: 'run',
      file,
      run: store.run(runId),
    });
    const panel = await waitFor('the panel to redraw with the new node', () =>
      api
        .graphPanels()
        .find(
          (status) =>
            status.source.sessionFile === file &&
            status.rendered?.nodeCount === SAMPLE_GRAPH.nodes.length + 1,
        ),
    );
    assert.equal(panel.rendered!.edgeCount, SAMPLE_GRAPH.edges.length);
  });
});
