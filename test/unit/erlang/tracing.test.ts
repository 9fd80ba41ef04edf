import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { injectAgent } from '../../../src/extension/erlang/agent';
import { erlangRecordCommand } from '../../../src/extension/erlang/cli';
import { ErlangConnection } from '../../../src/extension/erlang/connection';
import { evalOnNode } from '../../../src/extension/erlang/eval';
import { processGraph } from '../../../src/extension/erlang/processGraph';
import { ErlangRecorder } from '../../../src/extension/erlang/record';
import {
  ErlMap,
  Tuple,
  atom,
  isAtom,
  textOf,
  type Term,
} from '../../../src/extension/erlang/terms';
import { TermNames, type ErlangTraceEvent } from '../../../src/extension/erlang/traceEvents';
import { ErlangTraceSession } from '../../../src/extension/erlang/tracing';
import { exportRecords } from '../../../src/extension/store/exportRecords';
import { SessionStore } from '../../../src/extension/store/sessionStore';
import {
  REPO_ROOT,
  buildAgent,
  erlCommand,
  startNode,
  stopAllNodes,
  type TestNode,
} from './helpers/erlang-node';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tempSession(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bathysphere-trace-'));
  return path.join(dir, 'trace.bathy');
}

interface LogEntry {
  action: string;
  pid: string;
  other: string;
  extra: string;
}

/** The fixture's own log of what it did, with pids printed as the events print them. */
async function fixtureLog(conn: ErlangConnection, names: TermNames): Promise<LogEntry[]> {
  const log = (await conn.rpc('bathytest_tree', 'log', [])) as Tuple[];
  const show = (t: Term) => textOf(t) ?? names.of(t);
  return log.map(({ elements: [a, p, o, e] }) => ({
    action: show(a),
    pid: show(p),
    other: show(o),
    extra: show(e),
  }));
}

/**
 * Pids with trace flags set, node-wide, seen from another connection: flags of the classic
 * tracer, or of any trace session (OTP 27+, where erlang:trace_info shows neither).
 */
async function tracedProcesses(conn: ErlangConnection): Promise<number> {
  const count = await evalOnNode(
    conn,
    `Sessions = case code:ensure_loaded(trace) of
                    {module, trace} -> fun(P) -> catch trace:session_info(P) end;
                    _ -> fun(_) -> [] end
                end,
     length([P || P <- erlang:processes(),
                  (case erlang:trace_info(P, flags) of {flags, [_ | _]} -> true; _ -> false end)
                  orelse (case Sessions(P) of [_ | _] -> true; _ -> false end)]).`,
  );
  return Number(count);
}

/**
 * The suite runs against the system's Erlang (Debian 12's OTP 25: the classic tracer) and
 * against OTP 27 (trace sessions), the two tracing interfaces the agent's
 * bathysphere_trace_api chooses between.
 */
const RELEASES = [
  { release: 'system', backend: 'classic' },
  { release: '27', backend: 'session' },
] as const;

/** Calls rex every 20 ms for 2.5 s and returns the slowest round trip in microseconds. */
const SLOWEST_REX_ROUND_TRIP_MS = `
  Until = erlang:monotonic_time(millisecond) + 2500,
  Loop = fun Loop(Worst) ->
      case erlang:monotonic_time(millisecond) > Until of
          true -> Worst;
          false ->
              {Us, _} = timer:tc(fun() -> gen_server:call(rex, {call, erlang, node, [], group_leader()}, 5000) end),
              receive after 20 -> ok end,
              Loop(max(Worst, Us))
      end
  end,
  Loop(0).`;

for (const { release, backend } of RELEASES)
  describe(`Erlang tracing (${release === 'system' ? "the system's Erlang" : `OTP ${release}`}, ${backend} tracer)`, function () {
    this.timeout(60_000);
    let target: TestNode;
    let otpRelease: string;
    const connect = () => ErlangConnection.connect({ node: target.node, cookie: target.cookie });

    before(async () => {
      buildAgent();
      target = await startNode({ erl: erlCommand(release) });
      const conn = await connect();
      await conn.rpc('bathytest_tree', 'start', []);
      otpRelease = textOf(await conn.rpc('erlang', 'system_info', [atom('otp_release')])) ?? '';
      if (release !== 'system') assert.equal(otpRelease, release);
      conn.close();
    });
    after(stopAllNodes);

    it('records the explored island and nothing beyond it', async () => {
      const conn = await connect();
      const agent = await injectAgent(conn, { baseDir: REPO_ROOT });
      const file = tempSession();
      const store = await SessionStore.open(file, { create: true, flushIntervalMs: 0 });
      const recorder = await ErlangRecorder.start(conn, agent, store);
      const events: ErlangTraceEvent[] = [];
      recorder.session.on('events', (batch) => events.push(...batch));
      const names = recorder.session.names;
      const pids = (await conn.rpc('bathytest_tree', 'pids', [])) as ErlMap;
      const pid = (key: string) => names.of(pids.get(atom(key))!);
      assert.equal(await recorder.session.explore('bathytest_alpha'), pid('alpha'));
      await conn.rpc('bathytest_tree', 'scenario', []);
      await sleep(1700); // the leaver acts 1 s after leaving; the ETS poll runs every 500 ms
      await recorder.stop();
      const log = await fixtureLog(conn, names);

      const has = (kind: string, match: (e: Record<string, unknown>) => boolean) =>
        events.some((e) => e.kind === kind && match(e as unknown as Record<string, unknown>));
      assert.ok(has('started', (e) => e.backend === backend && e.otpRelease === otpRelease));
      const spawns = log.filter((l) => l.action === 'spawn');
      assert.equal(spawns.length, 6);
      for (const l of spawns)
        assert.ok(
          has('spawn', (e) => e.pid === l.pid && e.child === l.other),
          `spawn ${l.other}`,
        );
      for (const l of spawns) assert.ok(has('link', (e) => e.pid === l.pid && e.other === l.other));
      for (const l of log.filter((l) => l.action === 'exit'))
        assert.ok(
          has('exit', (e) => e.pid === l.pid && e.reason === l.extra),
          `exit ${l.pid}`,
        );
      for (const l of log.filter((l) => l.action === 'unlink'))
        assert.ok(
          has('unlink', (e) => e.pid === l.pid && e.other === l.other),
          `unlink ${l.pid}`,
        );
      for (const kind of ['register', 'unregister'])
        assert.ok(has(kind, (e) => e.pid === pid('gamma') && e.name === 'bathytest_gamma'));
      const port = log.find((l) => l.action === 'port_open')!.other;
      assert.ok(has('port_open', (e) => e.port === port && e.owner === pid('alpha')));
      assert.ok(has('port_closed', (e) => e.port === port));
      assert.ok(has('ets_new', (e) => e.name === 'bathytest_table' && e.owner === pid('beta')));

      // Nothing from outside the island: the bystander, the trapper's side, the leaver after leaving.
      const outsiders = new Set(
        log.filter((l) => l.action === 'outside_spawn').map((l) => l.other),
      );
      outsiders.add(pid('bystander'));
      outsiders.add(pid('beyond'));
      outsiders.add(pid('trapper'));
      const lifecycle = new Set(['spawn', 'exit', 'link', 'unlink', 'register', 'unregister']);
      const leaked = events.filter(
        (e) =>
          lifecycle.has(e.kind) &&
          'pid' in e &&
          (outsiders.has(e.pid) || ('child' in e && outsiders.has(e.child))),
      );
      assert.deepEqual(leaked, []);
      assert.ok(!has('register', (e) => e.name === 'bathytest_leaver_after'));
      assert.ok(has('island', (e) => e.pid === pid('leaver') && e.change === 'unlinked'));

      const reopened = await SessionStore.open(file);
      const graph = processGraph(reopened, recorder.runId);
      const node = (p: string) => graph.nodes.find((n) => n.id === p);
      for (const member of ['alpha', 'beta', 'gamma'])
        assert.equal(node(pid(member))?.data.level, 'explored', member);
      assert.equal(node(pid('alpha'))?.data.chosen, true);
      assert.equal(node(pid('alpha'))?.label, 'bathytest_alpha');
      assert.equal(node(pid('sup'))?.data.boundary, true);
      assert.equal(node(pid('sup'))?.kind, 'supervisor');
      assert.equal(node(pid('alpha'))?.parent, pid('sup'));
      assert.equal(node(pid('trapper'))?.data.boundary, true);
      assert.equal(node(pid('leaver'))?.data.level, 'mentioned');
      assert.equal(node(pid('bystander')), undefined);
      const crasher = log.find((l) => l.action === 'exit' && l.extra === 'boom')!.pid;
      assert.equal(node(crasher)?.data.state, 'dead');
      assert.equal(node(crasher)?.data.exitReason, 'boom');
      assert.ok(
        graph.edges.some(
          (e) =>
            e.kind === 'link' &&
            [e.source, e.target].includes(pid('beta')) &&
            [e.source, e.target].includes(pid('gamma')),
        ),
      );
      assert.ok(
        graph.edges.some(
          (e) => e.kind === 'spawn' && e.source === pid('alpha') && e.target === crasher,
        ),
      );
      const exported = [...exportRecords(reopened)].filter((r) => r.type === 'erlang_event');
      assert.equal(exported.length, recorder.ingest.eventCount);
      await reopened.close();
      await store.close();
      await agent.remove();
      conn.close();
    });

    it('survives a message flood: summaries, a bounded queue, a responsive node', async () => {
      const conn = await connect();
      const observer = await connect();
      const agent = await injectAgent(conn, { baseDir: REPO_ROOT });
      const session = await ErlangTraceSession.start(conn, agent, { maxQueue: 20_000 });
      let summaries = 0;
      let overloads = 0;
      session.on('events', (batch) => {
        for (const e of batch) if (e.kind === 'summary') summaries++;
      });
      session.on('overload', () => overloads++);
      const flooder = await conn.rpc('bathytest_tree', 'flood', [3000, 20]);
      await session.listen(textOf(flooder) ?? session.names.of(flooder));
      // The round trips are timed on the node (through rex, as a client's rpc goes): this
      // 2-core machine also runs the client, whose own pauses are not the node's.
      const probe = evalOnNode(conn, SLOWEST_REX_ROUND_TRIP_MS, { timeoutMs: 10_000 });
      let longestQueue = 0;
      const until = Date.now() + 2500;
      while (Date.now() < until) {
        const info = await observer.rpc('erlang', 'process_info', [
          session.tracer,
          atom('message_queue_len'),
        ]);
        longestQueue = Math.max(longestQueue, Number((info as Tuple).elements[1]));
        await sleep(20);
      }
      const slowestRpcMs = Number(await probe) / 1000;
      await sleep(1200);
      assert.ok(slowestRpcMs < 200, `slowest rpc ${slowestRpcMs} ms`);
      assert.ok(longestQueue < 20_000, `tracer queue reached ${longestQueue}`);
      assert.ok(summaries > 0 || overloads > 0, 'neither summaries nor an overload');
      assert.ok(summaries > 0, 'no summary events');
      assert.ok(session.isOpen);
      const status = await session.status();
      assert.ok(status.summarised > 0);
      // Send tracing was paused while the flags were cleared: it is back. The classic tracer
      // pauses the node's send pattern; a trace session pauses its own, the node's stays.
      const sendPattern = await observer.rpc('erlang', 'trace_info', [
        atom('send'),
        atom('match_spec'),
      ]);
      assert.ok(
        isAtom((sendPattern as Tuple).elements[1], 'true'),
        `send pattern ${String(sendPattern)}`,
      );
      if (backend === 'session') {
        const sending = (await evalOnNode(
          observer,
          `[Name || {Name, _} = S <- trace:session_info(send), S =/= {legacy, default},
                    trace:info(S, send, match_spec) =:= {match_spec, true}].`,
        )) as Term[];
        assert.deepEqual(
          sending.map((name) => isAtom(name, 'bathysphere')),
          [true],
        );
      }
      await session.close();
      await agent.remove();
      conn.close();
      observer.close();
    });

    it('survives a spawn/exit churn of an explored process: the level goes off, the queue stays bounded', async () => {
      const conn = await connect();
      const observer = await connect();
      const agent = await injectAgent(conn, { baseDir: REPO_ROOT });
      const session = await ErlangTraceSession.start(conn, agent, { maxQueue: 20_000 });
      let overload: unknown;
      session.on('overload', (event) => (overload ??= event));
      const churner = await evalOnNode(
        conn,
        'bathytest_tree:churn(300000, spawn(fun() -> receive _ -> ok end end)).',
      );
      await session.explore(textOf(churner) ?? session.names.of(churner));
      const probe = evalOnNode(conn, SLOWEST_REX_ROUND_TRIP_MS, { timeoutMs: 10_000 });
      await conn.rpc('erlang', 'send', [churner, atom('go')]);
      let longestQueue = 0;
      const until = Date.now() + 2500;
      while (Date.now() < until) {
        const info = await observer.rpc('erlang', 'process_info', [
          session.tracer,
          atom('message_queue_len'),
        ]);
        longestQueue = Math.max(longestQueue, Number((info as Tuple).elements[1]));
        await sleep(5);
      }
      const slowestRpcMs = Number(await probe) / 1000;
      const status = await session.status();
      assert.ok(longestQueue < 20_000, `tracer queue reached ${longestQueue}`);
      assert.ok(slowestRpcMs < 200, `slowest rpc ${slowestRpcMs} ms`);
      assert.ok(overload, 'no overload event');
      assert.ok(status.overloads >= 1);
      assert.ok(status.dropped > 0, 'events that came in while the level went off are counted');
      assert.ok(status.recorded < 300_000, `${status.recorded} events recorded one by one`);
      assert.equal(await tracedProcesses(observer), 0, 'no process keeps a flag of ours');
      await session.close();
      await agent.remove();
      conn.close();
      observer.close();
    });

    it('sends small bodies as terms and prints big ones (large binaries too) on the node', async () => {
      const conn = await connect();
      const agent = await injectAgent(conn, { baseDir: REPO_ROOT });
      const limits = await conn.rpc('bathysphere_limits', 'defaults', []);
      const body = async (source: string) =>
        (await evalOnNode(conn, `bathysphere_event:body(${source}, Limits).`, {
          bindings: { Limits: limits },
        })) as Tuple;
      const small = await body('{msg, 1, <<"hi">>}');
      assert.ok(isAtom(small.elements[1], 'raw'));
      for (const big of ['lists:seq(1, 1000)', 'binary:copy(<<"x">>, 100000)']) {
        const [text, how] = (await body(big)).elements;
        assert.ok(isAtom(how, 'printed'), big);
        assert.ok(text instanceof Uint8Array && text.length <= 203, big);
      }
      await agent.remove();
      conn.close();
    });

    it('clears every trace flag within a second of the client going away', async () => {
      const client = await connect();
      const observer = await connect();
      assert.equal(await tracedProcesses(observer), 0);
      const agent = await injectAgent(client, { baseDir: REPO_ROOT });
      const session = await ErlangTraceSession.start(client, agent);
      await session.explore('bathytest_alpha');
      await session.listen('bathytest_alpha');
      assert.ok((await tracedProcesses(observer)) >= 3); // alpha, beta, gamma
      client.close();
      const started = Date.now();
      let traced = await tracedProcesses(observer);
      while (traced > 0 && Date.now() - started < 1000) {
        await sleep(50);
        traced = await tracedProcesses(observer);
      }
      assert.equal(traced, 0, 'trace flags left on the node');
      assert.ok(Date.now() - started <= 1000);
      const cleanup = await injectAgent(observer, { baseDir: REPO_ROOT });
      await cleanup.remove();
      observer.close();
    });

    it('erlang record writes a session the graph can read', async () => {
      const file = tempSession();
      let out = '';
      let err = '';
      const code = await erlangRecordCommand.run(
        [
          '--node',
          target.node,
          '--cookie',
          target.cookie,
          '--explore',
          'bathytest_alpha',
          '--duration',
          '1',
          '--out',
          file,
        ],
        { out: (t) => (out += t), err: (t) => (err += t), signal: new AbortController().signal },
      );
      assert.equal(code, 0, err);
      assert.match(out, /recorded \d+ event\(s\) in run 1/);
      const store = await SessionStore.open(file);
      const [run] = store.runs();
      assert.equal(run.targetKind, 'erlang');
      assert.equal(run.metadata.otpRelease, otpRelease);
      assert.ok(processGraph(store, run.id).nodes.some((n) => n.label === 'bathytest_alpha'));
      await store.close();

      const missing = await erlangRecordCommand.run(
        [
          '--node',
          target.node,
          '--cookie',
          target.cookie,
          '--explore',
          'no_such_process',
          '--duration',
          '1',
          '--out',
          file,
        ],
        { out: () => undefined, err: () => undefined, signal: new AbortController().signal },
      );
      assert.equal(missing, 1);
    });
  });
