import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { ErlangConnection, isAtom, type Term } from '../../src/extension/erlang';
import { AGENT_MODULES } from '../../src/extension/erlang/agent';
import { startNode, stopAllNodes, type TestNode } from '../unit/erlang/helpers/erlang-node';
import type { ProcessTreeNode } from '../../src/extension/vscode/processTree';
import { activateExtension, waitFor } from './extensionUnderTest';

function loadedAgentModules(modules: Term): string[] {
  const names: string[] = [];
  for (const entry of Array.isArray(modules) ? modules : []) {
    const name = (entry as { elements?: Term[] }).elements?.[0];
    if (name && isAtom(name) && name.name.startsWith('bathysphere_')) names.push(name.name);
  }
  return names;
}

describe('Bathysphere in the extension host: Erlang nodes', () => {
  let node: TestNode;
  before(async () => {
    node = await startNode();
  });
  after(stopAllNodes);

  it('connects as a hidden node, injects the agent and shows the node in the status bar', async () => {
    const api = await activateExtension();
    await vscode.commands.executeCommand('bathysphere.connectErlang', {
      node: node.node,
      cookie: node.cookie,
    });
    const status = api.erlangNode();
    assert.equal(status?.state, 'connected');
    assert.equal(status?.node, node.node);
    assert.ok(['beam', 'source', 'already-loaded'].includes(status!.agentLoadedBy!));

    const probe = await ErlangConnection.connect({ node: node.node, cookie: node.cookie });
    try {
      assert.deepEqual(
        loadedAgentModules(await probe.rpc('code', 'all_loaded', [])).sort(),
        [...AGENT_MODULES].sort(),
      );
    } finally {
      probe.close();
    }
  });

  it('leaves nothing behind when asked to on disconnect', async () => {
    const api = await activateExtension();
    await vscode.commands.executeCommand('bathysphere.disconnectErlang', { removeAgent: true });
    assert.equal(api.erlangNode(), undefined);
    const probe = await ErlangConnection.connect({ node: node.node, cookie: node.cookie });
    try {
      assert.deepEqual(loadedAgentModules(await probe.rpc('code', 'all_loaded', [])), []);
    } finally {
      probe.close();
    }
  });

  it('notices a node that dies mid-session', async () => {
    const api = await activateExtension();
    const doomed = await startNode();
    await vscode.commands.executeCommand('bathysphere.connectErlang', {
      node: doomed.node,
      cookie: doomed.cookie,
    });
    assert.equal(api.erlangNode()?.state, 'connected');
    await doomed.kill();
    const status = await waitFor(
      'the node to be reported down',
      () => api.erlangNode()?.state === 'down' && api.erlangNode(),
    );
    assert.equal(status.node, doomed.node);
  });

  it('reports a wrong cookie without connecting', async () => {
    const api = await activateExtension();
    const outcome = await vscode.commands.executeCommand<{ connected: boolean; error?: string }>(
      'bathysphere.connectErlang',
      { node: node.node, cookie: 'wrong-cookie' },
    );
    assert.equal(outcome.connected, false);
    assert.match(outcome.error ?? '', /cookie/i);
    assert.notEqual(api.erlangNode()?.state, 'connected');
  });
});

describe('Bathysphere in the extension host: the process map', () => {
  let node: TestNode;
  before(async () => {
    node = await startNode();
    const probe = await ErlangConnection.connect({ node: node.node, cookie: node.cookie });
    try {
      await probe.rpc('bathytest_tree', 'start', []);
    } finally {
      probe.close();
    }
  });
  after(async () => {
    await vscode.commands.executeCommand('bathysphere.disconnectErlang', { removeAgent: true });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await stopAllNodes();
  });

  it('explores a process and draws its island, grouped under its supervisor', async () => {
    const api = await activateExtension();
    await vscode.commands.executeCommand('bathysphere.connectErlang', {
      node: node.node,
      cookie: node.cookie,
    });
    const explored = await vscode.commands.executeCommand<{
      sessionFile: string;
      runId: number;
      pid: string;
    }>('bathysphere.exploreProcess', 'bathysphere_alpha_missing');
    assert.equal(explored, undefined, 'a process that does not exist is reported, not explored');
    const alpha = await vscode.commands.executeCommand<{
      sessionFile: string;
      runId: number;
      pid: string;
    }>('bathysphere.exploreProcess', 'bathytest_alpha');
    assert.match(alpha.pid, /^<\d+\.\d+\.\d+>$/);
    // alpha, the beta it links to, and the supervisor where the island stops.
    const panel = await waitFor('the process map to draw the island', () =>
      api
        .graphPanels()
        .find(
          (status) => status.source.runId === alpha.runId && (status.rendered?.nodeCount ?? 0) >= 3,
        ),
    );
    assert.equal(panel.source.sessionFile, alpha.sessionFile);
    assert.ok(panel.rendered!.edgeCount >= 2, `${panel.rendered!.edgeCount} edges`);
    const run = api.sessions.get(alpha.sessionFile)!.run(alpha.runId)!;
    assert.equal(run.targetKind, 'erlang');
    assert.equal(run.target, node.node);
  });

  it('lists the processes by application and supervisor, and acts on one', async () => {
    const api = await activateExtension();
    const all = (): ProcessTreeNode[] => {
      const found: ProcessTreeNode[] = [];
      const visit = (parent?: ProcessTreeNode) =>
        api.processTree.getChildren(parent).forEach((child) => {
          found.push(child);
          visit(child);
        });
      visit();
      return found;
    };
    const alpha = await waitFor('alpha in the Processes view', () =>
      all().find((n) => n.kind === 'process' && n.node.data.registeredName === 'bathytest_alpha'),
    );
    assert.ok(all().some((n) => n.kind === 'application'));
    const details = await vscode.commands.executeCommand<{
      registeredName?: string;
      messageQueueLength: number;
    }>('bathysphere.process.details', alpha);
    assert.equal(details.registeredName, 'bathytest_alpha');
    assert.equal(typeof details.messageQueueLength, 'number');
    // Kill (confirmed) a process of the island: it shows as dead, with the reason.
    const beta = all().find((n) => n.kind === 'process' && n.node.label.includes('beta'));
    assert.ok(beta && beta.kind === 'process', 'beta is on the map');
    await vscode.commands.executeCommand('bathysphere.process.kill', beta, true);
    await waitFor('beta to be shown dead', () =>
      all().find(
        (n) =>
          n.kind === 'process' &&
          n.node.data.pid === beta.node.data.pid &&
          n.node.data.state === 'dead',
      ),
    );
  });

  it('shows process lifetimes on a timeline, with exits and their reasons', async () => {
    const api = await activateExtension();
    await vscode.commands.executeCommand('bathysphere.showTimeline');
    const timeline = await waitFor('the timeline to draw', () =>
      api
        .graphPanels()
        .find((p) => p.source.view === 'timeline' && (p.rendered?.nodeCount ?? 0) >= 6),
    );
    // Two marks per process (first seen, exit or last event) joined by a lifetime bar.
    assert.equal(timeline.rendered!.nodeCount, timeline.rendered!.edgeCount * 2);
  });
});
