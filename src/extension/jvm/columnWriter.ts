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
import { NumberMap } from './numberMap';
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

/** The declarations plus the object table that prints object ids (a JvmColumnDecoder). */
/** Sealed chunks stored together (about 130 k steps; at most ~1 MB compressed in memory). */
const CHUNKS_PER_TRANSACTION = 32;

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
  steps = 0;
  frameCount = 0;
  frameId = new Float64Array(32);
  depth = new Int32Array(32);
  localStart = new Int32Array(32);
  branchStart = new Int32Array(32);
  localCount = 0;
  localName = new Int32Array(64);
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

  /** Last writer of a local of the top frame (by name id). */
  localWriterOf(name: number): number {
    for (let i = this.localStart[this.frameCount - 1]; i < this.localCount; i++) {
      if (this.localName[i] === name) return this.localWriter[i];
    }
    return 0;
  }

  /** Makes `writer` the local's last writer; returns the previous one. */
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

/** Per branch of a method, 1 at each line index the branch controls. */
interface ControlSets {
  method: JvmMethodInfo;
  /** The decoder's methodsDeclared when this was checked against the method table. */
  checkedAt: number;
  sets: Uint8Array[];
}

export class JvmColumnWriter {
  private readonly storage: JvmRunStorage;
  private readonly threads = new Map<number, WriterThread>();
  private readonly controlSets: (ControlSets | undefined)[] = [];
  private readonly fieldWriters = new NumberMap();
  private readonly arrayWriters = new NumberMap();
  /** Keys that do not fit the numeric packing (huge ids or indices). */
  private readonly otherWriters = new Map<string, number>();
  /** The thread of the previous step (steps of one thread come in runs). */
  private lastThread: WriterThread | undefined;
  /** By name id; 0 = none. */
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
    // A transaction per chunk costs as much as compressing it: store sealed chunks in groups;
    // sealOpenChunks (every few seconds while recording) stores what is left.
    if (this.storage.queuedChunkCount >= CHUNKS_PER_TRANSACTION) this.storage.storeQueuedChunks();
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
    thread.enterFrame(c.frameId[row], c.depth[row]);
    const builder = thread.builder;
    if (builder.count > 0 && order !== builder.firstOrder + builder.count) {
      this.seal(thread); // a gap in orders (never expected) must not shift later orders
    }
    const readCount = c.readCount[row];
    const start = c.accessStart[row];
    const end = c.accessStart[row + 1];
    let dominator = thread.controlDominator(
      this.controlSetsOf(c.methodId[row]),
      c.lineIndex[row],
      c,
      row,
      order,
    );
    const flags = c.extraFlags[row];
    if (flags & (EXTRA_THROWN | EXTRA_CAUGHT)) {
      dominator = thread.exceptionControl(
        flags,
        c.thrown[row],
        c.caught[row],
        order,
        c.depth[row],
        dominator,
      );
    }
    builder.beginStep(
      order,
      c.seq[row],
      this.storage.locationId(c.methodId[row], c.line[row]),
      c.depth[row],
      c.callerOrder[row],
      dominator,
      readCount,
      end - start - readCount,
    );
    // Reads see the writers before this step's own writes (as computeRelations does).
    const self = thread.info.id * THREAD_SCALE + order;
    for (let a = start; a < end; a++)
      this.storeAccess(thread, c, a, order, a - start >= readCount, self);
    builder.addExtras(
      c.extraFlags[row],
      c.returnType[row],
      c.returnValue[row],
      // Only Text returns have an entry (reading past a short array is a slow path).
      c.returnType[row] === ValueType.Text ? c.returnText[row] : undefined,
      c.thrown[row],
      c.caught[row],
    );
    thread.steps++;
    this.storage.stats.steps++;
    if (builder.full) this.seal(thread);
  }

  /** Stores one access with its writer link, and for writes makes this step the last writer. */
  private storeAccess(
    thread: WriterThread,
    c: JvmStepColumns,
    a: number,
    order: number,
    isWrite: boolean,
    self: number,
  ): void {
    const accesses = c.accesses;
    const kind = accesses.kind[a];
    const slot = accesses.slot[a];
    const owner = accesses.owner[a];
    let writer: number;
    if (kind === AccessKindCode.local) {
      writer = isWrite ? thread.swapLocalWriter(slot, self) : thread.localWriterOf(slot);
    } else if (kind === AccessKindCode.static) {
      writer = this.staticWriter(slot, isWrite ? self : 0);
    } else {
      writer = this.heapWriter(kind, owner, slot, isWrite ? self : 0);
    }
    if (writer === self) writer = 0;
    const valueType = accesses.valueType[a];
    thread.builder.addAccess(
      order,
      kind,
      slot,
      owner,
      valueType,
      accesses.value[a],
      valueType === ValueType.Text ? accesses.text[a] : undefined,
      writer === 0 ? 0 : Math.floor(writer / THREAD_SCALE),
      writer === 0 ? 0 : writer % THREAD_SCALE,
    );
  }

  /** The static's last writer; when `newWriter` is set, makes it the last writer. */
  private staticWriter(name: number, newWriter: number): number {
    if (name >= this.staticWriters.length) {
      this.staticWriters = ensureCapacity(this.staticWriters, name + 1);
    }
    const previous = this.staticWriters[name];
    if (newWriter !== 0) this.staticWriters[name] = newWriter;
    return previous;
  }

  /** A field's or array element's last writer; when `newWriter` is set, makes it the last. */
  private heapWriter(kind: number, owner: number, slot: number, newWriter: number): number {
    const key = heapKey(kind, owner, slot);
    if (typeof key !== 'number') {
      const previous = this.otherWriters.get(key) ?? 0;
      if (newWriter !== 0) this.otherWriters.set(key, newWriter);
      return previous;
    }
    const map = kind === AccessKindCode.field ? this.fieldWriters : this.arrayWriters;
    if (newWriter === 0) return map.get(key);
    if (map.size >= MAX_TRACKED_HEAP_VARIABLES && map.get(key) === 0) {
      // Forget everything rather than grow without bound; later reads of old variables get
      // no data dominator, which the run's metadata reports.
      this.forgottenHeapVariables += map.size;
      map.clear();
    }
    return map.swap(key, newWriter);
  }

  private controlSetsOf(methodId: number): Uint8Array[] | undefined {
    const cached = this.controlSets[methodId];
    // Valid until the next METHOD declaration (a retransformed method replaces its tables).
    if (cached?.checkedAt === this.source.methodsDeclared) return cached.sets;
    const method = this.source.methodTable().get(methodId);
    if (method === undefined) return undefined;
    if (cached?.method === method) {
      cached.checkedAt = this.source.methodsDeclared;
      return cached.sets;
    }
    const sets = method.branches.map((b) => {
      const lines = new Uint8Array(Math.max(method.lines.length, ...b.controls) + 1);
      for (const line of b.controls) lines[line] = 1;
      return lines;
    });
    this.controlSets[methodId] = { method, checkedAt: this.source.methodsDeclared, sets };
    return sets;
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

/** Numeric key for (owner object, field name id | element index) when it fits 53 bits. */
function heapKey(kind: number, ownerId: number, slot: number): number | string {
  const slotBits = kind === AccessKindCode.field ? 2 ** 20 : 2 ** 22;
  if (ownerId >= 0 && slot < slotBits && ownerId < 2 ** 53 / slotBits) {
    return ownerId * slotBits + slot;
  }
  return `${kind}:${ownerId}:${slot}`;
}
