// Streaming decoder for the JVM agent's trace format (docs/jvm-trace-format.md). Feed it bytes
// in any split; it returns the steps completed so far. Malformed input never throws: the bad
// chunk is skipped, a typed error is reported, and the affected thread resynchronises.

import {
  Chunk,
  Decl,
  EVENTS_FLAG_TAIL,
  FORMAT_VERSION,
  Kind as KindEnum,
  MAGIC,
  METHOD_LINES_ONLY,
  METHOD_STATIC,
  LAST_WELL_KNOWN_TYPE as IMPORTED_LAST_WELL_KNOWN_TYPE,
  Tag as TagEnum,
  UNKNOWN_LOCAL_VALUE,
  WellKnownType as WellKnownTypeEnum,
} from './format';
import {
  javaArrayTypeName,
  javaDouble,
  javaFloat,
  javaIntLike,
  javaStringLiteral,
  javaTypeName,
  typeOfReference,
} from './javaText';

// Module-local copies of what the per-event code uses: run unbundled (tsx, tests, benches), every
// read of an imported binding is a property getter call, which showed in the profile.
const Tag = TagEnum;
const Kind = KindEnum;
type Kind = KindEnum;
const WellKnownType = WellKnownTypeEnum;
type WellKnownType = WellKnownTypeEnum;
const LAST_WELL_KNOWN_TYPE = IMPORTED_LAST_WELL_KNOWN_TYPE;

export type JvmTraceErrorCode =
  | 'bad-magic'
  | 'unsupported-version'
  | 'bad-chunk'
  | 'bad-declaration'
  | 'bad-event'
  | 'unknown-id'
  | 'truncated';

/** A problem in the input; decoding goes on after it where possible. */
export class JvmTraceError extends Error {
  constructor(
    readonly code: JvmTraceErrorCode,
    message: string,
    readonly offset: number,
    readonly fatal = false,
  ) {
    super(message);
    this.name = 'JvmTraceError';
  }
}

export type JvmAccessKind = 'local' | 'field' | 'static' | 'array';

export interface JvmVarAccess {
  kind: JvmAccessKind;
  /** Local's source name, field name, `Class.field` for statics, `[i]` for array elements. */
  name: string;
  /** Fields and array elements: the object, as `Type@id`. */
  owner?: string;
  /**
   * As Java's String.valueOf prints it (boxes too: `42`, `0.5`, `x`, `true`); strings as
   * literals; other objects as `Type@id`.
   */
  value: string;
  /** Identity of the variable for data dependence (same key = same storage). */
  key: string;
  /** Fields and array elements: the owner's object id (numeric form of `owner`). */
  ownerId?: number;
}

export interface JvmStep {
  /** Position in decode order across all threads (index into the decoded step list). */
  seq: number;
  threadId: number;
  thread: string;
  /** 1-based per thread. */
  order: number;
  className: string;
  method: string;
  methodDescriptor: string;
  methodId: number;
  line: number;
  lineIndex: number;
  reads: JvmVarAccess[];
  writes: JvmVarAccess[];
  /** Invocation instance (unique per decoder) and call depth of the step's frame. */
  frameId: number;
  depth: number;
  /** Order (same thread) of the caller's step that made this call; 0 for none. */
  callerOrder: number;
  /** Branch indices (per method's static table) executed in this step, in order. */
  branches: number[];
  returnValue?: string;
  thrown?: string;
  caught?: string;
}

export interface JvmMethodInfo {
  id: number;
  className: string;
  name: string;
  descriptor: string;
  isStatic: boolean;
  linesOnly: boolean;
  /** Line number by line index. */
  lines: number[];
  variables: { name: string; descriptor: string }[];
  /** Per branch index: the line index of the branch and the line indices it controls. */
  branches: { lineIndex: number; controls: number[] }[];
  returnDescriptor: string;
}

export interface JvmThreadInfo {
  id: number;
  name: string;
  isMain: boolean;
  traceId: string;
}

export interface JvmRunInfo {
  runId: string;
  pid: number;
  javaVersion: string;
  mode: string;
  options: string;
}

export interface JvmDecodedBatch extends JvmBatchCommon {
  steps: JvmStep[];
}

export interface FieldInfo {
  owner: string;
  name: string;
  descriptor: string;
  isStatic: boolean;
}

interface Frame {
  method: JvmMethodInfo | undefined;
  methodId: number;
  frameId: number;
  lineIndex: number;
  step: JvmStep | undefined;
  callerOrder: number;
  /** A traced callee returned: the next event here starts a new step on the same line. */
  resumed: boolean;
  /** Argument writes seen before the frame's first step. */
  pendingWrites: JvmVarAccess[];
  /** By variable index: the value of the frame's last write (READ_LOCAL_AS_WRITTEN reads it). */
  localValues: (string | undefined)[];
}

interface ThreadState {
  info: JvmThreadInfo;
  frames: Frame[];
  order: number;
  open: JvmStep | undefined;
}

/** Hard limit so a corrupted length cannot make the decoder buffer without bound. */
const MAX_CHUNK_BYTES = 64 * 1024 * 1024;

/** A record runs past the end of its chunk. */
export class Truncated extends Error {}

/** Reads the primitive encodings from one chunk's payload. */
export class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  u8(): number {
    if (this.pos >= this.end) throw new Truncated();
    return this.bytes[this.pos++];
  }
  varint(): number {
    const first = this.pos < this.end ? this.bytes[this.pos] : 0x80;
    if (first < 0x80) {
      this.pos++; // one byte: most tags' operands, small values, cached object ids
      return first;
    }
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.u8();
      if (shift < 28) result |= (b & 0x7f) << shift;
      else result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return shift < 28 ? result >>> 0 : result;
      shift += 7;
      if (shift > 63) throw new JvmTraceError('bad-event', 'varint too long', this.pos);
    }
  }
  /** Unsigned 64-bit varint as bigint (for long values). */
  varbig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.u8();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new JvmTraceError('bad-event', 'varlong too long', this.pos);
    }
  }
  fixed32(): number {
    if (this.pos + 4 > this.end) throw new Truncated();
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }
  string(): string {
    const length = this.varint();
    if (this.pos + length > this.end) throw new Truncated();
    const text = utf8.decode(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return text;
  }
}

const utf8 = new TextDecoder('utf-8');
export const f32 = new Float32Array(1);
export const u32ForF32 = new Uint32Array(f32.buffer);
export const f64 = new Float64Array(1);
export const u32ForF64 = new Uint32Array(f64.buffer);

export function zigzagInt(u: number): number {
  return (u >>> 1) ^ -(u & 1);
}

/** A zigzag long, printed (bigint arithmetic: longs beyond 2^53 stay exact). */
function readLongText(r: Reader): string {
  const u = r.varbig();
  return ((u >> 1n) ^ -(u & 1n)).toString();
}

function readFloatText(r: Reader): string {
  u32ForF32[0] = r.fixed32();
  return javaFloat(f32[0]);
}

function readDoubleText(r: Reader): string {
  u32ForF64[0] = r.fixed32();
  u32ForF64[1] = r.fixed32();
  return javaDouble(f64[0]);
}

/**
 * The value a string or box carries at its first use in a stream, as values show it: a string
 * as a Java literal (`...` after it when the agent cut it), a box as String.valueOf prints it,
 * a BigDecimal or BigInteger as its toString (`...` after a cut one).
 */
function readWellKnownValue(r: Reader, typeId: WellKnownType): string {
  switch (typeId) {
    case WellKnownType.String: {
      const { text, cut } = readCappedText(r);
      const literal = javaStringLiteral(text);
      return cut ? `${literal}...` : literal;
    }
    case WellKnownType.Boolean:
      return r.u8() !== 0 ? 'true' : 'false';
    case WellKnownType.Character:
      return javaIntLike(r.varint(), 'C');
    case WellKnownType.Byte:
      return javaIntLike(zigzagInt(r.varint()), 'B');
    case WellKnownType.Short:
      return javaIntLike(zigzagInt(r.varint()), 'S');
    case WellKnownType.Integer:
      return javaIntLike(zigzagInt(r.varint()), 'I');
    case WellKnownType.Long:
      return readLongText(r);
    case WellKnownType.Float:
      return readFloatText(r);
    case WellKnownType.Double:
      return readDoubleText(r);
    case WellKnownType.BigDecimal:
    case WellKnownType.BigInteger: {
      const { text, cut } = readCappedText(r);
      return cut ? `${text}...` : text;
    }
  }
}

/** Text the agent capped: its full length in chars, then the kept chars. */
function readCappedText(r: Reader): { text: string; cut: boolean } {
  const fullLength = r.varint();
  const text = r.string();
  return { text, cut: fullLength > [...text].length };
}

/** What every decoded batch carries besides the steps. */
export interface JvmBatchCommon {
  threads: JvmThreadInfo[];
  warnings: string[];
  errors: JvmTraceError[];
  run?: JvmRunInfo;
  ended: boolean;
  droppedBuffers?: number;
}

/**
 * The stream's framing, declarations and object table, shared by the decoders that differ in
 * how they hand steps over (objects per step, or columns).
 */
export abstract class JvmStreamDecoder<B extends JvmBatchCommon, T> {
  private pending: Uint8Array = new Uint8Array(0);
  protected consumed = 0; // absolute offset of pending[0]
  private headerSeen = false;
  private fatal = false;

  protected readonly classes = new Map<number, { name: string; sourceFile: string }>();
  protected readonly methods = new Map<number, JvmMethodInfo>();
  protected readonly fields = new Map<number, FieldInfo>();
  protected readonly types = new Map<number, string>();
  protected readonly threadInfos = new Map<number, JvmThreadInfo>();
  /** Object id -> rendered `Type@id`, string literal or box value. */
  protected readonly objects = new Map<number, string>();
  /** METHOD declarations so far (consumers cache per-method tables until it changes). */
  methodsDeclared = 0;

  protected batch: B;

  constructor() {
    this.batch = this.emptyBatch();
  }

  protected abstract emptyBatch(): B;
  /** A THREAD declaration arrived (the info is already in threadInfos and the batch). */
  protected abstract onThreadDeclared(info: JvmThreadInfo): void;
  /** Input finished: every thread's open step is complete. */
  protected abstract closeAllSteps(): void;

  // Events, one handler per kind; the dispatch below is shared, what a step becomes is not.
  /** The decoder's state of a declared thread. */
  protected abstract threadState(threadId: number): T | undefined;
  /** Events lost sync: drop the thread's frames and close its open step. */
  protected abstract resync(thread: T): void;
  protected abstract onEnter(thread: T, methodId: number): void;
  protected abstract onLine(thread: T, lineIndex: number): void;
  /** The line that made a call goes on after the callee returned. */
  protected abstract onLineAfterCall(thread: T): void;
  protected abstract onBranch(thread: T, branch: number): void;
  protected abstract onReturn(r: Reader, thread: T): void;
  protected abstract onThrowExit(r: Reader, thread: T): void;
  protected abstract onCaught(r: Reader, thread: T): void;
  protected abstract onGap(r: Reader, thread: T): void;
  protected abstract onLocal(r: Reader, thread: T, variable: number, write: boolean): void;
  /** A read of a local without value: the frame's last write of it gives the value. */
  protected abstract onLocalAsWritten(r: Reader, thread: T, variable: number): void;
  protected abstract onField(r: Reader, thread: T, write: boolean): void;
  protected abstract onStatic(r: Reader, thread: T, write: boolean): void;
  protected abstract onArray(r: Reader, thread: T, kind: Kind, write: boolean): void;

  private decodeEvents(r: Reader): void {
    const threadId = r.varint();
    const flags = r.u8();
    const thread = this.threadState(threadId);
    if (thread === undefined) {
      throw new JvmTraceError('unknown-id', `events for undeclared thread ${threadId}`, r.pos);
    }
    const tail = (flags & EVENTS_FLAG_TAIL) !== 0;
    while (!r.done) {
      const eventStart = r.pos;
      try {
        this.decodeEvent(r, thread);
      } catch (error) {
        // A shutdown snapshot may end inside an event that was still being written: not an error.
        if (tail && error instanceof Truncated) return;
        this.resync(thread); // later events resynchronise from the next GAP/ENTER
        throw error instanceof Truncated
          ? new JvmTraceError('bad-event', 'chunk ends inside an event', this.consumed + eventStart)
          : error;
      }
    }
  }

  private decodeEvent(r: Reader, thread: T): void {
    const tag = r.u8();
    if (tag >= Tag.ReadLocalAsWritten) return this.onLocalAsWritten(r, thread, tag & 0x1f);
    if (tag >= Tag.Line) return this.onLine(thread, tag - Tag.Line);
    if (tag >= Tag.WriteLocal) return this.onLocal(r, thread, tag & 0x1f, true);
    if (tag >= Tag.ReadLocal) return this.onLocal(r, thread, tag & 0x1f, false);
    if (tag >= Tag.Branch) return this.onBranch(thread, tag & 0x1f);
    switch (tag) {
      case Tag.Enter:
        return this.onEnter(thread, r.varint());
      case Tag.Return:
        return this.onReturn(r, thread);
      case Tag.ThrowExit:
        return this.onThrowExit(r, thread);
      case Tag.Caught:
        return this.onCaught(r, thread);
      case Tag.LineExt:
        return this.onLine(thread, r.varint());
      case Tag.LineAfterCall:
        return this.onLineAfterCall(thread);
      case Tag.BranchExt:
        return this.onBranch(thread, r.varint());
      case Tag.ReadLocalExt:
        return this.onLocal(r, thread, r.varint(), false);
      case Tag.WriteLocalExt:
        return this.onLocal(r, thread, r.varint(), true);
      case Tag.ReadLocalAsWrittenExt:
        return this.onLocalAsWritten(r, thread, r.varint());
      case Tag.ReadField:
      case Tag.WriteField:
        return this.onField(r, thread, tag === Tag.WriteField);
      case Tag.ReadStatic:
      case Tag.WriteStatic:
        return this.onStatic(r, thread, tag === Tag.WriteStatic);
      case Tag.Gap:
        return this.onGap(r, thread);
      default:
        if (tag >= Tag.ReadArray && tag < Tag.WriteArray + 5) {
          const write = tag >= Tag.WriteArray;
          return this.onArray(r, thread, tag - (write ? Tag.WriteArray : Tag.ReadArray), write);
        }
        throw new JvmTraceError('bad-event', `unknown event tag 0x${tag.toString(16)}`, r.pos - 1);
    }
  }

  /** Static tables of every method declared so far (for the relations pass). */
  methodTable(): ReadonlyMap<number, JvmMethodInfo> {
    return this.methods;
  }

  /** Class names and source files by class id. */
  classTable(): ReadonlyMap<number, { name: string; sourceFile: string }> {
    return this.classes;
  }

  threadInfo(): JvmThreadInfo[] {
    return [...this.threadInfos.values()];
  }

  /** Decodes what it can of the bytes received so far; returns steps completed by them. */
  push(data: Uint8Array): B {
    if (this.fatal) return this.takeBatch();
    this.pending = this.pending.length === 0 ? data : concat(this.pending, data);
    let pos = 0;
    const bytes = this.pending;
    if (!this.headerSeen) {
      if (bytes.length < MAGIC.length + 1) return this.takeBatch();
      for (let i = 0; i < MAGIC.length; i++) {
        if (bytes[i] !== MAGIC[i]) return this.fail('bad-magic', 'not a Bathysphere JVM trace', 0);
      }
      if (bytes[MAGIC.length] !== FORMAT_VERSION) {
        return this.fail(
          'unsupported-version',
          `format version ${bytes[4]}: only version ${FORMAT_VERSION} is read; nothing decoded`,
          4,
        );
      }
      this.headerSeen = true;
      pos = MAGIC.length + 1;
    }
    while (pos < bytes.length) {
      const header = readChunkHeader(bytes, pos);
      if (header === undefined) break; // header incomplete
      const { kind, length, payloadStart } = header;
      if (length > MAX_CHUNK_BYTES || kind < Chunk.Declarations || kind > Chunk.End) {
        return this.fail(
          'bad-chunk',
          `bad chunk kind ${kind} / length ${length}`,
          this.consumed + pos,
        );
      }
      if (payloadStart + length > bytes.length) break; // payload incomplete
      this.decodeChunk(kind, bytes, payloadStart, payloadStart + length);
      pos = payloadStart + length;
    }
    this.pending = bytes.subarray(pos);
    this.consumed += pos;
    return this.takeBatch();
  }

  /** Input finished: closes every open step; reports a truncated tail if there is one. */
  end(): B {
    if (!this.fatal && this.pending.length > 0) {
      this.batch.errors.push(
        new JvmTraceError('truncated', `${this.pending.length} trailing bytes`, this.consumed),
      );
    }
    this.closeAllSteps();
    return this.takeBatch();
  }

  protected takeBatch(): B {
    const batch = this.batch;
    this.batch = this.emptyBatch();
    return batch;
  }

  private fail(code: JvmTraceErrorCode, message: string, offset: number): B {
    this.fatal = true;
    this.batch.errors.push(new JvmTraceError(code, message, offset, true));
    this.pending = new Uint8Array(0);
    return this.takeBatch();
  }

  private decodeChunk(kind: number, bytes: Uint8Array, start: number, end: number): void {
    const reader = new Reader(bytes, start, end);
    try {
      if (kind === Chunk.Declarations) this.decodeDeclarations(reader);
      else if (kind === Chunk.Events) this.decodeEvents(reader);
      else {
        this.batch.ended = true;
        if (!reader.done) this.batch.droppedBuffers = reader.varint();
      }
    } catch (error) {
      this.batch.errors.push(this.asTraceError(error, kind, this.consumed + reader.pos));
    }
  }

  private asTraceError(error: unknown, kind: number, offset: number): JvmTraceError {
    if (error instanceof JvmTraceError) return error;
    const code = kind === Chunk.Declarations ? 'bad-declaration' : 'bad-event';
    const text = error instanceof Truncated ? 'chunk ends inside a record' : String(error);
    return new JvmTraceError(code, text, offset);
  }

  // ---- declarations --------------------------------------------------------------------------

  private decodeDeclarations(r: Reader): void {
    while (!r.done) {
      const tag = r.u8();
      switch (tag) {
        case Decl.Class: {
          const id = r.varint();
          this.classes.set(id, { name: r.string(), sourceFile: r.string() });
          break;
        }
        case Decl.Method:
          this.decodeMethod(r);
          break;
        case Decl.Field: {
          const id = r.varint();
          const owner = r.string();
          const name = r.string();
          const descriptor = r.string();
          this.fields.set(id, { owner, name, descriptor, isStatic: r.u8() === 1 });
          break;
        }
        case Decl.Type: {
          const id = r.varint();
          this.types.set(id, r.string());
          break;
        }
        case Decl.Thread: {
          const info: JvmThreadInfo = {
            id: r.varint(),
            name: r.string(),
            isMain: r.u8() === 1,
            traceId: r.string(),
          };
          this.threadInfos.set(info.id, info);
          this.batch.threads.push(info);
          this.onThreadDeclared(info);
          break;
        }
        case Decl.Warning:
          this.batch.warnings.push(r.string());
          break;
        case Decl.Run:
          this.batch.run = {
            runId: r.string(),
            pid: r.varint(),
            javaVersion: r.string(),
            mode: r.string(),
            options: r.string(),
          };
          break;
        default:
          throw new JvmTraceError('bad-declaration', `unknown declaration ${tag}`, r.pos);
      }
    }
  }

  private decodeMethod(r: Reader): void {
    const id = r.varint();
    const classId = r.varint();
    const name = r.string();
    const descriptor = r.string();
    const flags = r.varint();
    const lines = readArray(r, () => r.varint());
    const variables = readArray(r, () => ({ name: r.string(), descriptor: r.string() }));
    const branches = readArray(r, () => ({
      lineIndex: r.varint(),
      controls: readArray(r, () => r.varint()),
    }));
    this.methodsDeclared++;
    this.methods.set(id, {
      id,
      className: this.classes.get(classId)?.name ?? `?class${classId}`,
      name,
      descriptor,
      isStatic: (flags & METHOD_STATIC) !== 0,
      linesOnly: (flags & METHOD_LINES_ONLY) !== 0,
      lines,
      variables,
      branches,
      returnDescriptor: descriptor.slice(descriptor.lastIndexOf(')') + 1),
    });
  }

  // ---- shared by the event decoders ----------------------------------------------------------

  protected fieldInfo(r: Reader): FieldInfo {
    const id = r.varint();
    const field = this.fields.get(id);
    if (field === undefined) throw new JvmTraceError('unknown-id', `undeclared field ${id}`, r.pos);
    return field;
  }

  /** Reads a reference (declaring it on first use); returns its id (0 = null). */
  protected readRefId(r: Reader): number {
    const u = r.varint();
    if (u === 0) return 0;
    const id = Math.floor(u / 2);
    if (u % 2 === 1) {
      const typeId = r.varint();
      if (typeId >= 1 && typeId <= LAST_WELL_KNOWN_TYPE) {
        const text = readWellKnownValue(r, typeId);
        this.objects.set(id, text);
        this.onObjectDeclared(id, typeId, text);
      } else {
        const typeName = this.types.get(typeId) ?? `?type${typeId}`;
        const shown = typeName.startsWith('[')
          ? javaArrayTypeName(typeName, r.varint())
          : javaTypeName(typeName);
        this.objects.set(id, `${shown}@${id}`);
        this.onObjectDeclared(id, typeId, undefined);
      }
    }
    return id;
  }

  /**
   * An object's first use in a thread's stream declared it; `value` is how a string or box
   * shows its value (undefined for other types).
   */
  protected onObjectDeclared(_id: number, _typeId: number, _value: string | undefined): void {}

  /**
   * An object as values print it: `Type@id` (an array with its length, `int[5]@id`), a string
   * literal, a box's value, or `null`.
   */
  renderRef(id: number): string {
    if (id === 0) return 'null';
    return this.objects.get(id) ?? `?@${id}`;
  }
}

/** Decodes into one JvmStep object per step (tools, tests, the in-memory relations pass). */
export class JvmTraceDecoder extends JvmStreamDecoder<JvmDecodedBatch, ThreadState> {
  private nextSeq = 0;
  private nextFrameId = 1;
  private readonly threads = new Map<number, ThreadState>();

  protected emptyBatch(): JvmDecodedBatch {
    return { steps: [], threads: [], warnings: [], errors: [], ended: false };
  }

  protected onThreadDeclared(info: JvmThreadInfo): void {
    this.threads.set(info.id, { info, frames: [], order: 0, open: undefined });
  }

  protected closeAllSteps(): void {
    for (const thread of this.threads.values()) this.closeOpenStep(thread);
  }

  // ---- events --------------------------------------------------------------------------------

  protected threadState(threadId: number): ThreadState | undefined {
    return this.threads.get(threadId);
  }

  protected resync(thread: ThreadState): void {
    thread.frames = [];
    this.closeOpenStep(thread);
  }

  protected onLineAfterCall(thread: ThreadState): void {
    const frame = this.top(thread);
    if (frame?.resumed) this.newStep(thread, frame, frame.lineIndex);
  }

  protected onCaught(r: Reader, thread: ThreadState): void {
    const frame = this.top(thread);
    const value = this.readRef(r);
    const step = frame && this.stepForEvent(thread, frame);
    if (step) step.caught = value;
  }

  private top(thread: ThreadState): Frame | undefined {
    return thread.frames[thread.frames.length - 1];
  }

  protected onEnter(thread: ThreadState, methodId: number): void {
    // No caller step here even if a traced callee returned before: the agent marks a direct
    // return-then-call on one line with LINE_AFTER_CALL, while an ENTER without it is a
    // callback from untraced code (a comparator called by List.sort), where JDI does not stop
    // in the caller either.
    const caller = this.top(thread);
    const method = this.methods.get(methodId);
    thread.frames.push({
      method,
      methodId,
      frameId: this.nextFrameId++,
      lineIndex: -1,
      step: undefined,
      callerOrder: caller?.step?.order ?? 0,
      resumed: false,
      pendingWrites: [],
      localValues: [],
    });
  }

  protected onLine(thread: ThreadState, lineIndex: number): void {
    const frame = this.top(thread);
    if (frame === undefined) return; // no frame context (after a lost chunk): skip until ENTER
    if (frame.step === undefined || frame.resumed || frame.lineIndex !== lineIndex) {
      this.newStep(thread, frame, lineIndex);
    }
  }

  protected onBranch(thread: ThreadState, branch: number): void {
    const frame = this.top(thread);
    const step = frame && this.stepForEvent(thread, frame);
    step?.branches.push(branch);
  }

  /** The step an event in this frame belongs to (a new one after a traced callee returned). */
  private stepForEvent(thread: ThreadState, frame: Frame): JvmStep | undefined {
    if (frame.resumed && frame.lineIndex >= 0) this.newStep(thread, frame, frame.lineIndex);
    return frame.step;
  }

  protected onReturn(r: Reader, thread: ThreadState): void {
    const frame = this.top(thread);
    if (frame === undefined) {
      // Return of a frame entered before recording began (attach, window): its value
      // encoding is unknown, so the rest of the chunk cannot be trusted.
      throw new JvmTraceError('bad-event', 'return without a frame', r.pos);
    }
    const step = this.stepForEvent(thread, frame);
    const method = frame.method;
    if (method && !method.linesOnly && method.returnDescriptor !== 'V') {
      const value = this.readValue(r, method.returnDescriptor);
      if (step) step.returnValue = value;
    }
    thread.frames.pop();
    const caller = this.top(thread);
    if (caller) caller.resumed = true;
  }

  protected onThrowExit(r: Reader, thread: ThreadState): void {
    const exception = this.readRef(r);
    const frame = thread.frames.pop();
    if (frame?.step) frame.step.thrown = exception;
    const caller = this.top(thread);
    if (caller) caller.resumed = true;
  }

  protected onGap(r: Reader, thread: ThreadState): void {
    r.varint(); // dropped buffer count (informational)
    const depth = r.varint();
    const methodIds: number[] = [];
    for (let i = 0; i < depth; i++) methodIds.push(r.varint());
    this.closeOpenStep(thread);
    thread.frames = methodIds.map((methodId) => ({
      method: this.methods.get(methodId),
      methodId,
      frameId: this.nextFrameId++,
      lineIndex: -1,
      step: undefined,
      callerOrder: 0,
      resumed: false,
      pendingWrites: [],
      localValues: [],
    }));
    this.batch.warnings.push(`thread ${thread.info.name}: events lost, resynchronised`);
  }

  private newStep(thread: ThreadState, frame: Frame, lineIndex: number): void {
    this.closeOpenStep(thread);
    const method = frame.method;
    const step: JvmStep = {
      seq: this.nextSeq++,
      threadId: thread.info.id,
      thread: thread.info.name,
      order: ++thread.order,
      className: method?.className ?? '?',
      method: method?.name ?? `?method${frame.methodId}`,
      methodDescriptor: method?.descriptor ?? '',
      methodId: frame.methodId,
      line: method?.lines[lineIndex] ?? -1,
      lineIndex,
      reads: [],
      writes: frame.pendingWrites.length > 0 ? frame.pendingWrites : [],
      frameId: frame.frameId,
      depth: thread.frames.length,
      callerOrder: frame.callerOrder,
      branches: [],
    };
    frame.pendingWrites = [];
    frame.step = step;
    frame.lineIndex = lineIndex;
    frame.resumed = false;
    thread.open = step;
  }

  private closeOpenStep(thread: ThreadState): void {
    if (thread.open) this.batch.steps.push(thread.open);
    thread.open = undefined;
  }

  // ---- variable accesses ---------------------------------------------------------------------

  protected onLocal(r: Reader, thread: ThreadState, variable: number, write: boolean): void {
    const frame = this.top(thread);
    const info = frame?.method?.variables[variable];
    if (frame === undefined || info === undefined) throw unknownLocal(variable, r.pos);
    const value = this.readValue(r, info.descriptor);
    if (write) frame.localValues[variable] = value;
    this.record(thread, frame, localAccess(frame, info.name, value), write);
  }

  protected onLocalAsWritten(r: Reader, thread: ThreadState, variable: number): void {
    const frame = this.top(thread);
    const info = frame?.method?.variables[variable];
    if (frame === undefined || info === undefined) throw unknownLocal(variable, r.pos);
    const value = frame.localValues[variable] ?? UNKNOWN_LOCAL_VALUE;
    this.record(thread, frame, localAccess(frame, info.name, value), false);
  }

  protected onField(r: Reader, thread: ThreadState, write: boolean): void {
    const field = this.fieldInfo(r);
    const ownerId = this.readRefId(r);
    const owner = this.renderRef(ownerId);
    const value = this.readValue(r, field.descriptor);
    const access: JvmVarAccess = {
      kind: 'field',
      name: field.name,
      owner,
      value,
      key: `F${ownerId}.${field.name}`,
      ownerId,
    };
    this.recordInTop(thread, access, write);
  }

  protected onStatic(r: Reader, thread: ThreadState, write: boolean): void {
    const field = this.fieldInfo(r);
    const value = this.readValue(r, field.descriptor);
    const name = `${field.owner}.${field.name}`;
    this.recordInTop(thread, { kind: 'static', name, value, key: `S${name}` }, write);
  }

  protected onArray(r: Reader, thread: ThreadState, kind: Kind, write: boolean): void {
    const arrayId = this.readRefId(r);
    const owner = this.renderRef(arrayId);
    const index = r.varint();
    const arrayType = typeOfReference(owner);
    const value = this.readKindValue(r, kind, elementDescriptorOf(arrayType, kind));
    const access: JvmVarAccess = {
      kind: 'array',
      name: `[${index}]`,
      owner,
      value,
      key: `A${arrayId}[${index}]`,
      ownerId: arrayId,
    };
    this.recordInTop(thread, access, write);
  }

  private recordInTop(thread: ThreadState, access: JvmVarAccess, write: boolean): void {
    const frame = this.top(thread);
    if (frame) this.record(thread, frame, access, write);
  }

  private record(thread: ThreadState, frame: Frame, access: JvmVarAccess, write: boolean): void {
    const step = this.stepForEvent(thread, frame);
    if (step === undefined) {
      if (write) frame.pendingWrites.push(access); // arguments, before the first line
      return;
    }
    (write ? step.writes : step.reads).push(access);
  }

  // ---- values --------------------------------------------------------------------------------

  private readValue(r: Reader, descriptor: string): string {
    switch (descriptor[0]) {
      case 'Z':
      case 'B':
      case 'C':
      case 'S':
      case 'I':
        return javaIntLike(zigzagInt(r.varint()), descriptor);
      default:
        return this.readKindValue(r, kindOfDescriptor(descriptor), descriptor);
    }
  }

  private readKindValue(r: Reader, kind: Kind, descriptor: string): string {
    switch (kind) {
      case Kind.Int:
        return javaIntLike(zigzagInt(r.varint()), descriptor);
      case Kind.Long:
        return readLongText(r);
      case Kind.Float:
        return readFloatText(r);
      case Kind.Double:
        return readDoubleText(r);
      case Kind.Ref:
        return this.readRef(r);
      default:
        throw new JvmTraceError('bad-event', `unknown value kind ${kind}`, r.pos);
    }
  }

  private readRef(r: Reader): string {
    return this.renderRef(this.readRefId(r));
  }
}

function localAccess(frame: Frame, name: string, value: string): JvmVarAccess {
  return { kind: 'local', name, value, key: `L${frame.frameId}:${name}` };
}

/** A local event names a variable the top frame's method does not have (or there is no frame). */
export function unknownLocal(variable: number, offset: number): JvmTraceError {
  return new JvmTraceError('unknown-id', `local variable ${variable} without method`, offset);
}

function readChunkHeader(
  bytes: Uint8Array,
  pos: number,
): { kind: number; length: number; payloadStart: number } | undefined {
  if (pos >= bytes.length) return undefined;
  const kind = bytes[pos];
  let length = 0;
  let shift = 0;
  let p = pos + 1;
  for (;;) {
    if (p >= bytes.length) return undefined;
    const b = bytes[p++];
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 35) return { kind, length: Infinity, payloadStart: p };
  }
  return { kind, length, payloadStart: p };
}

function readArray<T>(r: Reader, item: () => T): T[] {
  const count = r.varint();
  if (count > r.end - r.pos) throw new JvmTraceError('bad-declaration', 'bad count', r.pos);
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(item());
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export function kindOfDescriptor(descriptor: string): Kind {
  switch (descriptor[0]) {
    case 'J':
      return Kind.Long;
    case 'F':
      return Kind.Float;
    case 'D':
      return Kind.Double;
    case 'L':
    case '[':
      return Kind.Ref;
    default:
      return Kind.Int;
  }
}

/** For int-kind array elements the array's type tells boolean/char/byte/short from int. */
export function elementDescriptorOf(arrayTypeName: string, kind: Kind): string {
  if (kind !== Kind.Int) return 'I';
  if (arrayTypeName.startsWith('boolean[')) return 'Z';
  if (arrayTypeName.startsWith('char[')) return 'C';
  if (arrayTypeName.startsWith('byte[')) return 'B';
  if (arrayTypeName.startsWith('short[')) return 'S';
  return 'I';
}

/** Decodes a whole recording held in memory. */
export function decodeTrace(bytes: Uint8Array): {
  steps: JvmStep[];
  decoder: JvmTraceDecoder;
  batch: JvmDecodedBatch;
} {
  const decoder = new JvmTraceDecoder();
  const first = decoder.push(bytes);
  const last = decoder.end();
  const batch: JvmDecodedBatch = {
    steps: first.steps.concat(last.steps),
    threads: first.threads.concat(last.threads),
    warnings: first.warnings.concat(last.warnings),
    errors: first.errors.concat(last.errors),
    run: first.run ?? last.run,
    ended: first.ended || last.ended,
    droppedBuffers: first.droppedBuffers ?? last.droppedBuffers,
  };
  batch.steps.sort((a, b) => a.seq - b.seq);
  return { steps: batch.steps, decoder, batch };
}
