/**
 * Kills the real extension host (code-server's, with the extension loaded)
 * with SIGKILL while it records into a session, several times, and checks that
 * the session file is always a complete database that holds at least what the
 * last completed flush wrote.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import {
  developmentUrl,
  HOST_SUITE,
  launchChromium,
  startCodeServer,
} from '../../scripts/codeServer';
import { SessionStore } from '../../src/extension/store/sessionStore';

async function waitForLines(
  file: string,
  predicate: (lines: string[]) => boolean,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = fs.existsSync(file)
      ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)
      : [];
    if (predicate(lines)) return lines;
    if (Date.now() > deadline)
      throw new Error(`timed out; report so far:\n${lines.slice(-5).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('end to end: killing the extension host while it writes a session', () => {
  it('never leaves an unreadable file and loses only what was not yet flushed', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bathysphere-crash-'));
    const workspace = path.join(stateDir, 'workspace');
    fs.mkdirSync(workspace);
    const sessionFile = path.join(workspace, 'crash.bathy');
    const report = path.join(stateDir, 'report.txt');
    const server = await startCodeServer({
      stateDir,
      workspace,
      env: { BATHYSPHERE_TEST_REPORT: report, BATHYSPHERE_CRASH_SESSION: sessionFile },
      settings: { 'bathysphere.session.flushIntervalSeconds': 0.2 },
    });
    const browser = await launchChromium();
    const durable = new Map<number, number>();
    try {
      const page: Page = await browser.newPage();
      const url = developmentUrl(server, workspace, HOST_SUITE);
      const kills = 3;
      for (let i = 0; i < kills; i++) {
        fs.writeFileSync(report, '');
        await (i === 0 ? page.goto(url) : page.reload());
        const started = await waitForLines(report, (lines) =>
          lines.some((l) => l.startsWith('pid ')),
        );
        const [, pid, , runId] = started.find((l) => l.startsWith('pid '))!.split(' ');
        // Let it write and flush a while, then kill it mid-stream.
        await waitForLines(
          report,
          (lines) => lines.filter((l) => l.startsWith('flushed')).length >= 3 + i,
        );
        process.kill(Number(pid), 'SIGKILL');
        await new Promise((resolve) => setTimeout(resolve, 300));
        const flushes = fs
          .readFileSync(report, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith(`flushed ${runId} `));
        durable.set(Number(runId), Number(flushes.at(-1)!.split(' ')[2]));

        const store = await SessionStore.open(sessionFile, { flushIntervalMs: 0 });
        try {
          for (const [run, rows] of durable) {
            const stored = store.graph(run).nodes.length;
            assert.ok(
              stored >= rows,
              `run ${run}: ${stored} rows on disk after a completed flush of ${rows}`,
            );
          }
        } finally {
          await store.close();
        }
      }
      assert.equal(durable.size, kills, 'each extension host recorded into its own run');
      const check = execFileSync('sqlite3', [sessionFile, 'PRAGMA integrity_check'])
        .toString()
        .trim();
      assert.equal(check, 'ok');
    } finally {
      await browser.close();
      await server.stop();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
