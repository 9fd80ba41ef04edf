/**
 * `bathysphere erlang ...` commands: list nodes (EPMD) and evaluate an expression
 * on a node. Connection problems exit with 2, evaluation failures with 1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, ExitCode, type CliCommand, type CliIo } from '../cli/command';
import { ErlangConnection, parseNodeName } from './connection';
import { listNodes } from './epmd';
import { ErlangError } from './errors';
import { EvalError, evalOnNode } from './eval';
import { formatTerm } from './format';

const nodesHelp = `Usage: bathysphere erlang nodes [--host HOST]

Lists the Erlang nodes registered with EPMD on HOST (default: this machine),
one per line: NAME@HOST and the distribution port.

Options:
  --host HOST   Host whose EPMD to ask (default localhost)
  -h, --help    Show this help`;

const evalHelp = `Usage: bathysphere erlang eval --node NAME [--cookie COOKIE] [--timeout MS] 'EXPR.'

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
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.out(nodesHelp + '\n');
      return ExitCode.ok;
    }
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

export const erlangEvalCommand: CliCommand = {
  path: ['erlang', 'eval'],
  summary: 'Evaluate an Erlang expression on a running node',
  help: evalHelp,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(args, {
      node: { type: 'string' },
      cookie: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.out(evalHelp + '\n');
      return ExitCode.ok;
    }
    const node = values.node as string | undefined;
    if (!node) throw new CliError('--node is required (see --help)');
    if (positionals.length !== 1)
      throw new CliError("give exactly one expression, e.g. 'lists:sum([1,2,3]).'");
    const timeoutMs = values.timeout === undefined ? 15_000 : Number(values.timeout);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
      throw new CliError('--timeout must be a positive number');
    const expression = ensureFullStop(positionals[0]);

    let conn: ErlangConnection;
    try {
      conn = await ErlangConnection.connect({
        node,
        cookie: values.cookie as string | undefined,
        connectTimeoutMs: timeoutMs,
      });
    } catch (e) {
      if (e instanceof ErlangError) {
        io.err(`${e.message}\n`);
        return ExitCode.usage;
      }
      throw e;
    }
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

export const erlangCommands: CliCommand[] = [erlangNodesCommand, erlangEvalCommand];
