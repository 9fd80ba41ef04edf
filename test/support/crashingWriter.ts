/**
 * A process that records into a session as fast as it can, flushing on the
 * store's timer, and reports on stdout how many rows each completed flush
 * holds. The crash test kills it with SIGKILL at random moments.
 *   tsx test/support/crashingWriter.ts FILE FLUSH_MS
 */
import { SessionStore } from '../../src/extension/store/sessionStore';

async function main(): Promise<void> {
  const [file, flushMs] = process.argv.slice(2);
  const store = await SessionStore.open(file, { create: true, flushIntervalMs: 0 });
  const run = store.addRun({ targetKind: 'graph', target: `writer ${process.pid}` });
  let written = 0;
  let flushing = false;
  setInterval(() => {
    if (flushing) return;
    flushing = true;
    const rowsInFlush = written;
    // The rows present when export() runs are the ones this flush makes durable.
    store.flush().then(() => {
      process.stdout.write(`flushed ${run.id} ${rowsInFlush}\n`);
      flushing = false;
    });
  }, Number(flushMs)).unref();
  process.stdout.write(`started ${run.id}\n`);
  for (;;) {
    const batch = Array.from({ length: 200 }, (_, i) => ({
      id: `n${written + i}`,
      label: 'x'.repeat(40),
      data: { i: written + i },
    }));
    store.putGraph(run.id, batch);
    written += batch.length;
    // Let the flush timer and its I/O run between batches, as the extension host would.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

void main();
