/**
 * `bathysphere erlang ...` commands: list nodes (EPMD) and evaluate an expression
 * on a node. Connection problems exit with 2, evaluation failures with 1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, ExitCode, type CliCommand, type CliIo } from '../cli/command';
import { ErlangConnection, parseNodeName, type ConnectOptions } from './connection';
import { listNodes } from './epmd';
import { ErlangError } from './errors';
import { EvalError, evalOnNode } from './eval';
import { formatTerm } from './format';
import { injectAgent, resolveErlangAgentPaths } from './agent';
import { ErlangRecorder } from './record';
import { SessionStore } from '../store/sessionStore';
import * as fs from 'node:fs';
import * as path from 'node:path';

const nodesHelp = `usage: bathysphere erlang nodes [--host HOST]

Lists the Erlang nodes registered with EPMD on HOST (default: this machine),
one per line: NAME@HOST and the distribution port.

Options:
  --host HOST   Host whose EPMD to ask (default localhost)
  -h, --help    Show this help`;

const evalHelp = `usage: bathysphere erlang eval --node NAME [--cookie COOKIE] [--timeout MS] 'EXPR.'

Joins NAME as a hidden node, evaluates the Erlang expression on that node and
prints the result the way the Erlang shell would (~p). The expression must end
with a full stop. Nothing is installed on the node.

Options:
  --node NAME       Target node, name@host (a bare name means this machine)
  --cookie COOKIE   Cookie (default: ~/.erlang.cookie, as erl uses)
  --timeout MS      Connect and evaluation timeout in milliseconds (default 15000)
  -h, --help        Show this help

Exit status: 0 on success, 1 if the expression failed, 2 if the node could not
be reached (wrong cookie, unknown node, no EPMD...).

Example:
  bathysphere erlang eval --node app@myhost 'lists:sum([1,2,3]).'`;

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CliError((e as Error).message, ExitCode.usage);
  }
}

export const erlangNodesCommand: CliCommand = {
  path: ['erlang', 'nodes'],
  summary: 'List Erlang nodes registered with EPMD on a host',
  help: nodesHelp,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(args, {
      host: { type: 'string' },
    });
    if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0]}'`);
    const host = (values.host as string | undefined) ?? 'localhost';
    try {
      const nodes = await listNodes(host);
      const hostPart = host === 'localhost' ? parseNodeName('x').host : host;
      for (const node of nodes) io.out(`${node.name}@${hostPart}\t${node.port}\n`);
      return ExitCode.ok;
    } catch (e) {
      if (e instanceof ErlangError) {
        io.err(`${e.message}\n`);
        return ExitCode.usage;
      }
      throw e;
    }
  },
};

/**
 * Connects, or writes why not (no EPMD, unknown node, rejected cookie...) and
 * resolves to undefined, which the commands turn into exit code 2.
 */
async function connectOrReport(
  options: ConnectOptions,
  io: CliIo,
): Promise<ErlangConnection | undefined> {
  try {
    return await ErlangConnection.connect(options);
  } catch (e) {
    if (!(e instanceof ErlangError)) throw e;
    io.err(`${e.message}\n`);
    return undefined;
  }
}

export const erlangEvalCommand: CliCommand = {
  path: ['erlang', 'eval'],
  summary: 'Evaluate an Erlang expression on a running node',
  help: evalHelp,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(args, {
      node: { type: 'string' },
      cookie: { type: 'string' },
      timeout: { type: 'string' },
    });
    const node = values.node as string | undefined;
    if (!node) throw new CliError('--node is required (see --help)');
    if (positionals.length !== 1)
      throw new CliError("give exactly one expression, e.g. 'lists:sum([1,2,3]).'");
    const timeoutMs = values.timeout === undefined ? 15_000 : Number(values.timeout);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
      throw new CliError('--timeout must be a positive number');
    const expression = ensureFullStop(positionals[0]);

    const conn = await connectOrReport(
      { node, cookie: values.cookie as string | undefined, connectTimeoutMs: timeoutMs },
      io,
    );
    if (!conn) return ExitCode.usage;
    const abort = () => conn.close('interrupted');
    io.signal.addEventListener('abort', abort, { once: true });
    try {
      const value = await evalOnNode(conn, expression, { timeoutMs });
      io.out(formatTerm(value, { localNode: conn.node }) + '\n');
      return ExitCode.ok;
    } catch (e) {
      if (e instanceof EvalError) {
        io.err(`${e.message}\n`);
        return ExitCode.failed;
      }
      if (e instanceof ErlangError) {
        io.err(`${e.message}\n`);
        return e.code === 'rpc-timeout' ? ExitCode.failed : ExitCode.usage;
      }
      throw e;
    } finally {
      io.signal.removeEventListener('abort', abort);
      conn.close();
    }
  },
};

/** The shell needs the final dot; people often leave it out. */
function ensureFullStop(expression: string): string {
  const trimmed = expression.trim();
  return trimmed.endsWith('.') ? trimmed : `${trimmed}.`;
}

const recordHelp = `usage: bathysphere erlang record --node NAME [--cookie COOKIE] --explore NAME_OR_PID...
       [--listen NAME_OR_PID...] [--duration SECONDS] --out FILE

Joins NAME as a hidden node, loads Bathysphere's agent, explores the given
processes (their spawns, exits, links and the processes linked to them) and
records what happens into the session FILE (created if missing; a new run is
added) until the duration is over or Ctrl-C. --listen records messages too.
Prints a summary at the end. The agent leaves the node as it found it.

Options:
  --node NAME          Target node, name@host (a bare name means this machine)
  --cookie COOKIE      Cookie (default: ~/.erlang.cookie, as erl uses)
  --explore TARGET     Registered name or pid (<0.85.0>) to explore; repeatable
  --listen TARGET      Registered name or pid whose messages to record; repeatable
  --duration SECONDS   Stop after this long (default: until Ctrl-C)
  --out FILE           Session file (.bathy)
  -h, --help           Show this help

Exit status: 0 on success, 1 if a target process does not exist, 2 if the node
could not be reached or the arguments are wrong.`;

export const erlangRecordCommand: CliCommand = {
  path: ['erlang', 'record'],
  summary: 'Record what processes on a running node do into a session file',
  help: recordHelp,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(args, {
      node: { type: 'string' },
      cookie: { type: 'string' },
      explore: { type: 'string', multiple: true },
      listen: { type: 'string', multiple: true },
      duration: { type: 'string' },
      out: { type: 'string' },
    });
    if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0]}'`);
    const node = values.node as string | undefined;
    const out = values.out as string | undefined;
    const explore = (values.explore as string[] | undefined) ?? [];
    const listen = (values.listen as string[] | undefined) ?? [];
    if (!node) throw new CliError('--node is required (see --help)');
    if (!out) throw new CliError('--out is required (see --help)');
    if (explore.length + listen.length === 0)
      throw new CliError('give at least one --explore or --listen target');
    const seconds = values.duration === undefined ? Infinity : Number(values.duration);
    if (!(seconds > 0)) throw new CliError('--duration must be a positive number of seconds');

    const conn = await connectOrReport({ node, cookie: values.cookie as string | undefined }, io);
    if (!conn) return ExitCode.usage;
    const store = await SessionStore.open(out, { create: true });
    try {
      const agent = await injectAgent(conn, { baseDir: agentBaseDir() });
      const recorder = await ErlangRecorder.start(conn, agent, store, {
        onError: (e) => io.err(`could not store a batch: ${e.message}\n`),
      });
      try {
        for (const target of explore) await recorder.session.explore(target);
        for (const target of listen) await recorder.session.listen(target);
      } catch (e) {
        await recorder.stop();
        await agent.remove().catch(() => undefined);
        if (e instanceof ErlangError) {
          io.err(`${e.message}\n`);
          return ExitCode.failed;
        }
        throw e;
      }
      io.err(
        `recording ${node} into ${out} (run ${recorder.runId})${Number.isFinite(seconds) ? ` for ${seconds} s` : ''}; Ctrl-C stops\n`,
      );
      await untilDoneOrInterrupted(
        seconds,
        io.signal,
        recorder.session.isOpen ? conn.closed : Promise.resolve(''),
      );
      await recorder.stop();
      await agent.remove().catch(() => undefined);
      io.out(recordSummary(recorder) + '\n');
      return ExitCode.ok;
    } catch (e) {
      if (e instanceof ErlangError) {
        io.err(`${e.message}\n`);
        return ExitCode.usage;
      }
      throw e;
    } finally {
      await store.close();
      conn.close();
    }
  },
};

/** Bundled CLI: dist/ holds agents/erlang; from source: the repository root. */
function agentBaseDir(): string {
  const candidates = [__dirname, path.resolve(__dirname, '..', '..', '..')];
  return (
    candidates.find((dir) => fs.existsSync(resolveErlangAgentPaths(dir).srcDir)) ?? candidates[0]
  );
}

function untilDoneOrInterrupted(
  seconds: number,
  signal: AbortSignal,
  closed: Promise<unknown>,
): Promise<void> {
  return new Promise((resolve) => {
    const timer = Number.isFinite(seconds) ? setTimeout(finish, seconds * 1000) : undefined;
    function finish() {
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    }
    signal.addEventListener('abort', finish, { once: true });
    void closed.then(finish);
  });
}

function recordSummary(recorder: ErlangRecorder): string {
  const counts = recorder.ingest.processCounts();
  const levels = ['listened', 'explored', 'mentioned', 'dead']
    .map((level) => `${counts[level] ?? 0} ${level}`)
    .join(', ');
  const lines = [
    `recorded ${recorder.ingest.eventCount} event(s) in run ${recorder.runId}`,
    `processes: ${levels}`,
  ];
  if (recorder.session.droppedByAgent > 0)
    lines.push(`dropped by the agent (client too slow): ${recorder.session.droppedByAgent}`);
  for (const o of recorder.overloads)
    lines.push(`overload: ${o.reason} (${o.value}); switched off ${o.switchedOff}`);
  return lines.join('\n');
}

export const erlangCommands: CliCommand[] = [
  erlangNodesCommand,
  erlangEvalCommand,
  erlangRecordCommand,
];
