/**
 * Erlang tracing benchmark against a real local node:
 *   npx tsx bench/erlang-trace-bench.ts [--runs N] [--only churn|sender] [--otp 27] [--node-cpus LIST]
 * Two workloads from test/unit/erlang/fixtures/bathytest_tree.erl: spawn/exit churn (a
 * process spawn_links children that exit at once) and a message flood (a process sends
 * to a sink). For each: events per second from the node into a session (trace, batch,
 * decode, ingest into SQLite), and the workload's time untraced, under Bathysphere, and
 * under dbg with a counting tracer (same trace flags), side by side. With --runs N (3 by
 * default) every figure is the median of N rounds, each round measuring all three.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { injectAgent } from '../src/extension/erlang/agent';
import { ErlangConnection } from '../src/extension/erlang/connection';
import { evalOnNode } from '../src/extension/erlang/eval';
import { ErlangRecorder } from '../src/extension/erlang/record';
import { limitsTerm } from '../src/extension/erlang/tracing';
import { Pid, Tuple, atom, textOf } from '../src/extension/erlang/terms';
import { SessionStore } from '../src/extension/store/sessionStore';
import {
  REPO_ROOT,
  buildAgent,
  erlCommand,
  startNode,
  stopAllNodes,
} from '../test/unit/erlang/helpers/erlang-node';
import { optionValue } from './benchArgs';

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

interface Round {
  base: number;
  dbg: number;
  agentOnly: number;
  ours: number;
  events: number;
  eventsPerSecond: number;
  dropped: number;
  /** The host's CPU time over the wall time while the session took the events in. */
  hostCpuShare: number;
}

/** Longest wait for the session to hold every event the tracer recorded. */
const DRAIN_TIMEOUT_MS = 180_000;

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

/**
 * Bathysphere's tracer with a sink on the node as its client: the agent's own cost on the
 * node, without the host (whose decoding and SQLite inserts share this machine's 2 cores).
 */
async function withAgentOnly(conn: ErlangConnection, workload: Workload): Promise<number> {
  const agent = await injectAgent(conn, { baseDir: REPO_ROOT });
  const { pid, go } = await prepare(conn, workload);
  const command = workload === 'churn' ? 'explore' : 'listen';
  const tracer = await evalOnNode(
    conn,
    `Sink = spawn(fun Loop() -> receive stop -> ok; _ -> Loop() end end),
     Tracer = spawn(bathysphere_tracer, init, [Sink, Limits]),
     ok = bathysphere_tracer:call(Tracer, {${command}, Pid}),
     {Tracer, Sink}.`,
    { bindings: { Pid: pid, Limits: limitsTerm(OPEN_LIMITS) } },
  );
  await new Promise((r) => setTimeout(r, 300));
  const seconds = await go();
  await evalOnNode(
    conn,
    `{Tracer, Sink} = Pair,
     #{} = bathysphere_tracer:call(Tracer, status, ${DRAIN_TIMEOUT_MS}),
     exit(Tracer, shutdown), Sink ! stop, ok.`,
    { bindings: { Pair: tracer }, timeoutMs: DRAIN_TIMEOUT_MS + 10_000 },
  );
  await agent.remove();
  return seconds;
}

async function withBathysphere(
  conn: ErlangConnection,
  workload: Workload,
): Promise<Omit<Round, 'base' | 'dbg' | 'agentOnly' | 'ours'> & { seconds: number }> {
  const agent = await injectAgent(conn, { baseDir: REPO_ROOT });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bathy-bench-')), 'bench.bathy');
  const store = await SessionStore.open(file, { create: true, flushIntervalMs: 0 });
  const recorder = await ErlangRecorder.start(conn, agent, store, { limits: OPEN_LIMITS });
  const { pid, go } = await prepare(conn, workload);
  if (workload === 'churn') await recorder.session.explore(pid);
  else await recorder.session.listen(pid);
  await new Promise((r) => setTimeout(r, 300));
  const before = recorder.ingest.eventCount;
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const seconds = await go();
  // The tracer answers after every trace message queued before the question, so its
  // counts cover the whole workload; each event it recorded reaches the session unless
  // it was dropped (and counted) on the node.
  const status = await recorder.session.status(DRAIN_TIMEOUT_MS);
  const expected = status.recorded - status.dropped;
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (recorder.ingest.eventCount < expected) {
    if (!recorder.session.isOpen || Date.now() > deadline)
      throw new Error(`session holds ${recorder.ingest.eventCount} of ${expected} events`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const hostCpuSeconds = (cpu.user + cpu.system) / 1e6;
  const events = recorder.ingest.eventCount - before;
  await recorder.stop();
  await store.close();
  await agent.remove();
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return {
    seconds,
    events,
    eventsPerSecond: events / elapsed,
    dropped: status.dropped,
    hostCpuShare: hostCpuSeconds / elapsed,
  };
}

async function round(conn: ErlangConnection, workload: Workload): Promise<Round> {
  await untraced(conn, workload); // warm up
  const base = await untraced(conn, workload);
  const dbg = await withDbg(conn, workload);
  const agentOnly = await withAgentOnly(conn, workload);
  const ours = await withBathysphere(conn, workload);
  return { base, dbg, agentOnly, ours: ours.seconds, ...ours };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function runsArgument(): number {
  const runs = Number(optionValue('runs') ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  return runs;
}

/** The node's Erlang: the system's, or with --otp 27 the one scripts/install-otp27.sh unpacked. */
function erlArgument(): string {
  const otp = optionValue('otp');
  if (otp === undefined) return erlCommand('system');
  if (otp !== '27') throw new Error('--otp takes 27');
  return erlCommand('27');
}

/**
 * --node-cpus LIST runs the node on those CPUs only (one scheduler each): run this script
 * under `taskset -c` on the others, and the host no longer takes CPU from the node, as when
 * it runs on another machine.
 */
function nodeCpusArgument(): string | undefined {
  return optionValue('node-cpus') || undefined;
}

/** The workloads to run: both, or the one named by --only. */
function workloadsArgument(): Workload[] {
  const only = optionValue('only');
  if (only === undefined) return ['churn', 'sender'];
  if (only !== 'churn' && only !== 'sender') throw new Error('--only takes churn or sender');
  return [only];
}

function row(cells: Array<string | number>): string {
  return `| ${cells.map(String).join(' | ')} |`;
}

const WORKLOADS: Record<Workload, string> = {
  churn: `spawn/exit churn (${CHURN} linked children)`,
  sender: `message flood (${MESSAGES} sends)`,
};

/** One table row: medians over the rounds; slowdowns against the same round's untraced time. */
function summaryRow(workload: Workload, rounds: Round[]): string {
  const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
  const pick = (f: (r: Round) => number) => median(rounds.map(f));
  const slow = (f: (r: Round) => number) =>
    `${ms(pick(f))} (${pick((r) => f(r) / r.base).toFixed(1)}x)`;
  return row([
    WORKLOADS[workload],
    ms(pick((r) => r.base)),
    slow((r) => r.dbg),
    slow((r) => r.agentOnly),
    pick((r) => r.agentOnly / r.dbg).toFixed(2),
    slow((r) => r.ours),
    pick((r) => r.ours / r.dbg).toFixed(2),
    Math.round(pick((r) => r.events)),
    Math.round(pick((r) => r.dropped)),
    Math.round(pick((r) => r.eventsPerSecond)),
  ]);
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const runs = runsArgument();
  const workloads = workloadsArgument();
  buildAgent();
  const node = await startNode({ erl: erlArgument(), cpus: nodeCpusArgument() });
  const conn = await ErlangConnection.connect({ node: node.node, cookie: node.cookie });
  try {
    const release = textOf(await conn.rpc('erlang', 'system_info', [atom('otp_release')]));
    const cpus = nodeCpusArgument();
    const where = cpus ? `, the node on CPU ${cpus} only` : '';
    console.log(`${runs} round(s) on OTP ${release}${where}; load average before: ${load()}`);
    const results: Record<Workload, Round[]> = { churn: [], sender: [] };
    for (let run = 1; run <= runs; run++)
      for (const workload of workloads) {
        const result = await round(conn, workload);
        results[workload].push(result);
        console.log(`round ${run} ${workload}: ${JSON.stringify(result)}`);
      }
    console.log(`load average after: ${load()}\n`);
    console.log(
      row([
        'workload',
        'untraced',
        'dbg (counting tracer)',
        'agent only (sink on the node)',
        'agent only / dbg',
        'Bathysphere (into the session)',
        'Bathysphere / dbg',
        'events into the session',
        'dropped',
        'events/s (node to session)',
      ]),
    );
    console.log(`|${' --- |'.repeat(10)}`);
    for (const workload of workloads) console.log(summaryRow(workload, results[workload]));
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
