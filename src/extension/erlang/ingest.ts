/**
 * Writes trace events into a session: every event into erlang_event_chunks (which SQL reads
 * as the erlang_events view), and the state they imply into the materialised tables
 * (processes, links, monitors, message counts, ports, ETS tables) so the process map
 * queries rows instead of replaying events.
 *
 * The state lives in memory too (one run is one ingest), so a batch costs one transaction
 * with multi-row statements: each touched row is written once per batch. Rows carry the
 * batch number that last changed them (`changed`), which is what processGraphDelta reads.
 */
import type { SessionStore } from '../store/sessionStore';
import { ChunkEncoder, EVENTS_PER_CHUNK } from './eventChunks';
import { PidSet } from './pidSet';
import type { ErlangTraceEvent } from './traceEvents';

type Level = 'mentioned' | 'explored' | 'listened';

interface ProcessRow {
  pid: string;
  level: Level;
  chosen: boolean;
  boundary: boolean;
  state: 'alive' | 'dead';
  exitReason: string | null;
  registeredName: string | null;
  initialCall: string | null;
  parent: string | null;
  ancestors: string[];
  application: string | null;
  trapExit: boolean | null;
  firstTs: number;
  spawnedTs: number | null;
  exitedTs: number | null;
}

interface LinkRow {
  a: string;
  b: string;
  active: boolean;
  since: number;
  until: number | null;
  /** Whether a batch has written the row (a link that ends in its first batch never is). */
  stored: boolean;
}

interface MonitorRow {
  watcher: string;
  target: string;
  active: boolean;
  ts: number;
}

interface MessageRow {
  sender: string;
  receiver: string;
  messages: number;
  bytes: number;
  summarised: number;
  firstTs: number;
  lastTs: number;
}

interface PortRow {
  port: string;
  name: string | null;
  owner: string | null;
  open: boolean;
  closeReason: string | null;
  firstTs: number;
  closedTs: number | null;
}

interface TableRow {
  table: string;
  name: string | null;
  owner: string | null;
  heir: string | null;
  type: string | null;
  protection: string | null;
  size: number | null;
  memory: number | null;
  live: boolean;
  firstTs: number;
  deletedTs: number | null;
}

/** An erlang_processes row as SQL gives it. */
interface StoredProcess {
  level: Level;
  chosen: number;
  boundary: number;
  state: 'alive' | 'dead';
  exit_reason: string | null;
  registered_name: string | null;
  initial_call: string | null;
  parent: string | null;
  ancestors: string;
  application: string | null;
  trap_exit: number | null;
  first_ts_us: number;
  spawned_ts_us: number | null;
  exited_ts_us: number | null;
}

type SqlValue = string | number | null;

/**
 * The chunk's JSON is bound as UTF-8 bytes and cast back to TEXT: sql.js encodes a bound
 * string a character at a time in JavaScript, which cost more than the rest of the insert.
 */
const CHUNK_INSERT = 'INSERT INTO erlang_event_chunks VALUES (?, ?, ?, ?, ?, ?, CAST(? AS TEXT))';

export class ErlangIngest {
  private seq = 0;
  private readonly chunkEncoder = new ChunkEncoder();
  /** Batch number; rows record the batch that last changed them. */
  private version = 0;
  /** Every process but the dead ones whose row is written (see commit). */
  private readonly processes = new Map<string, ProcessRow>();
  /** Dead processes forgotten in memory; a late event about one reloads its row. */
  private readonly forgotten = new PidSet();
  /**
   * Each process's active links by the other end (both ends hold the row), looked up by pid
   * then pid, so no pair key is made per event. Active links only: an ended link is written
   * and forgotten (a new link between the same pair makes the same row again), so a churning
   * node does not fill memory with dead ones.
   */
  private readonly links = new Map<string, Map<string, LinkRow>>();
  private readonly monitors = new Map<string, MonitorRow>();
  private readonly messages = new Map<string, MessageRow>();
  private readonly ports = new Map<string, PortRow>();
  private readonly tables = new Map<string, TableRow>();
  private readonly dirty = {
    processes: new Set<ProcessRow>(),
    links: new Set<LinkRow>(),
    monitors: new Set<MonitorRow>(),
    messages: new Set<MessageRow>(),
    ports: new Set<PortRow>(),
    tables: new Set<TableRow>(),
  };
  /** Events written so far. */
  eventCount = 0;

  constructor(
    private readonly store: SessionStore,
    readonly runId: number,
  ) {}

  /** The batch number of the last ingest (pass it to processGraphDelta later). */
  get currentVersion(): number {
    return this.version;
  }

  /** Counts by level and state, for summaries. */
  processCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    const rows = this.store.query<{ level: string; state: string; n: number }>(
      'SELECT level, state, count(*) AS n FROM erlang_processes WHERE run_id = ? GROUP BY level, state',
      [this.runId],
    );
    for (const { level, state, n } of rows) {
      counts[level] = (counts[level] ?? 0) + n;
      if (state === 'dead') counts.dead = (counts.dead ?? 0) + n;
    }
    return counts;
  }

  /** Stores one batch (already sorted by time) in one transaction. */
  ingest(events: readonly ErlangTraceEvent[]): void {
    if (events.length === 0) return;
    this.version += 1;
    for (const event of events) this.apply(event);
    this.commit(events);
    this.eventCount += events.length;
  }

  /** Marks processes as heard of (process list, process_info results). */
  mention(pids: readonly string[], ts: number): void {
    this.version += 1;
    for (const pid of pids) if (pid.startsWith('<')) this.process(pid, ts);
    this.commit([]);
  }

  /**
   * Writes the events and every changed row in one transaction. Then the dead processes just
   * written leave memory: their rows are final unless a late event names one, and a node
   * that spawns and reaps processes for hours would otherwise fill the host with them. Their
   * pids are kept (compactly) so that a late event reloads the row instead of starting anew.
   */
  private commit(events: readonly ErlangTraceEvent[]): void {
    const dead = [...this.dirty.processes].filter((row) => row.state === 'dead');
    this.store.transaction(() => {
      this.writeEvents(events);
      this.writeDirtyRows();
    });
    for (const row of dead) {
      this.processes.delete(row.pid);
      this.forgotten.add(row.pid);
    }
  }

  // ------------------------------------------------------------ state

  private process(pid: string, ts: number): ProcessRow {
    let row = this.processes.get(pid);
    if (!row && this.forgotten.has(pid)) row = this.reload(pid);
    if (!row) {
      row = {
        pid,
        level: 'mentioned',
        chosen: false,
        boundary: false,
        state: 'alive',
        exitReason: null,
        registeredName: null,
        initialCall: null,
        parent: null,
        ancestors: [],
        application: null,
        trapExit: null,
        firstTs: ts,
        spawnedTs: null,
        exitedTs: null,
      };
      this.processes.set(pid, row);
    }
    this.dirty.processes.add(row);
    return row;
  }

  /** The stored row of a forgotten dead process, back in memory until it is written again. */
  private reload(pid: string): ProcessRow | undefined {
    const [stored] = this.store.query<StoredProcess>(
      'SELECT * FROM erlang_processes WHERE run_id = ? AND pid = ?',
      [this.runId, pid],
    );
    if (!stored) return undefined;
    const row: ProcessRow = {
      pid,
      level: stored.level,
      chosen: stored.chosen === 1,
      boundary: stored.boundary === 1,
      state: stored.state,
      exitReason: stored.exit_reason,
      registeredName: stored.registered_name,
      initialCall: stored.initial_call,
      parent: stored.parent,
      ancestors: JSON.parse(stored.ancestors) as string[],
      application: stored.application,
      trapExit: stored.trap_exit === null ? null : stored.trap_exit === 1,
      firstTs: stored.first_ts_us,
      spawnedTs: stored.spawned_ts_us,
      exitedTs: stored.exited_ts_us,
    };
    this.processes.set(pid, row);
    return row;
  }

  private setLevel(row: ProcessRow, level: Level): void {
    if (row.state === 'dead') return;
    row.level = level;
  }

  private link(a: string, b: string, active: boolean, ts: number): void {
    if (!a.startsWith('<') || !b.startsWith('<') || a === b) return;
    const x = a < b ? a : b;
    const y = a < b ? b : a;
    const row = this.links.get(x)?.get(y);
    if (active) {
      if (row) return;
      const started: LinkRow = {
        a: x,
        b: y,
        active: true,
        since: ts,
        until: null,
        stored: false,
      };
      this.linksOf(x).set(y, started);
      this.linksOf(y).set(x, started);
      this.dirty.links.add(started);
    } else {
      if (!row) return;
      this.endLink(row, ts);
    }
    this.process(x, ts);
    this.process(y, ts);
  }

  /**
   * Marks an active link ended and forgets it. Its row is written with this batch, as the
   * map's deltas need to see it go, unless no batch wrote it: a link that began and ended
   * between two batches (as every child's of a spawn/exit churn) was never on the map and is
   * left to the events, which saved a third of the rows written on the churn.
   */
  private endLink(row: LinkRow, ts: number): void {
    row.active = false;
    row.until = ts;
    if (row.stored) this.dirty.links.add(row);
    else this.dirty.links.delete(row);
    this.unlinkEnd(row.a, row.b);
    this.unlinkEnd(row.b, row.a);
  }

  private unlinkEnd(pid: string, other: string): void {
    const ends = this.links.get(pid);
    if (!ends) return;
    ends.delete(other);
    if (ends.size === 0) this.links.delete(pid);
  }

  private linksOf(pid: string): Map<string, LinkRow> {
    let ends = this.links.get(pid);
    if (!ends) this.links.set(pid, (ends = new Map()));
    return ends;
  }

  private message(sender: string, receiver: string, count: number, bytes: number, ts: number) {
    const key = `${sender} ${receiver}`;
    let row = this.messages.get(key);
    if (!row) {
      row = { sender, receiver, messages: 0, bytes: 0, summarised: 0, firstTs: ts, lastTs: ts };
      this.messages.set(key, row);
    }
    row.messages += count;
    row.bytes += bytes;
    row.lastTs = ts;
    this.dirty.messages.add(row);
    return row;
  }

  private port(port: string, ts: number): PortRow {
    let row = this.ports.get(port);
    if (!row) {
      row = {
        port,
        name: null,
        owner: null,
        open: true,
        closeReason: null,
        firstTs: ts,
        closedTs: null,
      };
      this.ports.set(port, row);
    }
    this.dirty.ports.add(row);
    return row;
  }

  private table(table: string, ts: number): TableRow {
    let row = this.tables.get(table);
    if (!row) {
      row = {
        table,
        name: null,
        owner: null,
        heir: null,
        type: null,
        protection: null,
        size: null,
        memory: null,
        live: true,
        firstTs: ts,
        deletedTs: null,
      };
      this.tables.set(table, row);
    }
    this.dirty.tables.add(row);
    return row;
  }

  private apply(e: ErlangTraceEvent): void {
    switch (e.kind) {
      case 'spawn': {
        this.process(e.pid, e.ts);
        const child = this.process(e.child, e.ts);
        child.parent = e.pid;
        child.spawnedTs = e.ts;
        child.initialCall ??= e.mfa;
        this.setLevel(child, 'explored');
        return;
      }
      case 'exit':
        return this.died(e.pid, e.ts, e.reason);
      case 'gone':
        return this.died(e.pid, e.ts, null);
      case 'link':
      case 'getting_linked':
        return this.link(e.pid, e.other, true, e.ts);
      case 'unlink':
      case 'getting_unlinked':
        return this.link(e.pid, e.other, false, e.ts);
      case 'links':
        for (const other of e.links) this.link(e.pid, other, true, e.ts);
        return;
      case 'register':
      case 'name_up':
        if (e.pid.startsWith('<')) this.process(e.pid, e.ts).registeredName = e.name;
        return;
      case 'unregister':
      case 'name_down':
        return this.unregistered(e.pid, e.name, e.ts);
      case 'island':
        return this.islandChange(e.pid, e.change, e.ts);
      case 'level':
        return this.levelChange(e.pid, e.level, e.ts);
      case 'facts':
        return this.facts(e);
      case 'monitors':
        return this.monitorsOf(e.pid, e.monitors, e.monitoredBy, e.ts);
      case 'send':
      case 'send_to_dead':
        this.message(e.pid, e.to, 1, e.bytes, e.ts);
        this.process(e.pid, e.ts);
        if (e.to.startsWith('<')) this.process(e.to, e.ts);
        return;
      case 'summary':
        return this.summary(e);
      case 'overload':
        return this.overload(e.switchedOff);
      default:
        return this.applyResource(e);
    }
  }

  private applyResource(e: ErlangTraceEvent): void {
    switch (e.kind) {
      case 'port_open':
      case 'port_seen': {
        const row = this.port(e.port, e.ts);
        row.name = e.name;
        row.owner = e.owner;
        return;
      }
      case 'port_owner':
        this.port(e.port, e.ts).owner = e.owner;
        return;
      case 'port_closed': {
        const row = this.port(e.port, e.ts);
        row.open = false;
        row.closeReason = e.reason;
        row.closedTs = e.ts;
        return;
      }
      case 'ets_new':
        Object.assign(this.table(e.table, e.ts), {
          name: e.name,
          owner: e.owner,
          heir: e.heir,
          type: e.type,
          protection: e.protection,
          size: e.size,
          memory: e.memory,
        });
        return;
      case 'ets_owner':
        Object.assign(this.table(e.table, e.ts), { owner: e.owner, heir: e.heir });
        return;
      case 'ets_size':
        Object.assign(this.table(e.table, e.ts), { size: e.size, memory: e.memory });
        return;
      case 'ets_delete':
        Object.assign(this.table(e.table, e.ts), { live: false, deletedTs: e.ts });
        return;
      default:
        return;
    }
  }

  private died(pid: string, ts: number, reason: string | null): void {
    const row = this.process(pid, ts);
    if (row.state === 'dead') return;
    row.state = 'dead';
    row.exitReason = reason;
    row.exitedTs = ts;
    // A dead process has no links left; the rows stay, marked ended.
    for (const row of [...(this.links.get(pid)?.values() ?? [])]) this.endLink(row, ts);
  }

  private unregistered(pid: string, name: string, ts: number): void {
    if (!pid.startsWith('<')) return;
    const row = this.process(pid, ts);
    if (row.registeredName === name) row.registeredName = null;
  }

  private islandChange(pid: string, change: string, ts: number): void {
    const row = this.process(pid, ts);
    if (change === 'joined') {
      row.boundary = false;
      if (row.level === 'mentioned') this.setLevel(row, 'explored');
    } else {
      row.boundary = change === 'boundary';
      this.setLevel(row, 'mentioned');
    }
  }

  private levelChange(pid: string, level: string, ts: number): void {
    const row = this.process(pid, ts);
    if (level === 'chosen') {
      row.chosen = true;
      if (row.level === 'mentioned') this.setLevel(row, 'explored');
    } else if (level === 'listened') {
      this.setLevel(row, 'listened');
    } else if (level === 'stopped') {
      row.chosen = false;
      this.setLevel(row, 'mentioned');
    }
  }

  private facts(e: Extract<ErlangTraceEvent, { kind: 'facts' }>): void {
    const row = this.process(e.pid, e.ts);
    row.registeredName = e.facts.registeredName ?? row.registeredName;
    row.initialCall = e.facts.initialCall ?? row.initialCall;
    row.ancestors = e.facts.ancestors;
    row.application = e.facts.application ?? null;
    row.trapExit = e.facts.trapExit ?? null;
  }

  private monitorsOf(pid: string, targets: string[], watchers: string[], ts: number): void {
    this.process(pid, ts);
    const pairs = [
      ...targets.map((target) => [pid, target] as const),
      ...watchers.map((watcher) => [watcher, pid] as const),
    ];
    for (const [watcher, target] of pairs) {
      const key = `${watcher} ${target}`;
      let row = this.monitors.get(key);
      if (!row) this.monitors.set(key, (row = { watcher, target, active: true, ts }));
      row.active = true;
      this.dirty.monitors.add(row);
      if (watcher.startsWith('<')) this.process(watcher, ts);
      if (target.startsWith('<')) this.process(target, ts);
    }
  }

  private summary(e: Extract<ErlangTraceEvent, { kind: 'summary' }>): void {
    this.process(e.pid, e.ts);
    const total = e.peers.reduce((sum, p) => sum + p.count, 0) || 1;
    for (const { peer, count } of e.peers) {
      const bytes = Math.round((e.bytes * count) / total);
      this.message(e.pid, peer, count, bytes, e.untilTs).summarised += count;
    }
  }

  /** A bound switched a level off on the node: processes drop to the level below. */
  private overload(switchedOff: string): void {
    const from: Level[] =
      switchedOff === 'listened'
        ? ['listened']
        : switchedOff === 'explored'
          ? ['listened', 'explored']
          : [];
    if (from.length === 0) return;
    const to: Level = switchedOff === 'listened' ? 'explored' : 'mentioned';
    for (const row of this.processes.values())
      if (from.includes(row.level) && row.state === 'alive') {
        row.level = to;
        this.dirty.processes.add(row);
      }
  }

  // ------------------------------------------------------------ writing

  /**
   * Events go into erlang_event_chunks, a row per up to EVENTS_PER_CHUNK events: one row
   * per event cost about 5 us of SQLite work each, a chunk row costs about as much as one
   * event's JSON. A batch is split into chunks of equal size, each sorted as the batch is.
   */
  private writeEvents(events: readonly ErlangTraceEvent[]): void {
    if (events.length === 0) return;
    const chunks = Math.ceil(events.length / EVENTS_PER_CHUNK);
    const size = Math.ceil(events.length / chunks);
    for (let start = 0; start < events.length; start += size) {
      const chunk = this.chunkEncoder.encode(
        events,
        start,
        Math.min(start + size, events.length),
        this.seq,
      );
      this.seq = chunk.lastSeq;
      this.store.query(CHUNK_INSERT, [
        this.runId,
        chunk.firstSeq,
        chunk.lastSeq,
        chunk.count,
        chunk.minTs,
        chunk.maxTs,
        chunk.json,
      ]);
    }
  }

  private writeDirtyRows(): void {
    const { runId, version } = this;
    const d = this.dirty;
    this.writeRows('erlang_processes', 17, d.processes, (p) => [
      runId,
      p.pid,
      p.level,
      p.chosen ? 1 : 0,
      p.boundary ? 1 : 0,
      p.state,
      p.exitReason,
      p.registeredName,
      p.initialCall,
      p.parent,
      JSON.stringify(p.ancestors),
      p.application,
      p.trapExit === null ? null : p.trapExit ? 1 : 0,
      p.firstTs,
      p.spawnedTs,
      p.exitedTs,
      version,
    ]);
    this.writeRows('erlang_links', 7, d.links, (l) => [
      runId,
      l.a,
      l.b,
      l.active ? 1 : 0,
      l.since,
      l.until,
      version,
    ]);
    for (const link of d.links) link.stored = true;
    this.writeRows('erlang_monitors', 6, d.monitors, (m) => [
      runId,
      m.watcher,
      m.target,
      m.active ? 1 : 0,
      m.ts,
      version,
    ]);
    this.writeRows('erlang_messages', 9, d.messages, (m) => [
      runId,
      m.sender,
      m.receiver,
      m.messages,
      m.bytes,
      m.summarised,
      m.firstTs,
      m.lastTs,
      version,
    ]);
    this.writeRows('erlang_ports', 8, d.ports, (p) => [
      runId,
      p.port,
      p.name,
      p.owner,
      p.open ? 'open' : 'closed',
      p.closeReason,
      p.firstTs,
      p.closedTs,
    ]);
    this.writeRows('erlang_ets_tables', 12, d.tables, (t) => [
      runId,
      t.table,
      t.name,
      t.owner,
      t.heir,
      t.type,
      t.protection,
      t.size,
      t.memory,
      t.live ? 'live' : 'deleted',
      t.firstTs,
      t.deletedTs,
    ]);
    for (const set of Object.values(d)) set.clear();
  }

  /** Writes each row of `rows` (a batch's dirty rows of one table) in place of its old version. */
  private writeRows<T>(
    table: string,
    columns: number,
    rows: Set<T>,
    values: (row: T) => SqlValue[],
  ) {
    if (rows.size === 0) return;
    const sql = `INSERT OR REPLACE INTO ${table} VALUES (${new Array<string>(columns).fill('?').join(',')})`;
    this.store.runForEach(sql, mapped(rows, values));
  }
}

function* mapped<T, U>(items: Iterable<T>, map: (item: T) => U): Iterable<U> {
  for (const item of items) yield map(item);
}
