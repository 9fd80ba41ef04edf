import * as assert from 'node:assert/strict';
import { startNode, stopAllNodes, type TestNode } from '../unit/erlang/helpers/erlang-node';
import {
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
});
