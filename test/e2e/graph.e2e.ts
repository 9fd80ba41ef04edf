import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SAMPLE_GRAPH, writeSampleSession } from '../support/sampleSession';
import {
  screenshotOnFailure,
  activeWebview,
  answerFileDialog,
  openWorkbench,
  runCommand,
  screenshot,
  type Workbench,
} from './workbench';

describe('end to end: a session file opened from the command palette', function () {
  let workbench: Workbench;

  before(async () => {
    workbench = await openWorkbench((dir) => writeSampleSession(path.join(dir, 'sample.bathy')));
  });
  afterEach(async function () {
    await screenshotOnFailure(this, workbench);
  });
  after(async () => {
    await workbench?.close();
  });

  it('shows the Bathysphere view in the activity bar', async () => {
    const { page } = workbench;
    await page.locator('.activitybar .action-item a[aria-label^="Bathysphere"]').click();
    const sidebar = page.locator('.part.sidebar');
    await sidebar.locator('.composite.title', { hasText: /Bathysphere/i }).waitFor();
    await sidebar.getByText('No session is open.').waitFor();
  });

  it('draws the session graph in a webview with the stored nodes', async () => {
    const { page, workspace } = workbench;
    await runCommand(page, 'Bathysphere: Open Session...');
    await answerFileDialog(page, path.join(workspace, 'sample.bathy'));
    const root = activeWebview(page).locator('#graph-root[data-state="rendered"]');
    await root.waitFor({ timeout: 60_000 });
    assert.equal(await root.getAttribute('data-node-count'), String(SAMPLE_GRAPH.nodes.length));
    assert.equal(await root.getAttribute('data-edge-count'), String(SAMPLE_GRAPH.edges.length));
    assert.match((await root.getAttribute('data-renderer')) ?? '', /^(webgl|canvas)$/);
    const status = await activeWebview(page).locator('#status').textContent();
    assert.match(status ?? '', /sample graph \(run 1\) — 5 nodes, 4 edges/);
    // The Sessions view now lists the file.
    await page.locator('.part.sidebar [role="treeitem"]', { hasText: 'sample.bathy' }).waitFor();
    await page.waitForTimeout(500); // let the layout settle for the picture
    const shot = await screenshot(page, 'graph-panel');
    assert.ok(fs.statSync(shot).size > 10_000, 'screenshot written');
  });

  it('restores the graph panel after the window reloads (panel serializer)', async () => {
    const { page } = workbench;
    // As a person reloads: the workbench saves its state, then restores editors.
    await runCommand(page, 'Developer: Reload Window');
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const root = activeWebview(page).locator('#graph-root[data-state="rendered"]');
    await root.waitFor({ timeout: 60_000 });
    assert.equal(await root.getAttribute('data-node-count'), String(SAMPLE_GRAPH.nodes.length));
    await page.locator('.part.sidebar [role="treeitem"]', { hasText: 'sample.bathy' }).waitFor();
  });
});
