/**
 * Erlang distribution benchmarks against a real local node:
 *   npx tsx bench/erlang-bench.ts [--write]
 * --write records the figures in bench/RESULTS.md under "## Erlang distribution".
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { injectAgent } from '../src/extension/erlang/agent';
import { ErlangConnection } from '../src/extension/erlang/connection';
import { decodeTermAt, encodeTerm } from '../src/extension/erlang/etf';
import { Pid, Tuple, atom, type Term } from '../src/extension/erlang/terms';
import {
  REPO_ROOT,
  buildAgent,
  startNode,
  stopAllNodes,
  type TestNode,
} from '../test/unit/erlang/helpers/erlang-node';

const DONE = atom('done');

interface Figure {
  name: string;
  value: string;
  goal: string;
}

async function rpcRoundTrips(conn: ErlangConnection): Promise<Figure> {
  for (let i = 0; i < 2000; i++) await conn.rpc('erlang', 'node', []); // warm up
  const rates: number[] = [];
  for (let run = 0; run < 3; run++) {
    const calls = 5_000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await conn.rpc('erlang', 'node', []);
    rates.push(calls / (Number(process.hrtime.bigint() - started) / 1e9));
  }
  rates.sort((a, b) => a - b);
  return {
    name: 'rpc round trips through rex (sequential erlang:node/0, median of 3 × 5,000)',
    value: `${Math.round(rates[1])} calls/s`,
    goal: '>= 10,000 calls/s',
  };
}

/** Has the node send `count` messages to a mailbox of ours; resolves when 'done' arrives. */
async function receiveStream(
  conn: ErlangConnection,
  fun: string,
  args: (pid: Term) => Term[],
): Promise<{ count: number; seconds: number; bytes: number }> {
  const mailbox = conn.createMailbox();
  let count = 0;
  let bytes = 0;
  const done = new Promise<void>((resolve) =>
    mailbox.setHandler((message) => {
      if (message instanceof Uint8Array) bytes += message.length;
      if (message === DONE) resolve();
      else count++;
    }),
  );
  const started = process.hrtime.bigint();
  await conn.rpc('erlang', 'spawn', [
    atom('bathysphere_test_termgen'),
    atom(fun),
    args(mailbox.pid),
  ]);
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  mailbox.close();
  return { count, seconds, bytes };
}

async function smallTerms(conn: ErlangConnection): Promise<Figure> {
  const small = new Tuple([atom('event'), 12345, atom('ok'), Buffer.from('payload')]);
  await receiveStream(conn, 'stream', (pid) => [pid, small, 50_000]); // warm up
  const { count, seconds } = await receiveStream(conn, 'stream', (pid) => [pid, small, 1_000_000]);
  return {
    name: 'small terms received and decoded ({event,12345,ok,<<"payload">>}, one message each)',
    value: `${Math.round(count / seconds)} terms/s`,
    goal: '>= 500,000 terms/s',
  };
}

async function batchedTerms(conn: ErlangConnection): Promise<Figure> {
  const small = new Tuple([atom('event'), 12345, atom('ok'), Buffer.from('payload')]);
  const batch = 1000;
  const { count, seconds } = await receiveStream(conn, 'stream_batches', (pid) => [
    pid,
    small,
    batch,
    2000,
  ]);
  return {
    name: 'small terms received and decoded (same term, 1,000 per message)',
    value: `${Math.round((count * batch) / seconds)} terms/s`,
    goal: '>= 500,000 terms/s',
  };
}

/** The decoder alone, on the bytes of one such message (control tuple + term). */
function decoderOnly(): Figure {
  const small = new Tuple([atom('event'), 12345, atom('ok'), Buffer.from('payload')]);
  const control = new Tuple([2, atom(''), new Pid(atom('bathysphere_x@host'), 1, 0, 5)]);
  const packet = Buffer.concat([encodeTerm(control), encodeTerm(small)]);
  const rounds = 2_000_000;
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) decodeTermAt(packet, decodeTermAt(packet, 0).end);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    name: 'decoder alone (control tuple + small term per packet)',
    value: `${Math.round(rounds / seconds)} packets/s`,
    goal: '(capacity figure)',
  };
}

async function binaryThroughput(conn: ErlangConnection): Promise<Figure> {
  await receiveStream(conn, 'stream_binaries', (pid) => [pid, 1 << 20, 20]);
  const { bytes, seconds } = await receiveStream(conn, 'stream_binaries', (pid) => [
    pid,
    1 << 20,
    500,
  ]);
  return {
    name: 'binary throughput (1 MiB binaries, node to us)',
    value: `${Math.round(bytes / seconds / 1e6)} MB/s`,
    goal: '>= 200 MB/s',
  };
}

async function connectAndInject(target: TestNode): Promise<Figure> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = process.hrtime.bigint();
    const conn = await ErlangConnection.connect({ node: target.node, cookie: target.cookie });
    const agent = await injectAgent(conn, { baseDir: REPO_ROOT });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    await agent.remove(); // so every round loads the BEAMs again
    conn.close();
  }
  times.sort((a, b) => a - b);
  return {
    name: 'connect + agent injection (fresh load, median of 5)',
    value: `${times[2].toFixed(1)} ms`,
    goal: '< 500 ms',
  };
}

function writeResults(figures: Figure[]): void {
  const file = path.join(REPO_ROOT, 'bench', 'RESULTS.md');
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmark results\n';
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    '## Erlang distribution',
    '',
    'Command: `npx tsx bench/erlang-bench.ts --write` (a local OTP node on loopback,',
    `${os.cpus().length} × ${cpu}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}).`,
    '',
    '| Measure | Result | Goal |',
    '| --- | --- | --- |',
    ...figures.map((f) => `| ${f.name} | ${f.value} | ${f.goal} |`),
    '',
  ];
  const section = lines.join('\n');
  const pattern = /## Erlang distribution\n[\s\S]*?(?=\n## |$)/;
  const updated = pattern.test(existing)
    ? existing.replace(pattern, section.trimEnd() + '\n')
    : `${existing.trimEnd()}\n\n${section}`;
  fs.writeFileSync(file, updated);
}

/** The same rex call loop run by a real Erlang node, for scale (its own client overhead included). */
function erlangRexBaseline(target: TestNode): Figure {
  const loop =
    `N = '${target.node}', pong = net_adm:ping(N), ` +
    `Call = fun() -> gen_server:call({rex, N}, {call, erlang, node, [], group_leader()}) end, ` +
    `[Call() || _ <- lists:seq(1, 2000)], T0 = erlang:monotonic_time(microsecond), ` +
    `[Call() || _ <- lists:seq(1, 5000)], T1 = erlang:monotonic_time(microsecond), ` +
    `io:format("~p~n", [5000 * 1000000 div (T1 - T0)]), halt().`;
  const result = spawnSync(
    'erl',
    [
      '-sname',
      `bench_${process.pid}`,
      '-hidden',
      '-setcookie',
      target.cookie,
      '-noshell',
      '-eval',
      loop,
    ],
    { encoding: 'utf8' },
  );
  return {
    name: 'same rex loop from an Erlang/OTP node (baseline)',
    value: `${result.stdout.trim()} calls/s`,
    goal: '(for comparison)',
  };
}

/** The one-message-per-term stream received by a real Erlang node, for scale. */
function erlangReceiverBaseline(target: TestNode): Figure {
  const receive =
    `N = '${target.node}', pong = net_adm:ping(N), Self = self(), ` +
    `Count = fun Count(C) -> receive done -> C; _ -> Count(C + 1) end end, ` +
    `T0 = erlang:monotonic_time(microsecond), ` +
    `spawn(N, bathysphere_test_termgen, stream, [Self, {event, 12345, ok, <<"payload">>}, 1000000]), ` +
    `C = Count(0), T1 = erlang:monotonic_time(microsecond), ` +
    `io:format("~p~n", [C * 1000000 div (T1 - T0)]), halt().`;
  const result = spawnSync(
    'erl',
    [
      '-sname',
      `bench_rx_${process.pid}`,
      '-hidden',
      '-setcookie',
      target.cookie,
      '-noshell',
      '-eval',
      receive,
    ],
    { encoding: 'utf8' },
  );
  return {
    name: 'same one-message-per-term stream received by an Erlang/OTP node (baseline)',
    value: `${result.stdout.trim()} terms/s`,
    goal: '(for comparison)',
  };
}

async function main(): Promise<void> {
  buildAgent();
  const target = await startNode();
  try {
    const conn = await ErlangConnection.connect({ node: target.node, cookie: target.cookie });
    const figures = [
      await rpcRoundTrips(conn),
      erlangRexBaseline(target),
      await smallTerms(conn),
      erlangReceiverBaseline(target),
      await batchedTerms(conn),
      decoderOnly(),
      await binaryThroughput(conn),
    ];
    conn.close();
    figures.push(await connectAndInject(target));
    for (const f of figures) console.log(`${f.name}: ${f.value} (goal ${f.goal})`);
    if (process.argv.includes('--write')) writeResults(figures);
  } finally {
    await stopAllNodes();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
