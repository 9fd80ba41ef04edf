// Appends column batches (JvmColumnDecoder) to a run in a session: the recording path. The same
// relations as JvmTraceWriter (invocation parent, control dominator, last writer of every
// variable read, computed on the way in), over typed columns: per-thread call stacks, locals and
// active branches live in flat typed arrays, so a step costs no allocation, and values reach
// the chunk builder as numbers, interned per chunk and printed once per distinct value.

import type { SessionStore } from '../store/sessionStore';
import {
  AccessKindCode as ImportedAccessKindCode,
  ByteWriter,
  ColumnChunkBuilder,
} from './chunkCodec';
import type { JvmColumnBatch } from './columnDecoder';
import type { JvmMethodInfo, JvmThreadInfo } from './decoder';
import { LastWriterTable } from './lastWriters';
import { ThrowOrigins } from './relations';
import { JvmRunStorage, type JvmDeclarationSource, type JvmIngestStats } from './runStorage';
import {
  EXTRA_CAUGHT as IMPORTED_EXTRA_CAUGHT,
  EXTRA_THROWN as IMPORTED_EXTRA_THROWN,
  ensureCapacity as importedEnsureCapacity,
  type JvmStepColumns,
  ValueType as ValueTypeEnum,
} from './stepColumns';
import {
  MAX_TRACKED_HEAP_VARIABLES as IMPORTED_MAX_TRACKED,
  THREAD_SCALE as IMPORTED_THREAD_SCALE,
} from './traceWriter';

// Module-local copies of what the per-step code uses: run unbundled (tsx, tests), every read of
// an imported binding is a property getter call.
const AccessKindCode = ImportedAccessKindCode;
const ValueType = ValueTypeEnum;
const EXTRA_THROWN = IMPORTED_EXTRA_THROWN;
const EXTRA_CAUGHT = IMPORTED_EXTRA_CAUGHT;
const ensureCapacity = importedEnsureCapacity;
const MAX_TRACKED_HEAP_VARIABLES = IMPORTED_MAX_TRACKED;
const THREAD_SCALE = IMPORTED_THREAD_SCALE;

/** Field name ids and element indices below these have exact keys in the last-writer tables. */
const FIELD_SLOTS = 2 ** 20;
const ELEMENT_SLOTS = 2 ** 22;

/**
 * Sealed chunks stored together once compressed (about 130 k steps; with those still being
 * compressed, see JvmRunStorage, at most about 2 x 32 chunks are held in memory).
 */
const CHUNKS_PER_TRANSACTION = 32;

/** The declarations plus the object table that prints object ids (a JvmColumnDecoder). */
export interface JvmColumnSource extends JvmDeclarationSource {
  renderRef(id: number): string;
  /** Counts METHOD declarations: tables cached per method stay valid while it is unchanged. */
  readonly methodsDeclared: number;
}

/**
 * One thread's relation state. Frames are a stack (index = position, not depth); each frame
 * owns the tail of the locals and branches lists from its start, as only the top frame grows.
 * Writers are packed as threadId * 2^32 + order; 0 = none.
 */
class WriterThread {
  readonly builder: ColumnChunkBuilder;
  frameCount = 0;
  frameId = new Float64Array(32);
  depth = new Int32Array(32);
  localStart = new Int32Array(32);
  branchStart = new Int32Array(32);
  localCount = 0;
  localName = new Int32Array(64);
  /** Order of the local's last writer: a local is only written by its own thread. */
  localWriter = new Float64Array(64);
  branchCount = 0;
  branchIndex = new Int32Array(32);
  branchOrder = new Float64Array(32);
  /** Exceptions in flight (object id) and the step each started from, until caught. */
  private readonly throwOrigins = new ThrowOrigins<number, number>();

  constructor(
    readonly info: JvmThreadInfo,
    renderRef: (id: number) => string,
  ) {
    this.builder = new ColumnChunkBuilder(info.id, renderRef);
  }

  /**
   * Makes the step's frame the top one, popping frames that have ended: a step at depth d in
   * frame f means every frame deeper than d, and any other frame at depth d, has returned.
   */
  enterFrame(frameId: number, depth: number): void {
    const current = this.frameCount - 1;
    if (current >= 0 && this.frameId[current] === frameId && this.depth[current] === depth) {
      return; // most steps follow a step of the same frame
    }
    while (this.frameCount > 0) {
      const top = this.frameCount - 1;
      if (this.depth[top] < depth || (this.depth[top] === depth && this.frameId[top] === frameId)) {
        break;
      }
      this.localCount = this.localStart[top];
      this.branchCount = this.branchStart[top];
      this.frameCount = top;
    }
    const top = this.frameCount - 1;
    if (top >= 0 && this.frameId[top] === frameId) return;
    const f = this.frameCount++;
    if (f === this.frameId.length) {
      this.frameId = ensureCapacity(this.frameId, f + 1);
      this.depth = ensureCapacity(this.depth, f + 1);
      this.localStart = ensureCapacity(this.localStart, f + 1);
      this.branchStart = ensureCapacity(this.branchStart, f + 1);
    }
    this.frameId[f] = frameId;
    this.depth[f] = depth;
    this.localStart[f] = this.localCount;
    this.branchStart[f] = this.branchCount;
  }

  /** A handler's first step depends on the throw that led there (see ThrowOrigins). */
  exceptionControl(
    flags: number,
    thrown: number,
    caught: number,
    order: number,
    depth: number,
    dominator: number,
  ): number {
    if (flags & EXTRA_THROWN) this.throwOrigins.thrown(thrown, order, depth);
    if (!(flags & EXTRA_CAUGHT)) return dominator;
    return this.throwOrigins.caught(caught) ?? dominator;
  }

  /** Order of the last writer of a local of the top frame (by name id); 0 = none. */
  localWriterOf(name: number): number {
    for (let i = this.localStart[this.frameCount - 1]; i < this.localCount; i++) {
      if (this.localName[i] === name) return this.localWriter[i];
    }
    return 0;
  }

  /** Makes the step of order `writer` the local's last writer; returns the previous one. */
  swapLocalWriter(name: number, writer: number): number {
    for (let i = this.localStart[this.frameCount - 1]; i < this.localCount; i++) {
      if (this.localName[i] === name) {
        const previous = this.localWriter[i];
        this.localWriter[i] = writer;
        return previous;
      }
    }
    const i = this.localCount++;
    this.localName = ensureCapacity(this.localName, i + 1);
    this.localWriter = ensureCapacity(this.localWriter, i + 1);
    this.localName[i] = name;
    this.localWriter[i] = writer;
    return 0;
  }

  /**
   * The latest still-active branch of the top frame whose controlled lines include this line;
   * branches that do not control it have ended and are dropped, and a branch executed again
   * replaces its older instance and everything above it (structured code nests regions).
   */
  controlDominator(
    sets: Uint8Array[] | undefined,
    lineIndex: number,
    steps: JvmStepColumns,
    row: number,
    order: number,
  ): number {
    const base = this.branchStart[this.frameCount - 1];
    while (
      this.branchCount > base &&
      sets?.[this.branchIndex[this.branchCount - 1]]?.[lineIndex] !== 1
    ) {
      this.branchCount--;
    }
    const dominator = this.branchCount > base ? this.branchOrder[this.branchCount - 1] : 0;
    for (let b = steps.branchStart[row]; b < steps.branchStart[row + 1]; b++) {
      const branch = steps.branches[b];
      for (let k = base; k < this.branchCount; k++) {
        if (this.branchIndex[k] === branch) {
          this.branchCount = k;
          break;
        }
      }
      const k = this.branchCount++;
      this.branchIndex = ensureCapacity(this.branchIndex, k + 1);
      this.branchOrder = ensureCapacity(this.branchOrder, k + 1);
      this.branchIndex[k] = branch;
      this.branchOrder[k] = order;
    }
    return dominator;
  }
}

/** What the writer derives from a method's declaration, kept until it is declared again. */
interface MethodTables {
  method: JvmMethodInfo;
  /** The decoder's methodsDeclared when this was checked against the method table. */
  checkedAt: number;
  /** Per branch of the method, 1 at each line index the branch controls. */
  sets: Uint8Array[];
  /** By line index: the location id (0 = not yet known) and the line it was made for. */
  locationIds: Int32Array;
  locationLines: Int32Array;
}

export class JvmColumnWriter {
  private readonly storage: JvmRunStorage;
  private readonly threads = new Map<number, WriterThread>();
  private readonly methodTables: (MethodTables | undefined)[] = [];
  private readonly fieldWriters = new LastWriterTable(FIELD_SLOTS);
  private readonly arrayWriters = new LastWriterTable(ELEMENT_SLOTS);
  /** Variables beyond the tables' exact keys (huge ids or indices), by text key. */
  private readonly otherWriters = new Map<string, number>();
  /** Thread of the writer that staticWriter() or heapWriter() returned. */
  private foundThread = 0;
  /** The thread of the previous step (steps of one thread come in runs). */
  private lastThread: WriterThread | undefined;
  /** By name id, packed as threadId * THREAD_SCALE + order; 0 = none. */
  private staticWriters = new Float64Array(64);
  private forgottenHeapVariables = 0;
  private readonly raw = new ByteWriter();
  private rowOrder = new Int32Array(1024);
  private seqSlots = new Int32Array(1024);
  private finished = false;

  constructor(
    store: SessionStore,
    readonly runId: number,
    private readonly source: JvmColumnSource,
  ) {
    this.storage = new JvmRunStorage(store, runId, source);
  }

  get stats(): JvmIngestStats {
    return this.storage.stats;
  }

  /** Appends a batch; its steps are taken in decode order (seq), as JvmTraceWriter does. */
  addColumns(batch: JvmColumnBatch): void {
    if (this.finished) throw new Error(`run ${this.runId} is already finished`);
    for (const info of batch.threads) this.threadState(info);
    this.storage.noteBatch(batch);
    for (const [id, name] of batch.names) this.storage.addName(id, name);
    const rows = this.rowsBySeq(batch);
    for (let i = 0; i < rows.length; i++) this.addStep(batch.steps, rows[i]);
    this.storage.stats.steps += rows.length;
    // A transaction per chunk costs as much as compressing it: store sealed chunks in groups,
    // as they come back compressed; sealOpenChunks (every few seconds while recording) stores
    // what is left.
    this.storage.storeCompressedChunks(CHUNKS_PER_TRANSACTION);
  }

  /** Stores every thread's partial chunk, so readers and a crash-time save see all steps so far. */
  sealOpenChunks(): void {
    for (const thread of this.threads.values()) {
      if (thread.builder.count > 0) this.seal(thread);
    }
    this.storage.storeQueuedChunks();
    this.storage.storePendingDictionaries();
  }

  /** Seals everything, records the outcome in the run's metadata and ends the run. */
  finish(extraMetadata: Record<string, unknown> = {}): JvmIngestStats {
    if (this.finished) return this.stats;
    this.sealOpenChunks();
    this.finished = true;
    return this.storage.finish({
      ...(this.forgottenHeapVariables > 0
        ? { forgottenHeapVariables: this.forgottenHeapVariables }
        : {}),
      ...extraMetadata,
    });
  }

  /**
   * Row numbers in seq order. Rows come in close order; steps started in this batch have seqs
   * in a dense range, so a slot per seq sorts them in linear time, and the few still open from
   * before (one per thread at most) go first.
   */
  private rowsBySeq(batch: JvmColumnBatch): Int32Array {
    const steps = batch.steps;
    const n = steps.count;
    this.rowOrder = ensureCapacity(this.rowOrder, n);
    const rows = this.rowOrder.subarray(0, n);
    let sorted = true;
    for (let i = 0; i < n; i++) {
      rows[i] = i;
      if (i > 0 && steps.seq[i] < steps.seq[i - 1]) sorted = false;
    }
    if (sorted) return rows;
    const span = batch.endSeq - batch.firstSeq;
    this.seqSlots = ensureCapacity(this.seqSlots, span);
    const slots = this.seqSlots.subarray(0, span).fill(-1);
    const carried: number[] = [];
    for (let row = 0; row < n; row++) {
      const seq = steps.seq[row];
      if (seq < batch.firstSeq) carried.push(row);
      else slots[seq - batch.firstSeq] = row;
    }
    carried.sort((a, b) => steps.seq[a] - steps.seq[b]);
    let at = 0;
    for (const row of carried) rows[at++] = row;
    for (let s = 0; s < span; s++) if (slots[s] >= 0) rows[at++] = slots[s];
    return rows;
  }

  private addStep(c: JvmStepColumns, row: number): void {
    const threadId = c.threadId[row];
    let thread = this.lastThread;
    if (thread?.info.id !== threadId) {
      thread = this.threadById(threadId);
      this.lastThread = thread;
    }
    const order = c.order[row];
    const depth = c.depth[row];
    thread.enterFrame(c.frameId[row], depth);
    const builder = thread.builder;
    if (builder.count > 0 && order !== builder.firstOrder + builder.count) {
      this.seal(thread); // a gap in orders (never expected) must not shift later orders
    }
    const readCount = c.readCount[row];
    const start = c.accessStart[row];
    const end = c.accessStart[row + 1];
    const methodId = c.methodId[row];
    const lineIndex = c.lineIndex[row];
    const tables = this.methodTablesOf(methodId);
    let dominator = thread.controlDominator(tables?.sets, lineIndex, c, row, order);
    const flags = c.extraFlags[row];
    if (flags & (EXTRA_THROWN | EXTRA_CAUGHT)) {
      dominator = thread.exceptionControl(
        flags,
        c.thrown[row],
        c.caught[row],
        order,
        depth,
        dominator,
      );
    }
    builder.beginStep(
      order,
      c.seq[row],
      this.locationOf(tables, methodId, lineIndex, c.line[row]),
      depth,
      c.callerOrder[row],
      dominator,
      readCount,
      end - start - readCount,
    );
    // Reads see the writers before this step's own writes (as computeRelations does).
    for (let a = start; a < end; a++) this.storeAccess(thread, c, a, order, a - start >= readCount);
    if (flags !== 0) {
      builder.addExtras(
        flags,
        c.returnType[row],
        c.returnValue[row],
        // Only Text returns have an entry (reading past a short array is a slow path).
        c.returnType[row] === ValueType.Text ? c.returnText[row] : undefined,
        c.thrown[row],
        c.caught[row],
      );
    }
    if (builder.full) this.seal(thread);
  }

  /**
   * Stores one access with its writer link, and for writes makes this step the last writer.
   * Writers travel as (thread, order) pairs of small integers, not packed into one double.
   */
  private storeAccess(
    thread: WriterThread,
    c: JvmStepColumns,
    a: number,
    order: number,
    isWrite: boolean,
  ): void {
    const accesses = c.accesses;
    const kind = accesses.kind[a];
    const slot = accesses.slot[a];
    const owner = accesses.owner[a];
    const threadId = thread.info.id;
    const newOrder = isWrite ? order : 0;
    let writerThread = threadId;
    let writerOrder: number;
    if (kind === AccessKindCode.local) {
      writerOrder = isWrite ? thread.swapLocalWriter(slot, order) : thread.localWriterOf(slot);
    } else {
      writerOrder =
        kind === AccessKindCode.static
          ? this.staticWriter(slot, threadId, newOrder)
          : this.heapWriter(kind, owner, slot, threadId, newOrder);
      writerThread = this.foundThread;
    }
    // No writer, or this very step (a variable written twice in one step).
    if (writerOrder === 0 || (writerThread === threadId && writerOrder === order)) {
      writerThread = 0;
      writerOrder = 0;
    }
    const valueType = accesses.valueType[a];
    thread.builder.addAccess(
      order,
      kind,
      slot,
      owner,
      valueType,
      accesses.value[a],
      valueType === ValueType.Text ? accesses.text[a] : undefined,
      writerThread,
      writerOrder,
    );
  }

  /**
   * Order of the static's last writer (its thread in foundThread); when `newOrder` is set,
   * makes that step of `threadId` the last writer.
   */
  private staticWriter(name: number, threadId: number, newOrder: number): number {
    if (name >= this.staticWriters.length) {
      this.staticWriters = ensureCapacity(this.staticWriters, name + 1);
    }
    const previous = this.staticWriters[name];
    if (newOrder !== 0) this.staticWriters[name] = threadId * THREAD_SCALE + newOrder;
    return this.unpack(previous);
  }

  /** As staticWriter, for a field or an array element. */
  private heapWriter(
    kind: number,
    owner: number,
    slot: number,
    threadId: number,
    newOrder: number,
  ): number {
    const table = kind === AccessKindCode.field ? this.fieldWriters : this.arrayWriters;
    if (!table.fits(owner, slot)) return this.otherWriter(kind, owner, slot, threadId, newOrder);
    if (newOrder === 0) {
      const order = table.get(owner, slot);
      this.foundThread = table.foundThread;
      return order;
    }
    if (table.size >= MAX_TRACKED_HEAP_VARIABLES && table.get(owner, slot) === 0) {
      // Forget everything rather than grow without bound; later reads of old variables get
      // no data dominator, which the run's metadata reports.
      this.forgottenHeapVariables += table.size;
      table.clear();
    }
    const previous = table.swap(owner, slot, threadId, newOrder);
    this.foundThread = table.foundThread;
    return previous;
  }

  /** As heapWriter, for variables the tables have no exact key for (never forgotten). */
  private otherWriter(
    kind: number,
    owner: number,
    slot: number,
    threadId: number,
    newOrder: number,
  ): number {
    const key = `${kind}:${owner}:${slot}`;
    const previous = this.otherWriters.get(key) ?? 0;
    if (newOrder !== 0) this.otherWriters.set(key, threadId * THREAD_SCALE + newOrder);
    return this.unpack(previous);
  }

  /** The order of a packed writer; its thread goes to foundThread. */
  private unpack(writer: number): number {
    const thread = Math.floor(writer / THREAD_SCALE);
    this.foundThread = thread;
    return writer - thread * THREAD_SCALE;
  }

  private methodTablesOf(methodId: number): MethodTables | undefined {
    const cached = this.methodTables[methodId];
    // Valid until the next METHOD declaration (a retransformed method replaces its tables).
    if (cached?.checkedAt === this.source.methodsDeclared) return cached;
    const method = this.source.methodTable().get(methodId);
    if (method === undefined) return undefined;
    if (cached?.method === method) {
      cached.checkedAt = this.source.methodsDeclared;
      return cached;
    }
    const sets = method.branches.map((b) => {
      const lines = new Uint8Array(Math.max(method.lines.length, ...b.controls) + 1);
      for (const line of b.controls) lines[line] = 1;
      return lines;
    });
    const tables: MethodTables = {
      method,
      checkedAt: this.source.methodsDeclared,
      sets,
      locationIds: new Int32Array(method.lines.length),
      locationLines: new Int32Array(method.lines.length),
    };
    this.methodTables[methodId] = tables;
    return tables;
  }

  /**
   * The location id of (method, line), remembered by line index: a step's line comes from the
   * method as its frame saw it, so the remembered line is checked, not assumed.
   */
  private locationOf(
    tables: MethodTables | undefined,
    methodId: number,
    lineIndex: number,
    line: number,
  ): number {
    if (tables === undefined || lineIndex < 0 || lineIndex >= tables.locationIds.length) {
      return this.storage.locationId(methodId, line);
    }
    const known = tables.locationIds[lineIndex];
    if (known !== 0 && tables.locationLines[lineIndex] === line) return known;
    const id = this.storage.locationId(methodId, line);
    tables.locationIds[lineIndex] = id;
    tables.locationLines[lineIndex] = line;
    return id;
  }

  /** The state of a declared thread (created on its declaration). */
  private threadState(info: JvmThreadInfo): WriterThread {
    let thread = this.threads.get(info.id);
    if (thread === undefined) {
      thread = new WriterThread(info, (ref) => this.source.renderRef(ref));
      this.threads.set(info.id, thread);
      this.storage.declareThread(info);
    }
    return thread;
  }

  /** The decoder declares threads before their events; a stray id still gets a name. */
  private threadById(id: number): WriterThread {
    return (
      this.threads.get(id) ??
      this.threadState({ id, name: `?thread${id}`, isMain: false, traceId: '' })
    );
  }

  private seal(thread: WriterThread): void {
    const builder = thread.builder;
    this.storage.queueChunk(thread.info.id, builder, builder.encode(this.raw));
    builder.reset();
  }
}
