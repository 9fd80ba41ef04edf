/**
 * A tracing session on one node: the agent's tracer process (bathysphere_tracer) plus
 * the mailbox its event batches arrive in. The VS Code layer and the CLI drive it:
 * explore / listen / stopTracing deepen or end tracing per process; `events` batches
 * (sorted by the trace's own timestamps) and `overload` notifications come back.
 *
 * The tracer is started through the agent's owner, so it stops, and clears every trace
 * flag it set, when the client disconnects; closing this session stops it too.
 */
import { EventEmitter } from 'node:events';
import type { ErlangAgent } from './agent';
import type { ErlangConnection } from './connection';
import { AgentError, ErlangError } from './errors';
import { formatTerm } from './format';
import type { Mailbox } from './mailbox';
import { Atom, ErlMap, Pid, Tuple, atom, binary, isAtom, isTuple, type Term } from './terms';
import {
  TraceBatchReader,
  batchFromTerm,
  rememberPids,
  sortByTime,
  type TraceBatch,
} from './traceBatch';
import {
  TermNames,
  type ErlangTraceEvent,
  type OverloadEvent,
  type ProcessFacts,
} from './traceEvents';

/** The agent's bounds (bathysphere_limits:defaults/0); unset ones keep the agent's default. */
export interface TraceLimits {
  /** Trace messages waiting in the tracer before the noisiest level goes off (20,000). */
  maxQueue: number;
  /** Events per second recorded one by one, node-wide (50,000) and per process (5,000). */
  nodeEventsPerSecond: number;
  processEventsPerSecond: number;
  /** Tracer heap plus batches waiting for us, bytes (64 MiB). */
  maxMemoryBytes: number;
  /** Printed message bodies and exit reasons: characters (200) and ~P depth (10). */
  maxPrintChars: number;
  printDepth: number;
  /** Bodies of at most this many bytes (external format) travel as terms, printed here (512). */
  maxRawBytes: number;
  /** Tracing stops by itself after this long (30 min). */
  maxDurationMs: number;
  /** Events kept while we are slower than the node, then dropped and counted (200,000). */
  maxBufferedEvents: number;
  maxIsland: number;
  maxMentioned: number;
  batchEvents: number;
  batchIntervalMs: number;
  tracePorts: boolean;
  pollIntervalMs: number;
  etsSizeIntervalMs: number;
}

const LIMIT_KEYS: Record<keyof TraceLimits, string> = {
  maxQueue: 'max_queue',
  nodeEventsPerSecond: 'node_events_per_second',
  processEventsPerSecond: 'process_events_per_second',
  maxMemoryBytes: 'max_memory',
  maxPrintChars: 'max_print_chars',
  printDepth: 'print_depth',
  maxRawBytes: 'max_raw_bytes',
  maxDurationMs: 'max_duration_ms',
  maxBufferedEvents: 'max_buffered_events',
  maxIsland: 'max_island',
  maxMentioned: 'max_mentioned',
  batchEvents: 'batch_events',
  batchIntervalMs: 'batch_interval_ms',
  tracePorts: 'trace_ports',
  pollIntervalMs: 'poll_interval_ms',
  etsSizeIntervalMs: 'ets_size_interval_ms',
};

export interface BatchInfo {
  /** The tracer's batch number (1, 2, ...). */
  seq: number;
  /**
   * Events the agent dropped and counted so far (cumulative): because we were too slow, or
   * because they arrived while an overload switched their level off.
   */
  droppedByAgent: number;
}

export interface TraceSessionEvents {
  /** A batch of events, sorted by timestamp. */
  events: [events: ErlangTraceEvent[], info: BatchInfo];
  /** A bound tripped on the node and a tracing level was switched off. */
  overload: [event: OverloadEvent];
  /** The tracer is gone (closed by us, client disconnected, crashed, or max duration). */
  closed: [reason: string];
}

/** What the details panel shows about a process (process_info plus OTP facts). */
export interface ProcessDetails {
  pid: string;
  currentFunction?: string;
  status: string;
  messageQueueLength: number;
  memory: number;
  reductions: number;
  links: string[];
  monitors: string[];
  monitoredBy: string[];
  registeredName?: string;
  trapExit: boolean;
  initialCall?: string;
  application?: string;
  /** The dictionary's OTP keys only ($ancestors, $initial_call, ...), printed. */
  otpDictionary: Record<string, string>;
  facts: ProcessFacts;
}

export interface TraceStatus {
  backend: string;
  island: number;
  listened: string[];
  roots: string[];
  queue: number;
  memory: number;
  recorded: number;
  summarised: number;
  dropped: number;
  outsideIsland: number;
  overloads: number;
  buffered: number;
}

export interface ProcessListEntry {
  pid: string;
  registeredName?: string;
  initialCall: string;
}

/** A pid, a registered name, or a pid's text (`<0.85.0>`). */
export type ProcessTarget = Pid | string;

export class TraceTargetError extends ErlangError {
  constructor(target: string, node: string) {
    super('agent', `no process '${target}' on ${node}`);
  }
}

export class ErlangTraceSession extends EventEmitter<TraceSessionEvents> {
  readonly names: TermNames;
  /** Pids seen in events by their text, so callers can pass text back. */
  private readonly pids = new Map<string, Pid>();
  private readonly batchReader: TraceBatchReader;
  private closing = false;
  private closedReason: string | undefined;
  eventsReceived = 0;
  droppedByAgent = 0;

  private constructor(
    private readonly conn: ErlangConnection,
    /** The tracer process on the node. */
    readonly tracer: Pid,
    private readonly mailbox: Mailbox,
  ) {
    super();
    this.names = new TermNames(conn.node);
    this.batchReader = new TraceBatchReader(this.names, this.pids);
    mailbox.setHandler((message) => this.onMessage(message));
    mailbox.setRawHandler((bytes, offset, end, decode) => {
      const batch = this.batchReader.read(bytes, offset, end);
      if (batch) this.onBatch(batch);
      else this.onMessage(decode());
    });
    const watch = conn.monitor(tracer);
    watch.down.then(
      (reason) => this.onClosed(`tracer stopped: ${formatTerm(reason)}`),
      () => undefined,
    );
    conn.once('close', (reason) => this.onClosed(`connection closed: ${reason}`));
  }

  /** Starts a tracer on the node (the agent must be injected). */
  static async start(
    conn: ErlangConnection,
    agent: ErlangAgent,
    limits: Partial<TraceLimits> = {},
  ): Promise<ErlangTraceSession> {
    const mailbox = conn.createMailbox();
    try {
      const tracer = await agent.startChild('bathysphere_tracer', 'init', [
        mailbox.pid,
        limitsTerm(limits),
      ]);
      const session = new ErlangTraceSession(conn, tracer, mailbox);
      session.names.maxPrintChars = limits.maxPrintChars ?? session.names.maxPrintChars;
      return session;
    } catch (e) {
      mailbox.close();
      throw e;
    }
  }

  get node(): string {
    return this.conn.node;
  }

  get isOpen(): boolean {
    return this.closedReason === undefined;
  }

  /** Traces the process and its island; returns its pid's text. */
  async explore(target: ProcessTarget): Promise<string> {
    const pid = await this.resolve(target);
    await this.command(new Tuple([atom('explore'), pid]));
    return this.names.of(pid);
  }

  /** Records what the process sends as well (and explores it). */
  async listen(target: ProcessTarget): Promise<string> {
    const pid = await this.resolve(target);
    await this.command(new Tuple([atom('listen'), pid]));
    return this.names.of(pid);
  }

  /** Stops tracing the process (and its island, if it was a chosen one). */
  async stopTracing(target: ProcessTarget): Promise<void> {
    const pid = await this.resolve(target);
    await this.command(new Tuple([atom('stop'), pid]));
  }

  /** Tells the agent about processes the session has heard of; it reports their deaths. */
  async mention(targets: ProcessTarget[]): Promise<void> {
    const pids = targets
      .map((t) => (t instanceof Pid ? t : this.pids.get(t)))
      .filter((p): p is Pid => p !== undefined);
    if (pids.length > 0) await this.command(new Tuple([atom('mention'), pids]));
  }

  async setLimits(limits: Partial<TraceLimits>): Promise<void> {
    await this.command(new Tuple([atom('limits'), limitsTerm(limits)]));
    this.names.maxPrintChars = limits.maxPrintChars ?? this.names.maxPrintChars;
  }

  /**
   * The tracer's counters. It answers after every message queued before the question, so
   * a busy tracer can take a while: `timeoutMs` bounds the wait (AgentError after it).
   */
  async status(timeoutMs = 5000): Promise<TraceStatus> {
    const reply = await this.call(atom('status'), timeoutMs);
    if (!(reply instanceof ErlMap))
      throw new AgentError(`the tracer did not report its status: ${formatTerm(reply)}`);
    const map = reply;
    const field = (key: string) => map.get(Atom.of(key));
    const count = (key: string) => Number(field(key) ?? 0);
    const list = (key: string) => {
      const value = field(key);
      return Array.isArray(value) ? value.map((p) => this.names.of(p)) : [];
    };
    return {
      backend: String(field('backend') ?? ''),
      island: count('island'),
      listened: list('listened'),
      roots: list('roots'),
      queue: count('queue'),
      memory: count('memory'),
      recorded: count('recorded'),
      summarised: count('summarised'),
      dropped: count('dropped'),
      outsideIsland: count('outside_island'),
      overloads: count('overloads'),
      buffered: count('buffered'),
    };
  }

  /** process_info plus OTP facts; undefined when the process is gone. */
  async processInfo(target: ProcessTarget): Promise<ProcessDetails | undefined> {
    const pid = await this.resolve(target);
    const reply = await this.conn.rpc('bathysphere_info', 'process_details', [pid]);
    if (!(reply instanceof ErlMap)) return undefined;
    const details = toProcessDetails(this.names.of(pid), reply, this.names);
    const heardOf = [...details.links, ...details.monitors, ...details.monitoredBy];
    rememberPids(reply, this.pids, this.names);
    await this.mention(heardOf).catch(() => undefined);
    return details;
  }

  async garbageCollect(target: ProcessTarget): Promise<boolean> {
    const pid = await this.resolve(target);
    return isAtom(await this.conn.rpc('bathysphere_info', 'garbage_collect', [pid]), 'true');
  }

  async kill(target: ProcessTarget): Promise<void> {
    const pid = await this.resolve(target);
    await this.conn.rpc('bathysphere_info', 'kill', [pid]);
  }

  /** Up to `max` processes of the node (they become mentioned). */
  async listProcesses(max = 5000): Promise<ProcessListEntry[]> {
    const reply = await this.conn.rpc('bathysphere_info', 'process_list', [max]);
    if (!Array.isArray(reply)) return [];
    const entries = reply.filter((t): t is Tuple => isTuple(t, 3));
    const pids = entries.map((t) => t.elements[0] as Pid);
    for (const pid of pids) this.pids.set(this.names.of(pid), pid);
    await this.mention(pids);
    return entries.map(({ elements: [pid, name, call] }) => ({
      pid: this.names.of(pid),
      registeredName: Array.isArray(name) ? undefined : this.names.of(name),
      initialCall: mfa(call),
    }));
  }

  /** Stops all tracing, ends the tracer, and closes our mailbox. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.conn.isOpen && this.isOpen) {
      await this.call(atom('stop_all')).catch(() => undefined);
      await this.conn.rpc('erlang', 'exit', [this.tracer, atom('shutdown')]).catch(() => undefined);
    }
    // Let the last batch (with the 'stopped' event) arrive before closing the mailbox.
    await new Promise((resolve) => setTimeout(resolve, 150));
    this.mailbox.close();
    this.onClosed('closed by us');
  }

  // ------------------------------------------------------------ internals

  private async resolve(target: ProcessTarget): Promise<Pid> {
    if (target instanceof Pid) return target;
    const known = this.pids.get(target);
    if (known) return known;
    const reply = await this.conn.rpc('bathysphere_info', 'resolve', [binary(target)]);
    if (!(reply instanceof Pid)) throw new TraceTargetError(target, this.conn.node);
    this.pids.set(this.names.of(reply), reply);
    return reply;
  }

  private async command(command: Term): Promise<void> {
    const reply = await this.call(command);
    if (!isAtom(reply, 'ok'))
      throw new AgentError(`the tracer refused ${formatTerm(command)}: ${formatTerm(reply)}`);
  }

  private call(command: Term, timeoutMs = 5000): Promise<Term> {
    return this.conn.rpc('bathysphere_tracer', 'call', [this.tracer, command, timeoutMs], {
      timeoutMs: timeoutMs + 10_000,
    });
  }

  private onMessage(message: Term): void {
    const batch = batchFromTerm(message, this.pids, this.names);
    if (batch) this.onBatch(batch);
  }

  private onBatch({ seq, dropped, events }: TraceBatch): void {
    sortByTime(events);
    this.eventsReceived += events.length;
    this.droppedByAgent = dropped;
    this.emit('events', events, { seq, droppedByAgent: this.droppedByAgent });
    for (const event of events) if (event.kind === 'overload') this.emit('overload', event);
  }

  private onClosed(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.emit('closed', reason);
  }
}

export function limitsTerm(limits: Partial<TraceLimits>): ErlMap {
  const entries: Array<[Term, Term]> = [];
  for (const [key, value] of Object.entries(limits) as Array<[keyof TraceLimits, unknown]>) {
    if (value === undefined || !(key in LIMIT_KEYS)) continue;
    const term = typeof value === 'boolean' ? atom(String(value)) : Math.round(Number(value));
    entries.push([atom(LIMIT_KEYS[key]), term]);
  }
  return new ErlMap(entries);
}

function mfa(term: Term): string {
  if (isTuple(term, 3)) {
    const [m, f, a] = term.elements;
    return `${formatTerm(m)}:${formatTerm(f)}/${Array.isArray(a) ? a.length : formatTerm(a)}`;
  }
  return formatTerm(term);
}

function toProcessDetails(pid: string, map: ErlMap, names: TermNames): ProcessDetails {
  const field = (key: string) => map.get(Atom.of(key));
  const local = { localNode: names.localNode };
  // links are pids/ports; monitors are {process, Pid | {Name, Node}} or {port, Port}.
  const pidList = (key: string): string[] => {
    const value = field(key);
    if (!Array.isArray(value)) return [];
    return value.map((item) => names.of(isTuple(item, 2) ? item.elements[1] : item));
  };
  const dictionary = new Map<string, Term>();
  const dict = field('dictionary');
  if (Array.isArray(dict))
    for (const entry of dict)
      if (isTuple(entry, 2)) dictionary.set(formatTerm(entry.elements[0]), entry.elements[1]);
  const optionalName = (term: Term | undefined) =>
    term === undefined || Array.isArray(term) || isAtom(term, 'undefined')
      ? undefined
      : names.of(term);
  const initial = dictionary.get("'$initial_call'") ?? field('initial_call');
  const ancestors = dictionary.get("'$ancestors'");
  const current = field('current_function');
  const trapExit = isAtom(field('trap_exit'), 'true');
  const facts: ProcessFacts = {
    registeredName: optionalName(field('registered_name')),
    trapExit,
    ancestors: Array.isArray(ancestors) ? ancestors.map((a) => names.of(a)) : [],
    initialCall: initial === undefined ? undefined : mfa(initial),
    application: optionalName(field('application')),
  };
  return {
    pid,
    currentFunction: current === undefined ? undefined : mfa(current),
    status: formatTerm(field('status') ?? atom('unknown')),
    messageQueueLength: Number(field('message_queue_len') ?? 0),
    memory: Number(field('memory') ?? 0),
    reductions: Number(field('reductions') ?? 0),
    links: pidList('links'),
    monitors: pidList('monitors'),
    monitoredBy: pidList('monitored_by'),
    registeredName: facts.registeredName,
    trapExit,
    initialCall: facts.initialCall,
    application: facts.application,
    otpDictionary: Object.fromEntries(
      [...dictionary].map(([key, value]) => [key, formatTerm(value, local)]),
    ),
    facts,
  };
}
