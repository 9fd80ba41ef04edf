import * as assert from 'node:assert/strict';
import { ErlangConnection } from '../../src/extension/erlang';
import { startNode, stopAllNodes, type TestNode } from '../unit/erlang/helpers/erlang-node';
import {
  activeWebview,
  openWorkbench,
  screenshotOnFailure,
  runCommand,
  screenshot,
  type Workbench,
} from './workbench';

describe('end to end: connecting to an Erlang node from the command palette', () => {
  let workbench: Workbench;
  let node: TestNode;

  before(async () => {
    node = await startNode();
    // The test application: a supervision tree with a linked island (test/unit/erlang/fixtures).
    const probe = await ErlangConnection.connect({ node: node.node, cookie: node.cookie });
    try {
      await probe.rpc('bathytest_tree', 'start', []);
    } finally {
      probe.close();
    }
    workbench = await openWorkbench(() => undefined);
  });
  afterEach(async function () {
    await screenshotOnFailure(this, workbench);
  });
  after(async () => {
    await workbench?.close();
    await stopAllNodes();
  });

  it('picks the node, asks for its cookie, connects and shows the node in the status bar', async () => {
    const { page } = workbench;
    await runCommand(page, 'Bathysphere: Connect to Erlang Node...');
    const input = page.locator('.quick-input-widget input.input');
    // The picker lists EPMD's nodes; typing the full name works for any host.
    await page.locator('.quick-input-list .monaco-list-row', { hasText: node.node }).waitFor();
    await input.fill(node.node);
    await input.press('Enter');
    // The default cookie is not this node's: the extension asks, as a password field.
    const cookieBox = page.locator('.quick-input-widget input[type="password"]');
    await cookieBox.waitFor();
    await cookieBox.fill(node.cookie);
    await cookieBox.press('Enter');
    const item = page.locator('.statusbar-item', { hasText: node.node });
    await item.waitFor({ timeout: 30_000 });
    assert.match(
      (await item.getAttribute('aria-label')) ?? (await item.textContent()) ?? '',
      new RegExp(node.name),
    );
    await screenshot(page, 'erlang-connected');
  });

  it('explores the supervisor and the process map shows its island', async () => {
    const { page } = workbench;
    await runCommand(page, 'Bathysphere: Explore Process...');
    const input = page.locator('.quick-input-widget input.input');
    const row = page
      .locator('.quick-input-list .monaco-list-row', { hasText: 'bathytest_sup' })
      .first();
    await input.fill('bathytest_sup');
    await row.waitFor();
    await input.press('Enter');
    const root = activeWebview(page).locator('#graph-root[data-state="rendered"]');
    await root.waitFor({ timeout: 60_000 });
    // The supervisor, its two workers and the process alpha links to.
    for (
      let waited = 0;
      Number(await root.getAttribute('data-node-count')) < 4 && waited < 20_000;
      waited += 250
    ) {
      await page.waitForTimeout(250);
    }
    const nodes = Number(await root.getAttribute('data-node-count'));
    assert.ok(nodes >= 4, `the map shows ${nodes} processes`);
    assert.ok(Number(await root.getAttribute('data-edge-count')) >= 3);
    await page.waitForTimeout(500);
    await screenshot(page, 'process-map');
  });

  it('shows the process lifetimes on a timeline', async () => {
    const { page } = workbench;
    await runCommand(page, 'Bathysphere: Show Process Timeline');
    const root = activeWebview(page).locator('#graph-root[data-state="rendered"]');
    await page.locator('.tab', { hasText: 'Timeline:' }).waitFor();
    await root.waitFor({ timeout: 60_000 });
    const nodes = Number(await root.getAttribute('data-node-count'));
    assert.ok(nodes >= 8, `${nodes} lifetime marks`);
    assert.equal(nodes, 2 * Number(await root.getAttribute('data-edge-count')));
    await page.waitForTimeout(500);
    await screenshot(page, 'process-timeline');
  });
});
