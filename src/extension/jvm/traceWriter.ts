// Appends decoded JVM steps to a run in a session, streaming: each thread's steps fill a chunk
// builder that is compressed and inserted when full (or when sealed on a timer), and the
// relations that only look backwards (invocation parent, control dominator, last writer of
// every variable read) are computed on the way in, with integer keys and per-frame state that
// is dropped when the frame ends. Memory stays bounded by threads x chunk size plus the
// last-writer maps of heap variables (capped; see MAX_TRACKED_HEAP_VARIABLES).

import type { SessionStore } from '../store/sessionStore';
import { AccessKindCode, CHUNK_STEPS, ChunkBuilder, type StepHeader } from './chunkCodec';
import type {
  JvmDecodedBatch,
  JvmMethodInfo,
  JvmStep,
  JvmThreadInfo,
  JvmVarAccess,
} from './decoder';
import { ThrowOrigins } from './relations';
import { JvmRunStorage, type JvmDeclarationSource, type JvmIngestStats } from './runStorage';

export { mergeRunMetadata, type JvmDeclarationSource, type JvmIngestStats } from './runStorage';

/** Above this many tracked fields/array elements the oldest knowledge is forgotten (memory). */
export const MAX_TRACKED_HEAP_VARIABLES = 4_000_000;

/** A writer reference packed into one number: threadId * 2^32 + order. */
export const THREAD_SCALE = 2 ** 32;

interface FrameState {
  frameId: number;
  depth: number;
  /** Last writer of each local of this frame, by name id. */
  locals: Map<number, number>;
  /** Executed branches still in force, innermost last: branch index and its step's order. */
  branches: { branch: number; order: number }[];
}

interface ThreadState {
  info: JvmThreadInfo;
  builder: ChunkBuilder;
  frames: FrameState[];
  steps: number;
  /** Exceptions in flight (`Type@id`) and the step each started from, until caught. */
  throwOrigins: ThrowOrigins<string, number>;
}

interface ControlSets {
  method: JvmMethodInfo;
  sets: Set<number>[];
}

/** Stores JvmStep objects (JvmTraceDecoder's output); JvmColumnWriter is the recording path. */
export class JvmTraceWriter {
  private readonly threads = new Map<number, ThreadState>();
  private readonly names = new Map<string, number>();
  private readonly controlSets = new Map<number, ControlSets>();
  private readonly fieldWriters = new Map<number, number>();
  private readonly arrayWriters = new Map<number, number>();
  /** Keys that do not fit the numeric packing (huge ids or indices). */
  private readonly otherWriters = new Map<string, number>();
  private readonly staticWriters = new Map<number, number>();
  private forgottenHeapVariables = 0;
  /** Reused for every step: the hot path allocates nothing per step. */
  private readonly header: StepHeader = {
    seq: 0,
    locationId: 0,
    depth: 0,
    invocationParent: 0,
    controlDominator: 0,
    readCount: 0,
    writeCount: 0,
  };
  private finished = false;
  private readonly storage: JvmRunStorage;

  constructor(
    store: SessionStore,
    readonly runId: number,
    private readonly declarations: JvmDeclarationSource,
  ) {
    this.storage = new JvmRunStorage(store, runId, declarations);
  }

  get stats(): JvmIngestStats {
    return this.storage.stats;
  }

  /** Appends a decoded batch. Steps are taken in decode order (seq). */
  addBatch(batch: JvmDecodedBatch): void {
    if (this.finished) throw new Error(`run ${this.runId} is already finished`);
    for (const info of batch.threads) this.declareThread(info);
    this.storage.noteBatch(batch);
    const steps =
      batch.steps.length > 1 ? [...batch.steps].sort((a, b) => a.seq - b.seq) : batch.steps;
    for (const step of steps) this.addStep(step);
  }

  /** Stores every thread's partial chunk, so readers and a crash-time save see all steps so far. */
  sealOpenChunks(): void {
    for (const thread of this.threads.values()) {
      if (thread.builder.count > 0) this.seal(thread);
    }
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

  // ---- steps ---------------------------------------------------------------------------------

  private addStep(step: JvmStep): void {
    const thread = this.threads.get(step.threadId) ?? this.declareThread(syntheticThread(step));
    const frame = this.enterFrame(thread, step);
    let builder = thread.builder;
    if (builder.count > 0 && step.order !== builder.firstOrder + builder.count) {
      this.seal(thread); // a gap in orders (never expected) must not shift later orders
      builder = thread.builder;
    }
    const header = this.header;
    header.seq = step.seq;
    header.locationId = this.storage.locationId(step.methodId, step.line);
    header.depth = step.depth;
    header.invocationParent = step.callerOrder;
    header.controlDominator = this.exceptionControl(
      thread,
      step,
      this.controlDominator(frame, step),
    );
    header.readCount = step.reads.length;
    header.writeCount = step.writes.length;
    builder.beginStep(step.order, header);
    // Reads see the writers before this step's own writes (as computeRelations does).
    for (const read of step.reads) this.storeAccess(builder, frame, step, read, false);
    for (const write of step.writes) this.storeAccess(builder, frame, step, write, true);
    builder.addExtras(step.returnValue, step.thrown, step.caught);
    thread.steps++;
    this.storage.stats.steps++;
    if (builder.count >= CHUNK_STEPS) this.seal(thread);
  }

  /** Stores one access with its writer link, and for writes makes this step the last writer. */
  private storeAccess(
    builder: ChunkBuilder,
    frame: FrameState,
    step: JvmStep,
    access: JvmVarAccess,
    isWrite: boolean,
  ): void {
    const kind = AccessKindCode[access.kind];
    const slot =
      kind === AccessKindCode.array ? arrayIndexOf(access.name) : this.nameId(access.name);
    let writer: number | undefined;
    if (isWrite) {
      const self = step.threadId * THREAD_SCALE + step.order;
      writer = this.swapWriter(frame, kind, slot, access, self);
      if (writer === self) writer = undefined;
    } else {
      writer = this.lastWriter(frame, kind, slot, access);
    }
    const writerThread = writer === undefined ? 0 : Math.floor(writer / THREAD_SCALE);
    const writerOrder = writer === undefined ? 0 : writer % THREAD_SCALE;
    builder.addAccess(
      step.order,
      kind,
      slot,
      access.owner,
      access.value,
      writerThread,
      writerOrder,
    );
  }

  /**
   * The frame state of the step, popping frames that have ended: a step at depth d in frame f
   * means every frame deeper than d, and any other frame at depth d, has returned.
   */
  private enterFrame(thread: ThreadState, step: JvmStep): FrameState {
    const frames = thread.frames;
    while (frames.length > 0) {
      const top = frames[frames.length - 1];
      if (top.depth < step.depth || (top.depth === step.depth && top.frameId === step.frameId)) {
        break;
      }
      frames.pop();
    }
    const top = frames[frames.length - 1];
    if (top !== undefined && top.frameId === step.frameId) return top;
    const frame: FrameState = {
      frameId: step.frameId,
      depth: step.depth,
      locals: new Map(),
      branches: [],
    };
    frames.push(frame);
    return frame;
  }

  /**
   * The latest still-active branch of the frame whose controlled lines include this line;
   * branches that do not control it have ended and are dropped, and a branch executed again
   * replaces its older instance and everything above it (structured code nests regions).
   */
  private controlDominator(frame: FrameState, step: JvmStep): number {
    const sets = this.controlSetsOf(step.methodId);
    const active = frame.branches;
    while (active.length > 0 && !sets?.[active[active.length - 1].branch]?.has(step.lineIndex)) {
      active.pop();
    }
    const dominator = active.length > 0 ? active[active.length - 1].order : 0;
    for (const branch of step.branches) {
      const existing = active.findIndex((b) => b.branch === branch);
      if (existing >= 0) active.length = existing;
      active.push({ branch, order: step.order });
    }
    return dominator;
  }

  /** A handler's first step depends on the throw that led there (see ThrowOrigins). */
  private exceptionControl(thread: ThreadState, step: JvmStep, dominator: number): number {
    if (step.thrown !== undefined) thread.throwOrigins.thrown(step.thrown, step.order, step.depth);
    if (step.caught === undefined) return dominator;
    return thread.throwOrigins.caught(step.caught) ?? dominator;
  }

  private controlSetsOf(methodId: number): Set<number>[] | undefined {
    const method = this.declarations.methodTable().get(methodId);
    if (method === undefined) return undefined;
    let cached = this.controlSets.get(methodId);
    if (cached?.method !== method) {
      cached = { method, sets: method.branches.map((b) => new Set(b.controls)) };
      this.controlSets.set(methodId, cached);
    }
    return cached.sets;
  }

  // ---- variables and their last writers -------------------------------------------------------

  private lastWriter(
    frame: FrameState,
    kind: number,
    slot: number,
    access: JvmVarAccess,
  ): number | undefined {
    if (kind === AccessKindCode.local) return frame.locals.get(slot);
    if (kind === AccessKindCode.static) return this.staticWriters.get(slot);
    const key = heapKey(kind, access.ownerId ?? -1, slot);
    return typeof key === 'number' ? this.heapMap(kind).get(key) : this.otherWriters.get(key);
  }

  /** Records `writer` as the variable's last writer; returns the previous one. */
  private swapWriter(
    frame: FrameState,
    kind: number,
    slot: number,
    access: JvmVarAccess,
    writer: number,
  ): number | undefined {
    if (kind === AccessKindCode.local) return swap(frame.locals, slot, writer);
    if (kind === AccessKindCode.static) return swap(this.staticWriters, slot, writer);
    const key = heapKey(kind, access.ownerId ?? -1, slot);
    if (typeof key !== 'number') return swap(this.otherWriters, key, writer);
    const map = this.heapMap(kind);
    if (map.size >= MAX_TRACKED_HEAP_VARIABLES && !map.has(key)) {
      // Forget everything rather than grow without bound; later reads of old variables get
      // no data dominator, which the run's metadata reports.
      this.forgottenHeapVariables += map.size;
      map.clear();
    }
    return swap(map, key, writer);
  }

  private heapMap(kind: number): Map<number, number> {
    return kind === AccessKindCode.field ? this.fieldWriters : this.arrayWriters;
  }

  // ---- dictionaries --------------------------------------------------------------------------

  private nameId(name: string): number {
    let id = this.names.get(name);
    if (id === undefined) {
      id = this.names.size + 1;
      this.names.set(name, id);
      this.storage.addName(id, name);
    }
    return id;
  }

  private declareThread(info: JvmThreadInfo): ThreadState {
    const existing = this.threads.get(info.id);
    if (existing) return existing;
    const state: ThreadState = {
      info,
      builder: new ChunkBuilder(info.id),
      frames: [],
      steps: 0,
      throwOrigins: new ThrowOrigins(),
    };
    this.threads.set(info.id, state);
    this.storage.declareThread(info);
    return state;
  }

  // ---- storing -------------------------------------------------------------------------------

  private seal(thread: ThreadState): void {
    const builder = thread.builder;
    this.storage.storeChunk(thread.info.id, builder, builder.encode());
    thread.builder = new ChunkBuilder(thread.info.id);
  }
}

function swap<K>(map: Map<K, number>, key: K, value: number): number | undefined {
  const previous = map.get(key);
  map.set(key, value);
  return previous;
}

/** Numeric key for (owner object, field name id | element index) when it fits 53 bits. */
function heapKey(kind: number, ownerId: number, slot: number): number | string {
  const slotBits = kind === AccessKindCode.field ? 2 ** 20 : 2 ** 22;
  if (ownerId >= 0 && slot < slotBits && ownerId < 2 ** 53 / slotBits) {
    return ownerId * slotBits + slot;
  }
  return `${kind}:${ownerId}:${slot}`;
}

function arrayIndexOf(name: string): number {
  const index = Number(name.slice(1, -1));
  return Number.isSafeInteger(index) && index >= 0 ? index : 0;
}

function syntheticThread(step: JvmStep): JvmThreadInfo {
  return { id: step.threadId, name: step.thread, isMain: false, traceId: '' };
}
