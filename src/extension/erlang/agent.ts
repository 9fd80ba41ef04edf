/**
 * Puts Bathysphere's agent modules into a target node and takes them out again.
 *
 * inject: if the node already runs the current agent version, reuse it (this also
 * covers a node that restarted: the check runs on every connect). Otherwise load
 * the shipped BEAM files with code:load_binary; if the node rejects them (a BEAM
 * from a newer OTP, a missing file), compile the shipped source on the node.
 * remove: stop our owner process (which kills what it started), then delete and
 * purge the modules unless another client's owner still uses them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ErlangConnection } from './connection';
import { AgentError, BadRpcError } from './errors';
import { evalOnNode } from './eval';
import { formatTerm } from './format';
import type { Mailbox } from './mailbox';
import { Pid, atom, binary, charlist, isAtom, isTuple, textOf, type Term } from './terms';

/** Must equal bathysphere_agent:version/0 in agents/erlang/src/bathysphere_agent.erl. */
export const AGENT_VERSION = '0.3.0';
/** Loaded in this order; the first one carries version/0. */
export const AGENT_MODULES = [
  'bathysphere_agent',
  'bathysphere_info',
  'bathysphere_trace_api',
  'bathysphere_limits',
  'bathysphere_event',
  'bathysphere_island',
  'bathysphere_tracer',
  'bathysphere_watch',
] as const;

export interface AgentPaths {
  ebinDir: string;
  srcDir: string;
}

/**
 * Where the agent files are under `baseDir`: the repository root in tests and
 * development, the extension's install directory when bundled (the package must
 * ship agents/erlang/ebin and agents/erlang/src).
 */
export function resolveErlangAgentPaths(baseDir: string): AgentPaths {
  const root = path.join(baseDir, 'agents', 'erlang');
  return { ebinDir: path.join(root, 'ebin'), srcDir: path.join(root, 'src') };
}

export type LoadMethod = 'already-loaded' | 'beam' | 'source';

export interface InjectOptions {
  /** Directory that holds agents/erlang (see resolveErlangAgentPaths). */
  baseDir: string;
  /** Skip the BEAM files and compile from source (for tests and odd targets). */
  forceSource?: boolean;
}

export interface RemoveResult {
  /** False when another client's agent still runs, so the modules stayed loaded. */
  modulesRemoved: boolean;
}

export class ErlangAgent {
  private removed = false;

  constructor(
    private readonly conn: ErlangConnection,
    /** The agent's owner process for this client. */
    readonly owner: Pid,
    /** Our mailbox the owner watches; closing it (or disconnecting) stops the owner. */
    private readonly clientMailbox: Mailbox,
    readonly loadMethod: LoadMethod,
  ) {}

  /** Runs M:F(A...) on the node as a process the agent kills when we go away. */
  async startChild(module: string, fun: string, args: Term[]): Promise<Pid> {
    const reply = await this.conn.rpc('bathysphere_agent', 'start_child', [
      this.owner,
      atom(module),
      atom(fun),
      args,
    ]);
    if (isTuple(reply, 2) && isAtom(reply.elements[0], 'ok') && reply.elements[1] instanceof Pid)
      return reply.elements[1];
    throw new AgentError(`agent could not start ${module}:${fun}: ${formatTerm(reply)}`);
  }

  async children(): Promise<Pid[]> {
    const reply = await this.conn.rpc('bathysphere_agent', 'children', [this.owner]);
    return Array.isArray(reply) ? reply.filter((p): p is Pid => p instanceof Pid) : [];
  }

  /** A map describing the node (OTP release, process count, memory...). */
  snapshot(): Promise<Term> {
    return this.conn.rpc('bathysphere_info', 'snapshot', []);
  }

  /**
   * Leaves the node as it was: our owner and its processes stopped, the agent
   * modules deleted and purged (unless another client's agent still runs).
   */
  async remove(): Promise<RemoveResult> {
    if (this.removed) return { modulesRemoved: false };
    this.removed = true;
    await this.conn.rpc('bathysphere_agent', 'stop', [this.owner]);
    this.clientMailbox.close();
    const others = await this.conn.rpc('bathysphere_agent', 'owners', []);
    if (Array.isArray(others) && others.length > 0) return { modulesRemoved: false };
    for (const module of AGENT_MODULES) {
      // purge drops old code, delete makes current code old, purge drops that too.
      await this.conn.rpc('code', 'purge', [atom(module)]);
      await this.conn.rpc('code', 'delete', [atom(module)]);
      await this.conn.rpc('code', 'purge', [atom(module)]);
    }
    return { modulesRemoved: true };
  }
}

/** Makes sure the current agent runs on the node and starts our owner process there. */
export async function injectAgent(
  conn: ErlangConnection,
  options: InjectOptions,
): Promise<ErlangAgent> {
  const paths = resolveErlangAgentPaths(options.baseDir);
  let loadMethod: LoadMethod = 'already-loaded';
  if (!(await hasCurrentAgent(conn))) {
    loadMethod = options.forceSource ? 'source' : await loadBeams(conn, paths);
    if (loadMethod === 'source') await compileFromSource(conn, paths);
    if (!(await hasCurrentAgent(conn)))
      throw new AgentError(
        `the agent loaded into ${conn.node} does not report version ${AGENT_VERSION}`,
      );
  }
  const mailbox = conn.createMailbox();
  const started = await conn.rpc('bathysphere_agent', 'start', [mailbox.pid]);
  if (
    !isTuple(started, 2) ||
    !isAtom(started.elements[0], 'ok') ||
    !(started.elements[1] instanceof Pid)
  ) {
    mailbox.close();
    throw new AgentError(`the agent on ${conn.node} did not start: ${formatTerm(started)}`);
  }
  return new ErlangAgent(conn, started.elements[1], mailbox, loadMethod);
}

/** True when every agent module is loaded and the agent reports our version. */
async function hasCurrentAgent(conn: ErlangConnection): Promise<boolean> {
  for (const module of AGENT_MODULES) {
    const loaded = await conn.rpc('code', 'is_loaded', [atom(module)]);
    if (!isTuple(loaded, 2)) return false;
  }
  try {
    const version = await conn.rpc('bathysphere_agent', 'version', []);
    return textOf(version) === AGENT_VERSION;
  } catch (e) {
    if (e instanceof BadRpcError) return false;
    throw e;
  }
}

/** 'beam' when every shipped BEAM loaded; 'source' when the node refused one. */
async function loadBeams(conn: ErlangConnection, paths: AgentPaths): Promise<LoadMethod> {
  for (const module of AGENT_MODULES) {
    const file = path.join(paths.ebinDir, `${module}.beam`);
    let beam: Buffer;
    try {
      beam = fs.readFileSync(file);
    } catch {
      return 'source';
    }
    await conn.rpc('code', 'purge', [atom(module)]);
    const result = await conn.rpc('code', 'load_binary', [atom(module), charlist(file), beam]);
    if (!(isTuple(result, 2) && isAtom(result.elements[0], 'module'))) return 'source';
  }
  return 'beam';
}

/**
 * Compiles each shipped .erl on the node: scan, split into forms at each dot,
 * parse, compile:forms, load. Needs the compiler application on the node.
 */
const COMPILE_ON_NODE = `
  {ok, Tokens, _} = erl_scan:string(unicode:characters_to_list(Src), 1),
  Split = fun Split([], [], Acc) -> lists:reverse(Acc);
              Split([{dot, _} = Dot | Rest], Form, Acc) -> Split(Rest, [], [lists:reverse([Dot | Form]) | Acc]);
              Split([Token | Rest], Form, Acc) -> Split(Rest, [Token | Form], Acc)
          end,
  Forms = [begin {ok, Form} = erl_parse:parse_form(Ts), Form end || Ts <- Split(Tokens, [], [])],
  case compile:forms(Forms, [binary, return_errors]) of
      {ok, Module, Beam} -> code:purge(Module), code:load_binary(Module, File, Beam);
      {ok, Module, Beam, _Warnings} -> code:purge(Module), code:load_binary(Module, File, Beam);
      Error -> Error
  end.`;

async function compileFromSource(conn: ErlangConnection, paths: AgentPaths): Promise<void> {
  for (const module of AGENT_MODULES) {
    const file = path.join(paths.srcDir, `${module}.erl`);
    let source: string;
    try {
      source = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new AgentError(`agent source ${file} is missing`, { cause: e });
    }
    let result: Term;
    try {
      result = await evalOnNode(conn, COMPILE_ON_NODE, {
        bindings: { Src: binary(source), File: charlist(file) },
        timeoutMs: 60_000,
      });
    } catch (e) {
      throw new AgentError(
        `could not compile the agent on ${conn.node} (is the compiler application installed there?): ${(e as Error).message}`,
        { cause: e },
      );
    }
    if (!(isTuple(result, 2) && isAtom(result.elements[0], 'module')))
      throw new AgentError(`compiling ${module} on ${conn.node} failed: ${formatTerm(result)}`);
  }
}
