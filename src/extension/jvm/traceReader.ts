// Reads a JVM run back from a session: steps by (thread, order), navigation (step over, next or
// previous execution of a line) and relations (invocation parent, control dominator, data
// dominators, earlier writes of a variable). A per-thread index of chunk boundaries lives in
// memory (a few numbers per 4096 steps) and a small LRU keeps recently decoded chunks, so a
// query costs a binary search plus at most a few chunk decodes.

import type { SessionStore } from '../store/sessionStore';
import { ACCESS_KINDS, decodeChunk, type DecodedChunk, type StoredAccessKind } from './chunkCodec';

export interface JvmStepRef {
  threadId: number;
  order: number;
}

export interface JvmStoredAccess {
  kind: StoredAccessKind;
  /** Local's source name, field name, `Class.field` for statics, `[i]` for array elements. */
  name: string;
  /** Fields and array elements: the object as `Type@id`. */
  owner?: string;
  value: string;
  /** Reads: the step that last wrote this variable; writes: the variable's previous write. */
  writer?: JvmStepRef;
}

export interface JvmStoredStep extends JvmStepRef {
  /** Decode order across the run's threads. */
  seq: number;
  locationId: number;
  className: string;
  sourceFile: string;
  method: string;
  methodDescriptor: string;
  line: number;
  depth: number;
  reads: JvmStoredAccess[];
  writes: JvmStoredAccess[];
  /** Orders in the same thread. */
  invocationParent: number | null;
  controlDominator: number | null;
  returnValue?: string;
  thrown?: string;
  caught?: string;
}

export interface JvmThreadSummary {
  threadId: number;
  name: string;
  isMain: boolean;
  steps: number;
}

/** A method as the agent declared it: its lines and its decisions (see JvmMethodInfo). */
export interface JvmStoredMethod {
  className: string;
  /** The source file name the class declares (`Main.java`), or ''. */
  sourceFile: string;
  name: string;
  /** Line number by line index. */
  lines: number[];
  /** Per decision: the line index of the branch and the line indices it controls. */
  branches: { lineIndex: number; controls: number[] }[];
}

export interface JvmLocation {
  locationId: number;
  methodId: number;
  className: string;
  sourceFile: string;
  method: string;
  methodDescriptor: string;
  line: number;
}

/** Step counts of a JVM run (for `bathysphere info`); undefined when the run has no steps table rows. */
export function jvmRunCounts(
  store: SessionStore,
  runId: number,
): { steps: number; threads: number } | undefined {
  const row = store.query<{ steps: number | null; threads: number }>(
    'SELECT sum(step_count) AS steps, count(*) AS threads FROM jvm_threads WHERE run_id = ?',
    [runId],
  )[0];
  return row.threads === 0 ? undefined : { steps: row.steps ?? 0, threads: row.threads };
}

interface ChunkIndex {
  firstOrders: number[];
  counts: number[];
  minDepths: number[];
}

const LRU_CHUNKS = 24;

export class JvmTraceReader {
  private readonly indexes = new Map<number, ChunkIndex>();
  private readonly cache = new Map<string, DecodedChunk>();
  private readonly names = new Map<number, string>();
  private readonly locations = new Map<number, JvmLocation>();

  constructor(
    private readonly store: SessionStore,
    readonly runId: number,
  ) {}

  threads(): JvmThreadSummary[] {
    return this.store
      .query<{ thread_id: number; name: string; is_main: number; step_count: number }>(
        'SELECT thread_id, name, is_main, step_count FROM jvm_threads WHERE run_id = ? ORDER BY thread_id',
        [this.runId],
      )
      .map((row) => ({
        threadId: row.thread_id,
        name: row.name,
        isMain: row.is_main === 1,
        steps: row.step_count,
      }));
  }

  /** The step with this order (1-based) in the thread, or undefined. */
  step(threadId: number, order: number): JvmStoredStep | undefined {
    const found = this.locate(threadId, order);
    return (
      found && this.materialise(threadId, found.chunk, found.firstOrder, order - found.firstOrder)
    );
  }

  /** Steps of a thread in order, chunk by chunk (streaming). */
  *threadSteps(threadId: number, fromOrder = 1): Generator<JvmStoredStep> {
    const index = this.index(threadId);
    for (let c = Math.max(0, this.chunkOf(index, fromOrder)); c < index.firstOrders.length; c++) {
      const firstOrder = index.firstOrders[c];
      const chunk = this.chunk(threadId, firstOrder);
      for (let i = Math.max(0, fromOrder - firstOrder); i < chunk.count; i++) {
        yield this.materialise(threadId, chunk, firstOrder, i);
      }
    }
  }

  /** Step over (forwards): the next step of the thread at the same or a shallower depth. */
  stepOver(threadId: number, order: number, direction: 'next' | 'previous'): number | undefined {
    const found = this.locate(threadId, order);
    if (!found) return undefined;
    const depth = found.chunk.depth[order - found.firstOrder];
    const index = this.index(threadId);
    const step = direction === 'next' ? 1 : -1;
    for (let c = found.chunkNumber; c >= 0 && c < index.firstOrders.length; c += step) {
      if (c !== found.chunkNumber && index.minDepths[c] > depth) continue; // nothing shallow there
      const first = index.firstOrders[c];
      const chunk = this.chunk(threadId, first);
      const start = c === found.chunkNumber ? order - first + step : step > 0 ? 0 : chunk.count - 1;
      for (let i = start; i >= 0 && i < chunk.count; i += step) {
        if (chunk.depth[i] <= depth) return first + i;
      }
    }
    return undefined;
  }

  /** The run's declared methods (sessions written before schema 6 have no decisions). */
  methods(): JvmStoredMethod[] {
    return this.store
      .query<{
        class_name: string;
        source_file: string;
        name: string;
        lines: string;
        branches: string;
      }>(
        'SELECT class_name, source_file, name, lines, branches FROM jvm_methods WHERE run_id = ?',
        [this.runId],
      )
      .map((row) => ({
        className: row.class_name,
        sourceFile: row.source_file,
        name: row.name,
        lines: JSON.parse(row.lines) as number[],
        branches: (JSON.parse(row.branches) as [number, number[]][]).map(
          ([lineIndex, controls]) => ({ lineIndex, controls }),
        ),
      }));
  }

  /** Location ids of a source line (a line can belong to several methods, e.g. lambdas). */
  locationsOfLine(className: string, line: number): number[] {
    return this.store
      .query<{ location_id: number }>(
        `SELECT l.location_id FROM jvm_locations l
         JOIN jvm_methods m ON m.run_id = l.run_id AND m.method_id = l.method_id
         WHERE l.run_id = ? AND l.line = ? AND m.class_name = ?`,
        [this.runId, line, className],
      )
      .map((row) => row.location_id);
  }

  /** The next (or previous) step of the thread executing one of these locations. */
  nextExecution(
    threadId: number,
    order: number,
    locationIds: number[],
    direction: 'next' | 'previous' = 'next',
  ): number | undefined {
    if (locationIds.length === 0) return undefined;
    const wanted = new Set(locationIds);
    const forward = direction === 'next';
    let from = order;
    // From outside the thread's steps (0 = "before the start"), start at the nearest chunk.
    const index = this.index(threadId, true);
    const nearest = this.chunkOf(index, order);
    let candidate: number | undefined = index.firstOrders[Math.max(0, nearest)];
    while (candidate !== undefined) {
      const hit = this.scanChunk(threadId, candidate, wanted, from, forward);
      if (hit !== undefined) return hit;
      candidate = this.nextChunkWith(threadId, candidate, locationIds, forward);
      from = forward ? 0 : Number.MAX_SAFE_INTEGER;
    }
    return undefined;
  }

  invocationParent(threadId: number, order: number): number | undefined {
    return this.step(threadId, order)?.invocationParent ?? undefined;
  }

  controlDominator(threadId: number, order: number): number | undefined {
    return this.step(threadId, order)?.controlDominator ?? undefined;
  }

  /** The steps that last wrote what this step reads (distinct, in read order). */
  dataDominators(threadId: number, order: number): JvmStepRef[] {
    const step = this.step(threadId, order);
    return step ? dataDominatorsOf(step) : [];
  }

  /**
   * Writes of one variable up to a step, newest first: the step's own write of it (or, for a
   * read, the write it saw), then each earlier write, following the stored back-links.
   */
  writesOf(threadId: number, order: number, access: JvmStoredAccess, limit = 1000): JvmStepRef[] {
    const writes: JvmStepRef[] = [];
    const isOwnWrite =
      this.step(threadId, order)?.writes.some((w) => sameAccess(w, access)) ?? false;
    let current: JvmStepRef | undefined = isOwnWrite ? { threadId, order } : access.writer;
    let link = isOwnWrite ? access.writer : undefined;
    while (current && writes.length < limit) {
      writes.push(current);
      if (link === undefined) {
        const step = this.step(current.threadId, current.order);
        const same = step?.writes.find((w) => sameVariable(w, access));
        link = same?.writer;
      }
      current = link;
      link = undefined;
    }
    return writes;
  }

  location(locationId: number): JvmLocation | undefined {
    if (this.locations.size === 0 || !this.locations.has(locationId)) this.loadLocations();
    return this.locations.get(locationId);
  }

  // ---- internals -----------------------------------------------------------------------------

  private locate(
    threadId: number,
    order: number,
  ): { chunk: DecodedChunk; firstOrder: number; chunkNumber: number } | undefined {
    let index = this.index(threadId);
    let c = this.chunkOf(index, order);
    if (c < 0 || order >= index.firstOrders[c] + index.counts[c]) {
      index = this.index(threadId, true); // a live recording may have sealed more since
      c = this.chunkOf(index, order);
      if (c < 0 || order >= index.firstOrders[c] + index.counts[c] || order < 1) return undefined;
    }
    const firstOrder = index.firstOrders[c];
    return { chunk: this.chunk(threadId, firstOrder), firstOrder, chunkNumber: c };
  }

  /** Position of the last chunk starting at or before `order`, -1 if none. */
  private chunkOf(index: ChunkIndex, order: number): number {
    let low = 0;
    let high = index.firstOrders.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (index.firstOrders[mid] <= order) {
        found = mid;
        low = mid + 1;
      } else high = mid - 1;
    }
    return found;
  }

  private index(threadId: number, refresh = false): ChunkIndex {
    let index = this.indexes.get(threadId);
    if (index && !refresh) return index;
    index = { firstOrders: [], counts: [], minDepths: [] };
    for (const row of this.store.query<{
      first_order: number;
      step_count: number;
      min_depth: number;
    }>(
      'SELECT first_order, step_count, min_depth FROM jvm_chunks WHERE run_id = ? AND thread_id = ? ORDER BY first_order',
      [this.runId, threadId],
    )) {
      index.firstOrders.push(row.first_order);
      index.counts.push(row.step_count);
      index.minDepths.push(row.min_depth);
    }
    this.indexes.set(threadId, index);
    return index;
  }

  private chunk(threadId: number, firstOrder: number): DecodedChunk {
    const key = `${threadId}:${firstOrder}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key); // re-insert: Map order is the LRU order
      this.cache.set(key, cached);
      return cached;
    }
    const row = this.store.query<{ encoding: number; data: Uint8Array }>(
      'SELECT encoding, data FROM jvm_chunks WHERE run_id = ? AND thread_id = ? AND first_order = ?',
      [this.runId, threadId, firstOrder],
    )[0];
    if (!row)
      throw new Error(`run ${this.runId}: no chunk at thread ${threadId} order ${firstOrder}`);
    const chunk = decodeChunk(row.encoding, row.data, threadId, firstOrder);
    this.cache.set(key, chunk);
    if (this.cache.size > LRU_CHUNKS) this.cache.delete(this.cache.keys().next().value!);
    return chunk;
  }

  private scanChunk(
    threadId: number,
    firstOrder: number,
    wanted: Set<number>,
    from: number,
    forward: boolean,
  ): number | undefined {
    const chunk = this.chunk(threadId, firstOrder);
    const step = forward ? 1 : -1;
    const start = forward
      ? Math.max(0, from - firstOrder + 1)
      : Math.min(chunk.count - 1, from - firstOrder - 1);
    for (let i = start; i >= 0 && i < chunk.count; i += step) {
      if (wanted.has(chunk.location[i])) return firstOrder + i;
    }
    return undefined;
  }

  private nextChunkWith(
    threadId: number,
    firstOrder: number,
    locationIds: number[],
    forward: boolean,
  ): number | undefined {
    const marks = locationIds.map(() => '?').join(', ');
    const row = this.store.query<{ first_order: number }>(
      `SELECT first_order FROM jvm_chunk_locations
       WHERE run_id = ? AND thread_id = ? AND location_id IN (${marks}) AND first_order ${forward ? '>' : '<'} ?
       ORDER BY first_order ${forward ? 'ASC' : 'DESC'} LIMIT 1`,
      [this.runId, threadId, ...locationIds, firstOrder],
    )[0];
    return row?.first_order;
  }

  private materialise(
    threadId: number,
    chunk: DecodedChunk,
    firstOrder: number,
    i: number,
  ): JvmStoredStep {
    const location = this.location(chunk.location[i]);
    const reads: JvmStoredAccess[] = [];
    const writes: JvmStoredAccess[] = [];
    for (let a = chunk.accessStart[i]; a < chunk.accessStart[i + 1]; a++) {
      const access = this.access(chunk, a);
      (a - chunk.accessStart[i] < chunk.readCount[i] ? reads : writes).push(access);
    }
    const text = (index: number) => (index < 0 ? undefined : chunk.strings[index]);
    const step: JvmStoredStep = {
      threadId,
      order: firstOrder + i,
      seq: chunk.seq[i],
      locationId: chunk.location[i],
      className: location?.className ?? '?',
      sourceFile: location?.sourceFile ?? '',
      method: location?.method ?? '?',
      methodDescriptor: location?.methodDescriptor ?? '',
      line: location?.line ?? -1,
      depth: chunk.depth[i],
      reads,
      writes,
      invocationParent: chunk.invocationParent[i] || null,
      controlDominator: chunk.controlDominator[i] || null,
    };
    const returnValue = text(chunk.returnValue[i]);
    if (returnValue !== undefined) step.returnValue = returnValue;
    const thrown = text(chunk.thrown[i]);
    if (thrown !== undefined) step.thrown = thrown;
    const caught = text(chunk.caught[i]);
    if (caught !== undefined) step.caught = caught;
    return step;
  }

  private access(chunk: DecodedChunk, a: number): JvmStoredAccess {
    const kind = ACCESS_KINDS[chunk.accessKind[a]];
    const slot = chunk.accessSlot[a];
    const access: JvmStoredAccess = {
      kind,
      name: kind === 'array' ? `[${slot}]` : this.name(slot),
      value: chunk.strings[chunk.accessValue[a]],
    };
    if (chunk.accessOwner[a] >= 0) access.owner = chunk.strings[chunk.accessOwner[a]];
    if (chunk.accessWriterThread[a] !== 0) {
      access.writer = { threadId: chunk.accessWriterThread[a], order: chunk.accessWriterOrder[a] };
    }
    return access;
  }

  private name(id: number): string {
    let name = this.names.get(id);
    if (name === undefined) {
      for (const row of this.store.query<{ name_id: number; name: string }>(
        'SELECT name_id, name FROM jvm_names WHERE run_id = ? AND name_id >= ?',
        [this.runId, id],
      )) {
        this.names.set(row.name_id, row.name);
      }
      name = this.names.get(id) ?? `?name${id}`;
    }
    return name;
  }

  private loadLocations(): void {
    for (const row of this.store.query<{
      location_id: number;
      method_id: number;
      line: number;
      class_name: string | null;
      source_file: string | null;
      name: string | null;
      descriptor: string | null;
    }>(
      `SELECT l.location_id, l.method_id, l.line, m.class_name, m.source_file, m.name, m.descriptor
       FROM jvm_locations l LEFT JOIN jvm_methods m ON m.run_id = l.run_id AND m.method_id = l.method_id
       WHERE l.run_id = ?`,
      [this.runId],
    )) {
      this.locations.set(row.location_id, {
        locationId: row.location_id,
        methodId: row.method_id,
        className: row.class_name ?? '?',
        sourceFile: row.source_file ?? '',
        method: row.name ?? `?method${row.method_id}`,
        methodDescriptor: row.descriptor ?? '',
        line: row.line,
      });
    }
  }
}

/** Distinct writers of what a step reads, in read order, leaving out the step itself. */
export function dataDominatorsOf(step: JvmStoredStep): JvmStepRef[] {
  const found: JvmStepRef[] = [];
  for (const read of step.reads) {
    const w = read.writer;
    if (!w || (w.threadId === step.threadId && w.order === step.order)) continue;
    if (!found.some((f) => f.threadId === w.threadId && f.order === w.order)) found.push(w);
  }
  return found;
}

function sameAccess(a: JvmStoredAccess, b: JvmStoredAccess): boolean {
  return (
    sameVariable(a, b) &&
    a.value === b.value &&
    a.writer?.threadId === b.writer?.threadId &&
    a.writer?.order === b.writer?.order
  );
}

function sameVariable(a: JvmStoredAccess, b: JvmStoredAccess): boolean {
  return a.kind === b.kind && a.name === b.name && a.owner === b.owner;
}

/** One step as `bathysphere export --format jsonl` writes it. */
export interface JvmStepExportRecord {
  type: 'step';
  run: number;
  /** Thread name; threadId tells apart threads that share a name. */
  thread: string;
  threadId: number;
  order: number;
  class: string;
  method: string;
  line: number;
  reads: { kind: StoredAccessKind; name: string; owner?: string; value: string }[];
  writes: { kind: StoredAccessKind; name: string; owner?: string; value: string }[];
  controlDominator: number | null;
  invocationParent: number | null;
  /** Steps that last wrote what this step reads, as (thread name, order). */
  dataDominators: { thread: string; threadId: number; order: number }[];
  returnValue?: string;
  thrown?: string;
  caught?: string;
}

/** Every step of a JVM run, thread by thread, streaming (a few chunks in memory at a time). */
export function* jvmStepRecords(
  store: SessionStore,
  runId: number,
): Generator<JvmStepExportRecord> {
  const reader = new JvmTraceReader(store, runId);
  const threads = reader.threads();
  const threadName = new Map(threads.map((t) => [t.threadId, t.name]));
  const plain = (a: JvmStoredAccess) => ({
    kind: a.kind,
    name: a.name,
    ...(a.owner === undefined ? {} : { owner: a.owner }),
    value: a.value,
  });
  for (const thread of threads) {
    for (const step of reader.threadSteps(thread.threadId)) {
      yield {
        type: 'step',
        run: runId,
        thread: thread.name,
        threadId: thread.threadId,
        order: step.order,
        class: step.className,
        method: step.method,
        line: step.line,
        reads: step.reads.map(plain),
        writes: step.writes.map(plain),
        controlDominator: step.controlDominator,
        invocationParent: step.invocationParent,
        dataDominators: dataDominatorsOf(step).map((ref) => ({
          thread: threadName.get(ref.threadId) ?? `?thread${ref.threadId}`,
          threadId: ref.threadId,
          order: ref.order,
        })),
        ...(step.returnValue === undefined ? {} : { returnValue: step.returnValue }),
        ...(step.thrown === undefined ? {} : { thrown: step.thrown }),
        ...(step.caught === undefined ? {} : { caught: step.caught }),
      };
    }
  }
}
