// Decoded JVM steps as columns (one typed array per field, a row per step) instead of one object
// per step: the column decoder fills them, the column writer computes relations over them. The
// arrays are reused from batch to batch, so decoding 10 M steps allocates per batch, not per
// step. Values stay typed (an int stays a number) until a chunk is encoded.

/** How an access's `value` column is to be read. */
export enum ValueType {
  /** A Java integer (boolean/char excluded), exact in a double: prints as the number. */
  Int = 0,
  /** A char code. */
  Char = 1,
  /** 0 or 1. */
  Bool = 2,
  /** An object id (0 = null), printed through the decoder's object table. */
  Ref = 3,
  /** Already text (floats, doubles, longs beyond 2^53): the `text` column holds it. */
  Text = 4,
}

export const EXTRA_RETURN = 1;
export const EXTRA_THROWN = 2;
export const EXTRA_CAUGHT = 4;

type Growable = Uint8Array | Int32Array | Float64Array;

/** `array`, or a copy twice as large when `needed` does not fit. */
export function ensureCapacity<T extends Growable>(array: T, needed: number): T {
  if (needed <= array.length) return array;
  let size = Math.max(16, array.length * 2);
  while (size < needed) size *= 2;
  const grown = new (array.constructor as new (length: number) => T)(size);
  grown.set(array);
  return grown;
}

/** A growable list of variable accesses (AccessKindCode, slot, owner object, typed value). */
export class AccessColumns {
  length = 0;
  kind = new Uint8Array(64);
  /** Name id (local, field, static) or element index (array). */
  slot = new Float64Array(64);
  /** Owner object id for fields and array elements; -1 for none. */
  owner = new Float64Array(64);
  valueType = new Uint8Array(64);
  value = new Float64Array(64);
  /** Only meaningful where valueType is Text. */
  text: (string | undefined)[] = [];

  push(
    kind: number,
    slot: number,
    owner: number,
    valueType: ValueType,
    value: number,
    text: string | undefined,
  ): void {
    const i = this.length;
    if (i === this.kind.length) this.grow(i + 1);
    this.kind[i] = kind;
    this.slot[i] = slot;
    this.owner[i] = owner;
    this.valueType[i] = valueType;
    this.value[i] = value;
    if (valueType === ValueType.Text) this.text[i] = text;
    this.length = i + 1;
  }

  /** Appends rows [start, end) of another list (a few rows: a loop beats typed-array views). */
  append(from: AccessColumns, start: number, end: number): void {
    const count = end - start;
    if (count <= 0) return;
    const at = this.length;
    if (at + count > this.kind.length) this.grow(at + count);
    for (let i = 0; i < count; i++) {
      const src = start + i;
      const dst = at + i;
      this.kind[dst] = from.kind[src];
      this.slot[dst] = from.slot[src];
      this.owner[dst] = from.owner[src];
      const valueType = from.valueType[src];
      this.valueType[dst] = valueType;
      this.value[dst] = from.value[src];
      if (valueType === ValueType.Text) this.text[dst] = from.text[src];
    }
    this.length = at + count;
  }

  /** Empties the list; `text` keeps its stale entries (read only where valueType is Text). */
  clear(): void {
    this.length = 0;
  }

  private grow(needed: number): void {
    this.kind = ensureCapacity(this.kind, needed);
    this.slot = ensureCapacity(this.slot, needed);
    this.owner = ensureCapacity(this.owner, needed);
    this.valueType = ensureCapacity(this.valueType, needed);
    this.value = ensureCapacity(this.value, needed);
  }
}

/**
 * Completed steps of one decoder batch, a row each. Accesses of row i are
 * accesses[accessStart[i], accessStart[i + 1]), reads first; branches likewise.
 */
export class JvmStepColumns {
  count = 0;
  seq = new Float64Array(256);
  threadId = new Int32Array(256);
  order = new Float64Array(256);
  /** Invocation instance (unique per decoder) and call depth of the step's frame. */
  frameId = new Float64Array(256);
  depth = new Int32Array(256);
  methodId = new Int32Array(256);
  lineIndex = new Int32Array(256);
  line = new Int32Array(256);
  /** Order (same thread) of the caller's step that made this call; 0 for none. */
  callerOrder = new Float64Array(256);
  readCount = new Int32Array(256);
  accessStart = new Int32Array(257);
  branchStart = new Int32Array(257);
  /** EXTRA_RETURN | EXTRA_THROWN | EXTRA_CAUGHT. */
  extraFlags = new Uint8Array(256);
  returnType = new Uint8Array(256);
  returnValue = new Float64Array(256);
  returnText: (string | undefined)[] = [];
  /** Exception object ids. */
  thrown = new Float64Array(256);
  caught = new Float64Array(256);
  readonly accesses = new AccessColumns();
  branches = new Int32Array(256);
  branchCount = 0;

  /** Makes room for one more row and returns its index (fields are set by the caller). */
  addRow(): number {
    const row = this.count;
    if (row + 1 >= this.seq.length) this.grow(row + 2);
    this.count = row + 1;
    this.extraFlags[row] = 0;
    return row;
  }

  addBranches(list: Int32Array, count: number): void {
    if (count === 0) return;
    this.branches = ensureCapacity(this.branches, this.branchCount + count);
    for (let i = 0; i < count; i++) this.branches[this.branchCount++] = list[i];
  }

  clear(): void {
    this.count = 0;
    this.branchCount = 0;
    this.accesses.clear();
  }

  private grow(needed: number): void {
    this.seq = ensureCapacity(this.seq, needed);
    this.threadId = ensureCapacity(this.threadId, needed);
    this.order = ensureCapacity(this.order, needed);
    this.frameId = ensureCapacity(this.frameId, needed);
    this.depth = ensureCapacity(this.depth, needed);
    this.methodId = ensureCapacity(this.methodId, needed);
    this.lineIndex = ensureCapacity(this.lineIndex, needed);
    this.line = ensureCapacity(this.line, needed);
    this.callerOrder = ensureCapacity(this.callerOrder, needed);
    this.readCount = ensureCapacity(this.readCount, needed);
    // Row i's range ends at [i + 1]: one more entry than rows, whatever size seq grew to.
    this.accessStart = ensureCapacity(this.accessStart, this.seq.length + 1);
    this.branchStart = ensureCapacity(this.branchStart, this.seq.length + 1);
    this.extraFlags = ensureCapacity(this.extraFlags, needed);
    this.returnType = ensureCapacity(this.returnType, needed);
    this.returnValue = ensureCapacity(this.returnValue, needed);
    this.thrown = ensureCapacity(this.thrown, needed);
    this.caught = ensureCapacity(this.caught, needed);
  }
}
