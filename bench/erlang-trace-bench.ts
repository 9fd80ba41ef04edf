/**
 * Erlang tracing benchmark against a real local node:
 *   npx tsx bench/erlang-trace-bench.ts
 * Two workloads from test/unit/erlang/fixtures/bathytest_tree.erl: spawn/exit churn (a
 * process spawn_links children that exit at once) and a message flood (a process sends
 * to a sink). For each: events per second from the node into a session (trace, batch,
 * decode, ingest into SQLite), and the workload's time untraced, under Bathysphere, and
 * under dbg with a counting tracer (same trace flags), side by side.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { injectAgent } from '../src/extension/erlang/agent';
import { ErlangConnection } from '../src/extension/erlang/connection';
import { evalOnNode } from '../src/extension/erlang/eval';
import { ErlangRecorder } from '../src/extension/erlang/record';
import { Pid, Tuple, atom } from '../src/extension/erlang/terms';
import { SessionStore } from '../src/extension/store/sessionStore';
import {
  REPO_ROOT,
  buildAgent,
  startNode,
  stopAllNodes,
} from '../test/unit/erlang/helpers/erlang-node';

const CHURN = 100_000;
const MESSAGES = 1_000_000;
/** Bounds raised so that the benchmark measures throughput, not the safety limits. */
const OPEN_LIMITS = {
  nodeEventsPerSecond: 10_000_000,
  processEventsPerSecond: 10_000_000,
  maxQueue: 5_000_000,
  maxBufferedEvents: 5_000_000,
  maxMemoryBytes: 2_000_000_000,
  tracePorts: false,
};

type Workload = 'churn' | 'sender';

/** Starts the workload process (waiting for 'go'); resolves with it and its completion. */
async function prepare(conn: ErlangConnection, workload: Workload) {
  const mailbox = conn.createMailbox();
  const count = workload === 'churn' ? CHURN : MESSAGES;
  const pid = (await conn.rpc('bathytest_tree', workload, [count, mailbox.pid])) as Pid;
  const go = async () => {
    conn.send(pid, atom('go'));
    const reply = (await mailbox.receive({ timeoutMs: 120_000 })) as Tuple;
    mailbox.close();
    return Number(reply.elements[1]) / 1e6;
  };
  return { pid, go };
}

async function untraced(conn: ErlangConnection, workload: Workload): Promise<number> {
  const { go } = await prepare(conn, workload);
  return go();
}

async function withDbg(conn: ErlangConnection, workload: Workload): Promise<number> {
  const { pid, go } = await prepare(conn, workload);
  const flags =
    workload === 'churn'
      ? '[procs, set_on_link, monotonic_timestamp]'
      : '[send, monotonic_timestamp]';
  await evalOnNode(
    conn,
    `{ok, _} = dbg:tracer(process, {fun(_, N) -> N + 1 end, 0}), {ok, _} = dbg:p(Pid, ${flags}), ok.`,
    { bindings: { Pid: pid } },
  );
  const seconds = await go();
  await evalOnNode(conn, 'dbg:stop(), ok.');
  return seconds;
}

async function withBathysphere(
  conn: ErlangConnection,
  workload: Workload,
): Promise<{ seconds: number; events: number; eventsPerSecond: number }> {
  const agent = await injectAgent(conn, { baseDir: REPO_ROOT });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bathy-bench-')), 'bench.bathy');
  const store = await SessionStore.open(file, { create: true, flushIntervalMs: 0 });
  const recorder = await ErlangRecorder.start(conn, agent, store, { limits: OPEN_LIMITS });
  const { pid, go } = await prepare(conn, workload);
  if (workload === 'churn') await recorder.session.explore(pid);
  else await recorder.session.listen(pid);
  await new Promise((r) => setTimeout(r, 300));
  const before = recorder.ingest.eventCount;
  const started = process.hrtime.bigint();
  const seconds = await go();
  // Each churned child gives spawn, link, getting_linked, exit, getting_unlinked (+ island).
  const expected = workload === 'churn' ? CHURN * 5 : MESSAGES;
  while (recorder.ingest.eventCount - before < expected && recorder.session.isOpen) {
    const status = await recorder.session.status();
    if (status.recorded + status.summarised <= recorder.ingest.eventCount && status.buffered === 0)
      break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const events = recorder.ingest.eventCount - before;
  await recorder.stop();
  await store.close();
  await agent.remove();
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return { seconds, events, eventsPerSecond: events / elapsed };
}

function row(cells: Array<string | number>): string {
  return `| ${cells.map(String).join(' | ')} |`;
}

async function main(): Promise<void> {
  buildAgent();
  const node = await startNode();
  const conn = await ErlangConnection.connect({ node: node.node, cookie: node.cookie });
  try {
    console.log(
      row([
        'workload',
        'untraced',
        'dbg (counting tracer)',
        'Bathysphere',
        'events into the session',
        'events/s (node to session)',
      ]),
    );
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const workload of ['churn', 'sender'] as const) {
      await untraced(conn, workload); // warm up
      const base = await untraced(conn, workload);
      const dbg = await withDbg(conn, workload);
      const ours = await withBathysphere(conn, workload);
      const name =
        workload === 'churn'
          ? `spawn/exit churn (${CHURN} linked children)`
          : `message flood (${MESSAGES} sends)`;
      const slow = (s: number) => `${(s * 1000).toFixed(0)} ms (${(s / base).toFixed(1)}x)`;
      console.log(
        row([
          name,
          `${(base * 1000).toFixed(0)} ms`,
          slow(dbg),
          slow(ours.seconds),
          ours.events,
          Math.round(ours.eventsPerSecond),
        ]),
      );
    }
  } finally {
    conn.close();
    await stopAllNodes();
  }
}

void main().catch(async (e) => {
  console.error(e);
  await stopAllNodes();
  process.exit(1);
});
