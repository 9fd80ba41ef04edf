/**
 * The host's Erlang ingest alone (no node, no decoding): synthetic batches shaped like the
 * tracer's for the two workloads of erlang-trace-bench.ts, written into a fresh session.
 *   npx tsx bench/erlang-ingest-bench.ts [--events 600000] [--runs 3] [--src DIR,DIR...]
 * Figures are CPU time of this process (user + system), so a loaded machine changes them
 * less than wall time. With --src, each round measures the ingest of every named source
 * tree (a copy of this repository's src/, e.g. from `git archive`) one after the other,
 * so an old and a new ingest compare under the same load. The last figure per tree is a
 * session flush (the whole database written to a file), which recording does every 2 s.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ErlangTraceEvent } from '../src/extension/erlang/traceEvents';
import { option } from './benchArgs';

/** The tracer's batch_events default: batches are this big when the node is busy. */
const BATCH = 5000;

type Workload = 'churn' | 'flood';

/** What explore on a process that spawn_links children which exit at once reports. */
function churnEvents(total: number): ErlangTraceEvent[] {
  const parent = '<0.90.0>';
  const events: ErlangTraceEvent[] = [];
  let ts = 1_700_000_000_000_000;
  for (let n = 0; events.length < total; n++) {
    const child = `<0.${1000 + n}.0>`;
    events.push(
      { kind: 'spawn', ts: ts++, pid: parent, child, mfa: 'bathytest_tree:child/0' },
      { kind: 'link', ts: ts++, pid: parent, other: child },
      { kind: 'getting_linked', ts: ts++, pid: child, other: parent },
      { kind: 'island', ts: ts++, pid: child, change: 'joined' },
      { kind: 'exit', ts: ts++, pid: child, reason: 'normal' },
      { kind: 'getting_unlinked', ts: ts++, pid: parent, other: child },
    );
  }
  return events.slice(0, total);
}

/** What listen on a process sending small messages to one sink reports. */
function floodEvents(total: number): ErlangTraceEvent[] {
  const events: ErlangTraceEvent[] = [];
  for (let n = 0; n < total; n++)
    events.push({
      kind: 'send',
      ts: 1_700_000_000_000_000 + n,
      pid: '<0.90.0>',
      to: '<0.91.0>',
      bytes: 12,
      text: `{msg,${n}}`,
    });
  return events;
}

interface Figures {
  ingestCpuMs: number;
  flushCpuMs: number;
  bytes: number;
}

async function measure(src: string, events: ErlangTraceEvent[]): Promise<Figures> {
  const { SessionStore } = (await import(
    path.resolve(src, 'extension/store/sessionStore.ts')
  )) as typeof import('../src/extension/store/sessionStore');
  const { ErlangIngest } = (await import(
    path.resolve(src, 'extension/erlang/ingest.ts')
  )) as typeof import('../src/extension/erlang/ingest');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bathy-ingest-'));
  const file = path.join(dir, 'bench.bathy');
  const store = await SessionStore.open(file, { create: true, flushIntervalMs: 0 });
  // As ErlangRecorder.start does, where the tree has it.
  if ('reserveRoom' in store) await store.reserveRoom();
  const run = store.addRun({ targetKind: 'erlang', target: 'bench@host' });
  const ingest = new ErlangIngest(store, run.id);
  const started = process.cpuUsage();
  for (let i = 0; i < events.length; i += BATCH) ingest.ingest(events.slice(i, i + BATCH));
  const ingested = process.cpuUsage(started);
  await store.flush();
  const flushed = process.cpuUsage(started);
  const bytes = fs.statSync(file).size;
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const ms = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
  return { ingestCpuMs: ms(ingested), flushCpuMs: ms(flushed) - ms(ingested), bytes };
}

async function main(): Promise<void> {
  const total = Number(option('events', '600000'));
  const runs = Number(option('runs', '3'));
  const sources = option('src', path.join(__dirname, '..', 'src')).split(',');
  const workloads: Workload[] = ['churn', 'flood'];
  console.log(
    `${total} events per workload, ${runs} rounds; load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log('| workload | source | ingest CPU ms | events/s (CPU) | flush CPU ms | file MB |');
  console.log(`|${' --- |'.repeat(6)}`);
  for (let round = 0; round < runs; round++)
    for (const workload of workloads) {
      const events = workload === 'churn' ? churnEvents(total) : floodEvents(total);
      for (const src of sources) {
        const f = await measure(src, events);
        const rate = Math.round(total / (f.ingestCpuMs / 1000));
        console.log(
          `| ${workload} | ${src} | ${f.ingestCpuMs.toFixed(0)} | ${rate} | ${f.flushCpuMs.toFixed(0)} | ${(f.bytes / 1e6).toFixed(1)} |`,
        );
      }
    }
  console.log(
    `load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
