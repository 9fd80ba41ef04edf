/**
 * Not a test suite: a scenario for the extension-host crash test. Inside the
 * real extension host it records into a session through the extension's own
 * OpenSessions (so the configured flush timer runs too) as fast as it can, and
 * appends to the report file its pid and, after each completed flush it
 * requested, how many rows that flush made durable. The test kills this
 * extension host with SIGKILL and then inspects the file.
 */
import * as fs from 'node:fs';
import { activateExtension } from './extensionUnderTest';

export async function runCrashWriter(reportFile: string, sessionFile: string): Promise<never> {
  const api = await activateExtension();
  const store = await api.sessions.open(sessionFile, true);
  const run = store.addRun({ targetKind: 'graph', target: `extension host ${process.pid}` });
  const report = (line: string) => fs.appendFileSync(reportFile, line + '\n');
  report(`pid ${process.pid} run ${run.id}`);
  let written = 0;
  const flushLoop = async () => {
    for (;;) {
      const rows = written;
      await store.flush();
      report(`flushed ${run.id} ${rows}`);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  };
  void flushLoop();
  for (;;) {
    const batch = Array.from({ length: 200 }, (_, i) => ({
      id: `n${written + i}`,
      label: 'y'.repeat(40),
    }));
    store.putGraph(run.id, batch);
    written += batch.length;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
