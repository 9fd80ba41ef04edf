/**
 * Kills a writing process with SIGKILL at random moments, many times, and
 * checks after each kill that the session file is a complete database holding
 * at least everything the last reported flush had written. The writer runs in
 * this very process image (node --require tsx/cjs), not under a launcher that
 * would survive the kill.
 */
import * as assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SessionStore } from '../../../src/extension/store/sessionStore';
import { useTempDir } from '../../support/tempDir';

const WRITER = path.join(__dirname, '../../support/crashingWriter.ts');

interface KillResult {
  flushedRows: Map<number, number>;
}

function runAndKill(file: string, killAfterMs: number): Promise<KillResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', WRITER, file, '20'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const flushedRows = new Map<number, number>();
    let buffer = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const [word, runId, rows] = buffer.slice(0, newline).split(' ');
        buffer = buffer.slice(newline + 1);
        if (word === 'flushed') {
          flushedRows.set(Number(runId), Number(rows));
          // Kill at a random moment after the first flush, so every round checks a file
          // that holds data, however slowly a loaded machine starts the writer.
          if (!timer) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer ended by itself (${signal})`));
      else resolve({ flushedRows });
    });
  });
}

describe('crash safety', function () {
  this.timeout(120_000);
  const tempDir = useTempDir();

  it('a writer killed with SIGKILL never leaves an unreadable file and loses only unflushed rows', async () => {
    const file = path.join(tempDir(), 'crash.bathy');
    const durable = new Map<number, number>();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const kills = 12;
    for (let i = 0; i < kills; i++) {
      const { flushedRows } = await runAndKill(file, Math.floor(random() * 400));
      for (const [runId, rows] of flushedRows) durable.set(runId, rows);

      const store = await SessionStore.open(file, { flushIntervalMs: 0 });
      try {
        for (const [runId, rows] of durable) {
          const stored = store.graph(runId).nodes.length;
          assert.ok(
            stored >= rows,
            `run ${runId}: ${stored} rows on disk, but a flush of ${rows} had completed`,
          );
        }
      } finally {
        await store.close();
      }
    }
    assert.equal(durable.size, kills, 'every writer recorded into its own run');
    try {
      const check = execFileSync('sqlite3', [file, 'PRAGMA integrity_check']).toString().trim();
      assert.equal(check, 'ok');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const leftovers = fs.readdirSync(tempDir()).filter((name) => name.endsWith('.tmp'));
    assert.deepEqual(leftovers, [], 'temporary files of dead writers are cleaned up on open');
  });
});
