// Streaming decoder for the JVM agent's trace format that writes completed steps straight into
// columns (JvmStepColumns) instead of one JvmStep object per step: the recording path, where
// millions of steps per second would otherwise go through the garbage collector. Same steps,
// same rules and same error handling as JvmTraceDecoder (docs/jvm-trace-format.md, "Steps").

import {
  elementDescriptorOf as importedElementDescriptorOf,
  type FieldInfo,
  type JvmBatchCommon,
  type JvmMethodInfo,
  JvmStreamDecoder,
  type JvmThreadInfo,
  JvmTraceError,
  type Reader,
  unknownLocal,
  f32,
  f64,
  u32ForF32,
  u32ForF64,
} from './decoder';
import {
  Kind as KindEnum,
  UNKNOWN_LOCAL_VALUE,
  WellKnownType as WellKnownTypeEnum,
} from './format';
import { javaDouble, javaFloat } from './javaText';
import {
  AccessColumns,
  EXTRA_CAUGHT as IMPORTED_EXTRA_CAUGHT,
  EXTRA_RETURN as IMPORTED_EXTRA_RETURN,
  EXTRA_THROWN as IMPORTED_EXTRA_THROWN,
  JvmStepColumns,
  ValueType as ValueTypeEnum,
  ensureCapacity as importedEnsureCapacity,
} from './stepColumns';
import { AccessKindCode as ImportedAccessKindCode } from './chunkCodec';

function zigzag(u: number): number {
  return (u >>> 1) ^ -(u & 1);
}

/**
 * Reader.varint for the operands read most (values, indices, object ids): up to four bytes
 * are read without a check per byte when the chunk has room for them; longer varints and the
 * end of a chunk (truncation errors included) are left to Reader.varint.
 */
function readVarint(r: Reader): number {
  const bytes = r.bytes;
  let pos = r.pos;
  if (pos + 4 > r.end) return r.varint();
  let b = bytes[pos++];
  let result = b & 0x7f;
  if (b < 0x80) {
    r.pos = pos;
    return result;
  }
  b = bytes[pos++];
  result |= (b & 0x7f) << 7;
  if (b < 0x80) {
    r.pos = pos;
    return result;
  }
  b = bytes[pos++];
  result |= (b & 0x7f) << 14;
  if (b < 0x80) {
    r.pos = pos;
    return result;
  }
  b = bytes[pos++];
  result |= (b & 0x7f) << 21;
  if (b < 0x80) {
    r.pos = pos;
    return result;
  }
  return r.varint();
}

// Module-local copies of what the per-event code uses: run unbundled (tsx, tests), every read
// of an imported binding is a property getter call, which showed in the profile.
const Kind = KindEnum;
type Kind = KindEnum;
const WellKnownType = WellKnownTypeEnum;
type WellKnownType = WellKnownTypeEnum;
const ValueType = ValueTypeEnum;
const AccessKindCode = ImportedAccessKindCode;
const EXTRA_RETURN = IMPORTED_EXTRA_RETURN;
const EXTRA_THROWN = IMPORTED_EXTRA_THROWN;
const EXTRA_CAUGHT = IMPORTED_EXTRA_CAUGHT;
const ensureCapacity = importedEnsureCapacity;
const elementDescriptorOf = importedElementDescriptorOf;

/**
 * A batch of completed steps. `steps` is reused by the decoder: consume the batch before the
 * next push() or end().
 */
export interface JvmColumnBatch extends JvmBatchCommon {
  steps: JvmStepColumns;
  /** Variable names used for the first time in this batch: [name id, name]. */
  names: [number, string][];
  /**
   * Steps started while this batch was decoded have seq in [firstSeq, endSeq); at most one
   * step per thread, started before, has a smaller seq (it was still open).
   */
  firstSeq: number;
  endSeq: number;
}

/** The eight boxes of primitives; String, BigDecimal and BigInteger values stay references. */
function isBox(typeId: number): boolean {
  return typeId >= WellKnownType.Boolean && typeId <= WellKnownType.Double;
}

/** The value a box holds, typed as the column decoder keeps the primitive it boxes. */
interface BoxedValue {
  type: ValueTypeEnum;
  value: number;
  text: string | undefined;
}

/**
 * A box's value from its text (as the stream's shared reader printed it), typed as readAs
 * types a primitive of the boxed type: ints and longs within 2^52 as numbers, chars as codes,
 * booleans as 0/1, floats, doubles and larger longs as text.
 */
function boxedValue(typeId: WellKnownType, text: string): BoxedValue {
  switch (typeId) {
    case WellKnownType.Boolean:
      return { type: ValueType.Bool, value: text === 'true' ? 1 : 0, text: undefined };
    case WellKnownType.Character:
      return { type: ValueType.Char, value: text.charCodeAt(0), text: undefined };
    case WellKnownType.Float:
    case WellKnownType.Double:
      return { type: ValueType.Text, value: 0, text };
    default: {
      const value = Number(text);
      return value >= -(2 ** 52) && value < 2 ** 52
        ? { type: ValueType.Int, value, text: undefined }
        : { type: ValueType.Text, value: 0, text };
    }
  }
}

/** How values of a declared type are read (decided once per variable, field or method). */
enum Read {
  Int,
  Bool,
  Char,
  Byte,
  Short,
  Long,
  Float,
  Double,
  Ref,
  /** No value (void or line-only methods' returns). */
  None,
}

function readOf(descriptor: string): Read {
  switch (descriptor[0]) {
    case 'Z':
      return Read.Bool;
    case 'C':
      return Read.Char;
    case 'B':
      return Read.Byte;
    case 'S':
      return Read.Short;
    case 'J':
      return Read.Long;
    case 'F':
      return Read.Float;
    case 'D':
      return Read.Double;
    case 'L':
    case '[':
      return Read.Ref;
    default:
      return Read.Int;
  }
}

/** A method's locals as the decoder uses them: name ids (0 = not yet named) and value reads. */
interface MethodLocals {
  names: Int32Array;
  reads: Uint8Array;
  returnRead: Read;
  /** Line number by line index. */
  lines: Int32Array;
}

/** A field's name id and value read. */
interface FieldUse {
  name: number;
  read: Read;
}

/**
 * The last value written to each local variable of the frames on one thread's stack, a slot per
 * variable of each frame's method, the frames' slots back to back. A slot belongs to the frame
 * whose id it carries; other slots (not written since the frame began) hold no value.
 */
class LocalValueStack {
  frameId = new Float64Array(64);
  valueType = new Uint8Array(64);
  value = new Float64Array(64);
  text: (string | undefined)[] = [];

  reserve(end: number): void {
    if (end <= this.frameId.length) return;
    this.frameId = ensureCapacity(this.frameId, end);
    this.valueType = ensureCapacity(this.valueType, end);
    this.value = ensureCapacity(this.value, end);
  }
}

/** The call stack of one thread, a column per field, index = depth - 1. */
class FrameStack {
  depth = 0;
  method: (JvmMethodInfo | undefined)[] = [];
  locals: (MethodLocals | undefined)[] = [];
  methodId = new Int32Array(64);
  frameId = new Float64Array(64);
  lineIndex = new Int32Array(64);
  /** Order of the frame's current step; 0 = none yet. */
  stepOrder = new Float64Array(64);
  /** Where the frame's current step went once closed: row of batch `stepBatch` (-1 = none). */
  stepRow = new Int32Array(64);
  stepBatch = new Int32Array(64);
  callerOrder = new Float64Array(64);
  /** A traced callee returned: the next event here starts a new step on the same line. */
  resumed = new Uint8Array(64);
  /** Start of the frame's argument writes in the thread's pending list. */
  pendingStart = new Int32Array(64);
  /** Start of the frame's slots in the thread's LocalValueStack. */
  localsStart = new Int32Array(64);
  readonly localValues = new LocalValueStack();

  push(
    method: JvmMethodInfo | undefined,
    locals: MethodLocals | undefined,
    methodId: number,
    frameId: number,
    callerOrder: number,
    pendingStart: number,
  ): void {
    const d = this.depth;
    if (d === this.methodId.length) this.grow(d + 1);
    this.method[d] = method;
    this.locals[d] = locals;
    this.methodId[d] = methodId;
    this.frameId[d] = frameId;
    this.lineIndex[d] = -1;
    this.stepOrder[d] = 0;
    this.stepRow[d] = -1;
    this.callerOrder[d] = callerOrder;
    this.resumed[d] = 0;
    this.pendingStart[d] = pendingStart;
    const start = d > 0 ? this.localsStart[d - 1] + (this.locals[d - 1]?.reads.length ?? 0) : 0;
    this.localsStart[d] = start;
    this.localValues.reserve(start + (locals?.reads.length ?? 0));
    this.depth = d + 1;
  }

  private grow(needed: number): void {
    this.methodId = ensureCapacity(this.methodId, needed);
    this.frameId = ensureCapacity(this.frameId, needed);
    this.lineIndex = ensureCapacity(this.lineIndex, needed);
    this.stepOrder = ensureCapacity(this.stepOrder, needed);
    this.stepRow = ensureCapacity(this.stepRow, needed);
    this.stepBatch = ensureCapacity(this.stepBatch, needed);
    this.callerOrder = ensureCapacity(this.callerOrder, needed);
    this.resumed = ensureCapacity(this.resumed, needed);
    this.pendingStart = ensureCapacity(this.pendingStart, needed);
    this.localsStart = ensureCapacity(this.localsStart, needed);
  }
}

/** The step a thread is in, filled event by event until the next step starts. */
class OpenStep {
  active = false;
  seq = 0;
  order = 0;
  frameId = 0;
  depth = 0;
  methodId = 0;
  lineIndex = 0;
  line = 0;
  callerOrder = 0;
  extraFlags = 0;
  returnType: ValueTypeEnum = ValueType.Int;
  returnValue = 0;
  returnText: string | undefined;
  thrown = 0;
  caught = 0;
  readonly reads = new AccessColumns();
  readonly writes = new AccessColumns();
  branches = new Int32Array(16);
  branchCount = 0;
}

interface ColumnThread {
  info: JvmThreadInfo;
  order: number;
  frames: FrameStack;
  /** Argument writes of frames that have no step yet, stacked by frame. */
  pending: AccessColumns;
  open: OpenStep;
}

export class JvmColumnDecoder extends JvmStreamDecoder<JvmColumnBatch, ColumnThread> {
  private nextSeq = 0;
  private nextFrameId = 1;
  /** Number of the batch being decoded (tells whether a closed step's row is still here). */
  private batchNumber = 0;
  private readonly columns = new JvmStepColumns();
  private readonly threads = new Map<number, ColumnThread>();
  private readonly names = new Map<string, number>();
  private readonly methodLocals = new Map<JvmMethodInfo, MethodLocals>();
  private readonly fieldUses = new Map<FieldInfo, FieldUse>();
  private readonly staticUses = new Map<FieldInfo, FieldUse>();
  /**
   * Boxes by object id, as the value they hold: a box is stored like the primitive it boxes, so
   * a chunk's string table has one entry for `1000` whether an int or an Integer holds it, as
   * the object path's table interned by text has.
   */
  private readonly boxes = new Map<number, BoxedValue>();
  // The value just read (out-parameters of readAs, so reading allocates nothing).
  private valueType: ValueTypeEnum = ValueType.Int;
  private value = 0;
  private valueText: string | undefined;

  protected emptyBatch(): JvmColumnBatch {
    return {
      steps: this.columns ?? new JvmStepColumns(), // the base constructor runs before fields
      names: [],
      firstSeq: this.nextSeq ?? 0,
      endSeq: this.nextSeq ?? 0,
      threads: [],
      warnings: [],
      errors: [],
      ended: false,
    };
  }

  override push(data: Uint8Array): JvmColumnBatch {
    this.beginBatch();
    return super.push(data);
  }

  override end(): JvmColumnBatch {
    this.beginBatch();
    return super.end();
  }

  protected override takeBatch(): JvmColumnBatch {
    this.batch.endSeq = this.nextSeq;
    return super.takeBatch();
  }

  private beginBatch(): void {
    this.columns.clear();
    this.batchNumber++;
    this.batch.steps = this.columns;
    this.batch.firstSeq = this.nextSeq;
  }

  protected onThreadDeclared(info: JvmThreadInfo): void {
    this.threads.set(info.id, {
      info,
      order: 0,
      frames: new FrameStack(),
      pending: new AccessColumns(),
      open: new OpenStep(),
    });
  }

  protected closeAllSteps(): void {
    for (const thread of this.threads.values()) this.closeOpenStep(thread);
  }

  /** Name ids are per decoder (one run); the writer stores the new ones with each batch. */
  private nameId(name: string): number {
    let id = this.names.get(name);
    if (id === undefined) {
      id = this.names.size + 1;
      this.names.set(name, id);
      this.batch.names.push([id, name]);
    }
    return id;
  }

  private localsOf(method: JvmMethodInfo | undefined): MethodLocals | undefined {
    if (method === undefined) return undefined;
    let locals = this.methodLocals.get(method);
    if (locals === undefined) {
      locals = {
        names: new Int32Array(method.variables.length), // named on first access
        reads: Uint8Array.from(method.variables, (v) => readOf(v.descriptor)),
        returnRead:
          method.linesOnly || method.returnDescriptor === 'V'
            ? Read.None
            : readOf(method.returnDescriptor),
        lines: Int32Array.from(method.lines),
      };
      this.methodLocals.set(method, locals);
    }
    return locals;
  }

  /** Name id and value read of a field as the event uses it: statics are named `Class.field`. */
  private fieldUse(field: FieldInfo, asStatic: boolean): FieldUse {
    const uses = asStatic ? this.staticUses : this.fieldUses;
    let use = uses.get(field);
    if (use === undefined) {
      const name = asStatic ? `${field.owner}.${field.name}` : field.name;
      use = { name: this.nameId(name), read: readOf(field.descriptor) };
      uses.set(field, use);
    }
    return use;
  }

  // ---- events --------------------------------------------------------------------------------

  protected threadState(threadId: number): ColumnThread | undefined {
    return this.threads.get(threadId);
  }

  protected resync(thread: ColumnThread): void {
    thread.frames.depth = 0;
    thread.pending.clear();
    this.closeOpenStep(thread);
  }

  protected onLineAfterCall(thread: ColumnThread): void {
    const top = thread.frames.depth - 1;
    if (top >= 0 && thread.frames.resumed[top] === 1) {
      this.newStep(thread, thread.frames.lineIndex[top]);
    }
  }

  protected onEnter(thread: ColumnThread, methodId: number): void {
    // No caller step here even after a traced callee returned: see JvmTraceDecoder.onEnter.
    const frames = thread.frames;
    const callerOrder = frames.depth > 0 ? frames.stepOrder[frames.depth - 1] : 0;
    const method = this.methods.get(methodId);
    frames.push(
      method,
      this.localsOf(method),
      methodId,
      this.nextFrameId++,
      callerOrder,
      thread.pending.length,
    );
  }

  protected onLine(thread: ColumnThread, lineIndex: number): void {
    const frames = thread.frames;
    const top = frames.depth - 1;
    if (top < 0) return; // no frame context (after a lost chunk): skip until ENTER
    if (
      frames.stepOrder[top] === 0 ||
      frames.resumed[top] === 1 ||
      frames.lineIndex[top] !== lineIndex
    ) {
      this.newStep(thread, lineIndex);
    }
  }

  protected onBranch(thread: ColumnThread, branch: number): void {
    if (thread.frames.depth === 0 || !this.stepForEvent(thread)) return;
    const open = thread.open;
    open.branches = ensureCapacity(open.branches, open.branchCount + 1);
    open.branches[open.branchCount++] = branch;
  }

  /**
   * Prepares the top frame's step for an event (a new one after a traced callee returned);
   * true when the frame has a step, which is then the thread's open step.
   */
  private stepForEvent(thread: ColumnThread): boolean {
    const frames = thread.frames;
    const top = frames.depth - 1;
    if (frames.resumed[top] === 1 && frames.lineIndex[top] >= 0) {
      this.newStep(thread, frames.lineIndex[top]);
    }
    return frames.stepOrder[top] > 0 && thread.open.active;
  }

  protected onReturn(r: Reader, thread: ColumnThread): void {
    const frames = thread.frames;
    const top = frames.depth - 1;
    if (top < 0) {
      // Return of a frame entered before recording began (attach, window): its value
      // encoding is unknown, so the rest of the chunk cannot be trusted.
      throw new JvmTraceError('bad-event', 'return without a frame', r.pos);
    }
    const hasStep = this.stepForEvent(thread);
    const returnRead = frames.locals[top]?.returnRead ?? Read.None;
    if (returnRead !== Read.None) {
      this.readAs(r, returnRead);
      if (hasStep) {
        const open = thread.open;
        open.extraFlags |= EXTRA_RETURN;
        open.returnType = this.valueType;
        open.returnValue = this.value;
        open.returnText = this.valueText;
      }
    }
    this.popFrame(thread);
  }

  protected onThrowExit(r: Reader, thread: ColumnThread): void {
    const exception = this.readRefId(r);
    const frames = thread.frames;
    const top = frames.depth - 1;
    if (top < 0) return;
    this.markThrown(thread, top, exception);
    this.popFrame(thread);
  }

  /**
   * The frame's current step gets the exception, even when it is already closed (the frame
   * was left through a callee that threw) as long as the step is still in this batch; a step
   * handed to the writer in an earlier batch stays as stored, as with JvmTraceDecoder.
   */
  private markThrown(thread: ColumnThread, top: number, exception: number): void {
    const frames = thread.frames;
    const order = frames.stepOrder[top];
    if (order === 0) return;
    const open = thread.open;
    if (open.active && open.order === order) {
      open.extraFlags |= EXTRA_THROWN;
      open.thrown = exception;
    } else if (frames.stepRow[top] >= 0 && frames.stepBatch[top] === this.batchNumber) {
      const row = frames.stepRow[top];
      this.columns.extraFlags[row] |= EXTRA_THROWN;
      this.columns.thrown[row] = exception;
    }
  }

  protected onCaught(r: Reader, thread: ColumnThread): void {
    const exception = this.readRefId(r);
    if (thread.frames.depth === 0 || !this.stepForEvent(thread)) return;
    thread.open.extraFlags |= EXTRA_CAUGHT;
    thread.open.caught = exception;
  }

  private popFrame(thread: ColumnThread): void {
    const frames = thread.frames;
    const top = --frames.depth;
    thread.pending.length = Math.min(thread.pending.length, frames.pendingStart[top]);
    if (top > 0) frames.resumed[top - 1] = 1;
  }

  protected onGap(r: Reader, thread: ColumnThread): void {
    r.varint(); // dropped buffer count (informational)
    const depth = r.varint();
    const methodIds: number[] = [];
    for (let i = 0; i < depth; i++) methodIds.push(r.varint());
    this.closeOpenStep(thread);
    thread.frames.depth = 0;
    thread.pending.clear();
    for (const methodId of methodIds) {
      const method = this.methods.get(methodId);
      thread.frames.push(method, this.localsOf(method), methodId, this.nextFrameId++, 0, 0);
    }
    this.batch.warnings.push(`thread ${thread.info.name}: events lost, resynchronised`);
  }

  private newStep(thread: ColumnThread, lineIndex: number): void {
    this.closeOpenStep(thread);
    const frames = thread.frames;
    const top = frames.depth - 1;
    const lines = frames.locals[top]?.lines;
    const open = thread.open;
    open.active = true;
    open.seq = this.nextSeq++;
    open.order = ++thread.order;
    open.frameId = frames.frameId[top];
    open.depth = frames.depth;
    open.methodId = frames.methodId[top];
    open.lineIndex = lineIndex;
    open.line = lines !== undefined && lineIndex < lines.length ? lines[lineIndex] : -1;
    open.callerOrder = frames.callerOrder[top];
    open.extraFlags = 0;
    open.branchCount = 0;
    open.reads.clear();
    open.writes.clear();
    const pending = thread.pending;
    const argumentsStart = frames.pendingStart[top];
    if (pending.length > argumentsStart) {
      open.writes.append(pending, argumentsStart, pending.length);
      pending.length = argumentsStart;
    }
    frames.stepOrder[top] = open.order;
    frames.stepRow[top] = -1;
    frames.lineIndex[top] = lineIndex;
    frames.resumed[top] = 0;
  }

  /** Appends the thread's open step to the batch's columns. */
  private closeOpenStep(thread: ColumnThread): void {
    const open = thread.open;
    if (!open.active) return;
    open.active = false;
    const c = this.columns;
    const row = c.addRow();
    c.seq[row] = open.seq;
    c.threadId[row] = thread.info.id;
    c.order[row] = open.order;
    c.frameId[row] = open.frameId;
    c.depth[row] = open.depth;
    c.methodId[row] = open.methodId;
    c.lineIndex[row] = open.lineIndex;
    c.line[row] = open.line;
    c.callerOrder[row] = open.callerOrder;
    c.extraFlags[row] = open.extraFlags;
    if (open.extraFlags & EXTRA_RETURN) {
      c.returnType[row] = open.returnType;
      c.returnValue[row] = open.returnValue;
      if (open.returnType === ValueType.Text) c.returnText[row] = open.returnText;
    }
    c.thrown[row] = open.thrown;
    c.caught[row] = open.caught;
    c.accessStart[row] = c.accesses.length;
    c.readCount[row] = open.reads.length;
    c.accesses.append(open.reads, 0, open.reads.length);
    c.accesses.append(open.writes, 0, open.writes.length);
    c.accessStart[row + 1] = c.accesses.length;
    c.branchStart[row] = c.branchCount;
    c.addBranches(open.branches, open.branchCount);
    c.branchStart[row + 1] = c.branchCount;
    // The frame may still mark its step as left by an exception (markThrown).
    const frames = thread.frames;
    const d = open.depth - 1;
    if (
      d < frames.depth &&
      frames.frameId[d] === open.frameId &&
      frames.stepOrder[d] === open.order
    ) {
      frames.stepRow[d] = row;
      frames.stepBatch[d] = this.batchNumber;
    }
  }

  // ---- variable accesses ---------------------------------------------------------------------

  protected onLocal(r: Reader, thread: ColumnThread, variable: number, write: boolean): void {
    const frames = thread.frames;
    const top = frames.depth - 1;
    const locals = top >= 0 ? frames.locals[top] : undefined;
    if (locals === undefined || variable >= locals.reads.length) {
      throw unknownLocal(variable, r.pos);
    }
    this.readAs(r, locals.reads[variable]);
    if (write) this.keepLocalValue(frames, top, variable);
    this.record(thread, AccessKindCode.local, this.localNameId(frames, top, variable), -1, write);
  }

  protected onLocalAsWritten(r: Reader, thread: ColumnThread, variable: number): void {
    const frames = thread.frames;
    const top = frames.depth - 1;
    const locals = top >= 0 ? frames.locals[top] : undefined;
    if (locals === undefined || variable >= locals.reads.length) {
      throw unknownLocal(variable, r.pos);
    }
    this.lastLocalValue(frames, top, variable);
    this.record(thread, AccessKindCode.local, this.localNameId(frames, top, variable), -1, false);
  }

  private localNameId(frames: FrameStack, top: number, variable: number): number {
    const names = frames.locals[top]!.names;
    return (
      names[variable] ||
      (names[variable] = this.nameId(frames.method[top]!.variables[variable].name))
    );
  }

  /** Keeps the value just read as the frame's last write of the variable. */
  private keepLocalValue(frames: FrameStack, top: number, variable: number): void {
    const slot = frames.localsStart[top] + variable;
    const values = frames.localValues;
    values.frameId[slot] = frames.frameId[top];
    values.valueType[slot] = this.valueType;
    values.value[slot] = this.value;
    if (this.valueType === ValueType.Text) values.text[slot] = this.valueText;
  }

  /** The frame's last write of the variable as the value just read (unknown: none since a GAP). */
  private lastLocalValue(frames: FrameStack, top: number, variable: number): void {
    const slot = frames.localsStart[top] + variable;
    const values = frames.localValues;
    if (values.frameId[slot] !== frames.frameId[top]) {
      this.valueType = ValueType.Text;
      this.valueText = UNKNOWN_LOCAL_VALUE;
      return;
    }
    this.valueType = values.valueType[slot];
    this.value = values.value[slot];
    this.valueText = values.text[slot];
  }

  protected onField(r: Reader, thread: ColumnThread, write: boolean): void {
    const use = this.fieldUse(this.fieldInfo(r), false);
    const ownerId = this.readRef(r);
    this.readAs(r, use.read);
    if (thread.frames.depth > 0)
      this.record(thread, AccessKindCode.field, use.name, ownerId, write);
  }

  protected onStatic(r: Reader, thread: ColumnThread, write: boolean): void {
    const use = this.fieldUse(this.fieldInfo(r), true);
    this.readAs(r, use.read);
    if (thread.frames.depth > 0) this.record(thread, AccessKindCode.static, use.name, -1, write);
  }

  protected onArray(r: Reader, thread: ColumnThread, kind: Kind, write: boolean): void {
    const arrayId = this.readRef(r);
    const index = readVarint(r);
    // The array's type tells boolean/char/byte/short elements from int ones.
    const descriptor = kind === Kind.Int ? elementDescriptorOf(this.renderRef(arrayId), kind) : '';
    this.readKindValue(r, kind, descriptor);
    if (thread.frames.depth > 0) this.record(thread, AccessKindCode.array, index, arrayId, write);
  }

  /** Adds the value just read to the top frame's step (or to its arguments before one). */
  private record(
    thread: ColumnThread,
    kind: number,
    slot: number,
    owner: number,
    write: boolean,
  ): void {
    if (!this.stepForEvent(thread)) {
      if (write && thread.frames.stepOrder[thread.frames.depth - 1] === 0) {
        thread.pending.push(kind, slot, owner, this.valueType, this.value, this.valueText);
      }
      return;
    }
    const list = write ? thread.open.writes : thread.open.reads;
    list.push(kind, slot, owner, this.valueType, this.value, this.valueText);
  }

  // ---- values --------------------------------------------------------------------------------

  /** Reads a value encoded by its declared type into valueType/value/valueText. */
  private readAs(r: Reader, read: Read): void {
    switch (read) {
      case Read.Int:
        return this.setInt(r, 0);
      case Read.Bool:
        this.valueType = ValueType.Bool;
        this.value = zigzag(readVarint(r)) !== 0 ? 1 : 0;
        return;
      case Read.Char:
        this.valueType = ValueType.Char;
        this.value = zigzag(readVarint(r)) & 0xffff;
        return;
      case Read.Byte:
        return this.setInt(r, 24);
      case Read.Short:
        return this.setInt(r, 16);
      case Read.Long:
        return this.readLong(r);
      case Read.Float:
        return this.readKindValue(r, Kind.Float, 'F');
      case Read.Double:
        return this.readKindValue(r, Kind.Double, 'D');
      default:
        return this.readKindValue(r, Kind.Ref, 'L');
    }
  }

  /** An int-like value, sign-extended from its low 32 - `shift` bits (byte: 24, short: 16). */
  private setInt(r: Reader, shift: number): void {
    this.valueType = ValueType.Int;
    this.value = (zigzag(readVarint(r)) << shift) >> shift;
  }

  /** As javaIntLike prints an int-like value of this descriptor, kept as a number. */
  private readIntLike(r: Reader, descriptor: string): void {
    this.readAs(r, readOf(descriptor));
  }

  private readKindValue(r: Reader, kind: Kind, descriptor: string): void {
    switch (kind) {
      case Kind.Int:
        return this.readIntLike(r, descriptor);
      case Kind.Long:
        return this.readLong(r);
      case Kind.Float:
        u32ForF32[0] = r.fixed32();
        this.valueType = ValueType.Text;
        this.valueText = javaFloat(f32[0]);
        return;
      case Kind.Double:
        u32ForF64[0] = r.fixed32();
        u32ForF64[1] = r.fixed32();
        this.valueType = ValueType.Text;
        this.valueText = javaDouble(f64[0]);
        return;
      case Kind.Ref:
        return this.readObjectValue(r);
      default:
        throw new JvmTraceError('bad-event', `unknown value kind ${kind}`, r.pos);
    }
  }

  /** An object reference as a value: a box's value, else the object id. */
  private readObjectValue(r: Reader): void {
    const id = this.readRef(r);
    const box = this.boxes.size === 0 ? undefined : this.boxes.get(id);
    if (box === undefined) {
      this.valueType = ValueType.Ref;
      this.value = id;
      return;
    }
    this.valueType = box.type;
    this.value = box.value;
    this.valueText = box.text;
  }

  protected override onObjectDeclared(id: number, typeId: number, value: string | undefined): void {
    if (value !== undefined && isBox(typeId)) {
      this.boxes.set(id, boxedValue(typeId, value));
    } else if (this.boxes.size > 0) {
      this.boxes.delete(id); // only a damaged stream declares an id again with another type
    }
  }

  /** readRefId, with objects already declared (the common case) read here. */
  private readRef(r: Reader): number {
    const start = r.pos;
    const u = readVarint(r);
    if (u % 2 === 0) return u / 2;
    r.pos = start; // a declaration follows: readRefId reads and records it
    return this.readRefId(r);
  }

  /** A zigzag long: a number while exact, else its decimal text (as bigint arithmetic gives). */
  private readLong(r: Reader): void {
    const start = r.pos;
    const u = readVarint(r);
    if (u < 2 ** 53) {
      this.valueType = ValueType.Int;
      this.value = u % 2 === 0 ? u / 2 : -(u + 1) / 2;
      return;
    }
    r.pos = start;
    const big = r.varbig();
    this.valueType = ValueType.Text;
    this.valueText = ((big >> 1n) ^ -(big & 1n)).toString();
  }
}
