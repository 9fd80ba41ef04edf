// The binary encoding of one stored chunk of JVM steps (a run of up to CHUNK_STEPS consecutive
// steps of one thread), as held in `jvm_chunks.data`. Columnar so that equal neighbours
// compress well, then deflate-compressed. docs/session-schema.md documents the layout for
// people who read session files without Bathysphere; keep the two in step.

import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ChunkValueTable } from './chunkValues';
import {
  EXTRA_CAUGHT as IMPORTED_EXTRA_CAUGHT,
  EXTRA_RETURN as IMPORTED_EXTRA_RETURN,
  EXTRA_THROWN as IMPORTED_EXTRA_THROWN,
  ValueType as ValueTypeEnum,
  ensureCapacity as importedEnsureCapacity,
} from './stepColumns';

// Module-local copies (unbundled, an imported binding is read through a getter per use).
const EXTRA_RETURN = IMPORTED_EXTRA_RETURN;
const EXTRA_THROWN = IMPORTED_EXTRA_THROWN;
const EXTRA_CAUGHT = IMPORTED_EXTRA_CAUGHT;
const ValueType = ValueTypeEnum;
type ValueType = ValueTypeEnum;
const ensureCapacity = importedEnsureCapacity;

/** Steps per sealed chunk: small enough to decode in well under a millisecond. */
export const CHUNK_STEPS = 4096;
/** `jvm_chunks.encoding`: 1 = the layout below, deflate-raw compressed. */
export const CHUNK_ENCODING_DEFLATE_V1 = 1;

/** Access kinds as stored (the order is part of the file format). */
export const ACCESS_KINDS = ['local', 'field', 'static', 'array'] as const;
export type StoredAccessKind = (typeof ACCESS_KINDS)[number];
export const AccessKindCode = { local: 0, field: 1, static: 2, array: 3 } as const;

/** A malformed chunk blob (a damaged or foreign session file). */
export class JvmChunkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JvmChunkError';
  }
}

/** Growable byte buffer with the varint primitives of the trace format. */
export class ByteWriter {
  private bytes = new Uint8Array(1024);
  length = 0;

  /** Makes room for `extra` more bytes (before a run of the unchecked writes below). */
  ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  u8(value: number): void {
    this.ensure(1);
    this.bytes[this.length++] = value;
  }

  /** Unsigned varint of a non-negative safe integer. */
  varint(value: number): void {
    this.ensure(8);
    if (value < 0x80) {
      this.bytes[this.length++] = value; // most ids, counts and deltas: one byte
      return;
    }
    this.varintUnchecked(value);
  }

  /** varint() without the room check: call ensure() first (8 bytes per varint). */
  varintUnchecked(value: number): void {
    const bytes = this.bytes;
    let at = this.length;
    // Above 2^31 the shifts below would wrap: divide while the value is that large.
    while (value >= 0x80000000) {
      bytes[at++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    while (value >= 0x80) {
      bytes[at++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    bytes[at++] = value;
    this.length = at;
  }

  /**
   * A safe integer's decimal text as string() writes String(value) (ASCII, so the byte length
   * is the character count), without making the string.
   */
  decimal(value: number): void {
    this.ensure(24);
    const bytes = this.bytes;
    let magnitude = value < 0 ? -value : value;
    let digits = 1;
    for (let rest = magnitude; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    const negative = value < 0 ? 1 : 0;
    bytes[this.length] = digits + negative; // at most 17 characters: a one-byte varint
    if (negative) bytes[this.length + 1] = 0x2d; // '-'
    const end = this.length + 1 + negative + digits;
    for (let at = end - 1; at > end - 1 - digits; at--) {
      const next = Math.floor(magnitude / 10);
      bytes[at] = 0x30 + (magnitude - next * 10);
      magnitude = next;
    }
    this.length = end;
  }

  /** Signed 32-bit value, zigzag. */
  zigzag(value: number): void {
    this.varint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  /** A string as varint UTF-8 byte length + bytes. */
  string(text: string): void {
    const n = text.length;
    let ascii = true;
    for (let i = 0; i < n && ascii; i++) ascii = text.charCodeAt(i) < 0x80;
    if (!ascii) {
      const bytes = Buffer.from(text, 'utf8');
      this.varint(bytes.length);
      this.append(bytes);
      return;
    }
    this.varint(n);
    this.ensure(n);
    for (let i = 0; i < n; i++) this.bytes[this.length++] = text.charCodeAt(i);
  }

  append(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}

class ByteReader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  u8(): number {
    if (this.pos >= this.bytes.length) throw new JvmChunkError('chunk ends early');
    return this.bytes[this.pos++];
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new JvmChunkError('varint too long');
    }
  }

  zigzag(): number {
    const u = this.varint();
    return (u >>> 1) ^ -(u & 1);
  }

  bytesOf(length: number): Uint8Array {
    if (this.pos + length > this.bytes.length) throw new JvmChunkError('chunk ends early');
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
}

/** The per-step columns of a step to store (accesses and extras are added separately). */
export interface StepHeader {
  seq: number;
  locationId: number;
  depth: number;
  /** Orders in the same thread, 0 for none. */
  invocationParent: number;
  controlDominator: number;
  readCount: number;
  writeCount: number;
}

/**
 * Accumulates one chunk column by column. Layout of the uncompressed chunk (all varints
 * unless noted), N = step count:
 *
 *   N, firstSeq
 *   N x seq delta from the previous step's seq (first: 0)
 *   N x location id
 *   N x depth
 *   N x invocation parent as `order - parentOrder` (0 = none)
 *   N x control dominator as `order - dominatorOrder` (0 = none)
 *   N x read count, N x write count, N x extras flags (1 return, 2 thrown, 4 caught)
 *   accesses, per step its reads then its writes:
 *     kind:u8 slot owner(string index + 1, 0 = none) value(string index) writer
 *     writer = 0 (none) | 1, order delta (same thread) | threadId + 1, order (other thread)
 *   extras, per step with flags: string index per flag bit, in bit order
 *   string table: count, then (UTF-8 byte length, bytes)*
 */
export class ChunkBuilder {
  private seqs: number[] = [];
  private locations: number[] = [];
  private depths: number[] = [];
  private parents: number[] = [];
  private dominators: number[] = [];
  private readCounts: number[] = [];
  private writeCounts: number[] = [];
  private extraFlags: number[] = [];
  private readonly accesses = new ByteWriter();
  private readonly extras = new ByteWriter();
  private strings = new Map<string, number>();
  private stringList: string[] = [];
  /** Distinct location ids of the chunk, for the per-line navigation index. */
  readonly locationSet = new Set<number>();
  firstOrder = 0;
  minDepth = Number.MAX_SAFE_INTEGER;

  constructor(readonly threadId: number) {}

  get count(): number {
    return this.seqs.length;
  }

  get firstSeq(): number {
    return this.seqs[0];
  }

  get lastSeq(): number {
    return this.seqs[this.seqs.length - 1];
  }

  get locationIds(): Iterable<number> {
    return this.locationSet;
  }

  /**
   * Starts a step; its readCount + writeCount accesses follow through addAccess (reads first),
   * then addExtras. Taking fields one by one keeps the hot path free of temporary objects.
   */
  beginStep(order: number, step: StepHeader): void {
    if (this.seqs.length === 0) this.firstOrder = order;
    this.seqs.push(step.seq);
    this.locations.push(step.locationId);
    this.locationSet.add(step.locationId);
    this.depths.push(step.depth);
    if (step.depth < this.minDepth) this.minDepth = step.depth;
    this.parents.push(step.invocationParent > 0 ? order - step.invocationParent : 0);
    this.dominators.push(step.controlDominator > 0 ? order - step.controlDominator : 0);
    this.readCounts.push(step.readCount);
    this.writeCounts.push(step.writeCount);
  }

  /**
   * @param kind AccessKindCode
   * @param slot name id (local, field, static) or element index (array)
   * @param writerThread reads: thread of the step that last wrote the variable; writes: of its
   *   previous write; 0 = none
   */
  addAccess(
    order: number,
    kind: number,
    slot: number,
    owner: string | undefined,
    value: string,
    writerThread: number,
    writerOrder: number,
  ): void {
    const out = this.accesses;
    out.u8(kind);
    out.varint(slot);
    out.varint(owner === undefined ? 0 : this.intern(owner) + 1);
    out.varint(this.intern(value));
    if (writerThread === 0) out.varint(0);
    else if (writerThread === this.threadId) {
      out.varint(1);
      out.varint(order - writerOrder);
    } else {
      out.varint(writerThread + 1);
      out.varint(writerOrder);
    }
  }

  addExtras(returnValue?: string, thrown?: string, caught?: string): void {
    let flags = 0;
    if (returnValue !== undefined) {
      flags |= EXTRA_RETURN;
      this.extras.varint(this.intern(returnValue));
    }
    if (thrown !== undefined) {
      flags |= EXTRA_THROWN;
      this.extras.varint(this.intern(thrown));
    }
    if (caught !== undefined) {
      flags |= EXTRA_CAUGHT;
      this.extras.varint(this.intern(caught));
    }
    this.extraFlags.push(flags);
  }

  private intern(text: string): number {
    let index = this.strings.get(text);
    if (index === undefined) {
      index = this.stringList.length;
      this.strings.set(text, index);
      this.stringList.push(text);
    }
    return index;
  }

  /** The per-step columns by name (writeChunkSteps knows their order in the layout). */
  private columns(): ChunkStepColumns {
    return {
      locations: this.locations,
      depths: this.depths,
      parents: this.parents,
      dominators: this.dominators,
      readCounts: this.readCounts,
      writeCounts: this.writeCounts,
      extraFlags: this.extraFlags,
    };
  }

  /** The chunk's uncompressed bytes. */
  encode(): Uint8Array {
    const out = new ByteWriter();
    writeChunkSteps(out, this.seqs.length, this.seqs, this.columns(), this.accesses, this.extras);
    out.varint(this.stringList.length);
    for (const text of this.stringList) out.string(text);
    return out.view();
  }
}

/** The per-step columns of a chunk, in the order the chunk layout stores them. */
const STEP_COLUMN_ORDER = [
  'locations',
  'depths',
  'parents',
  'dominators',
  'readCounts',
  'writeCounts',
  'extraFlags',
] as const;

type ChunkStepColumns = Record<(typeof STEP_COLUMN_ORDER)[number], ArrayLike<number>>;

/**
 * A chunk up to its string table, as both builders lay it out: the step count, the first seq
 * and the seq deltas, each step column in turn, then the access and extra bytes.
 */
function writeChunkSteps(
  out: ByteWriter,
  count: number,
  seqs: ArrayLike<number>,
  columns: ChunkStepColumns,
  accesses: ByteWriter,
  extras: ByteWriter,
): void {
  out.varint(count);
  out.varint(count > 0 ? seqs[0] : 0);
  // One room check per column (8 bytes per varint at most), not one per value.
  out.ensure(8 * count);
  for (let i = 0; i < count; i++) out.varintUnchecked(i === 0 ? 0 : seqs[i] - seqs[i - 1]);
  for (const name of STEP_COLUMN_ORDER) {
    const column = columns[name];
    out.ensure(8 * count);
    for (let i = 0; i < count; i++) out.varintUnchecked(column[i]);
  }
  out.append(accesses.view());
  out.append(extras.view());
}

/**
 * The same chunk layout as ChunkBuilder, built from typed values (stepColumns.ts): the string
 * table is interned by value (an int by its number, an object by its id) and rendered once per
 * distinct value when the chunk is encoded. Reused from chunk to chunk (reset()).
 */
export class ColumnChunkBuilder {
  count = 0;
  firstOrder = 0;
  minDepth = Number.MAX_SAFE_INTEGER;
  /** Distinct location ids of the chunk, for the per-line navigation index. */
  readonly locationIds: number[] = [];
  /** By location id: the chunk number that last listed it (a set without hashing). */
  private locationSeen = new Int32Array(256);
  private chunkNumber = 1;
  // All of one array type: writeChunkSteps reads the columns in one loop, which stays fast
  // while it sees few array types.
  private readonly seqs = new Float64Array(CHUNK_STEPS);
  private readonly locations = new Float64Array(CHUNK_STEPS);
  private readonly depths = new Float64Array(CHUNK_STEPS);
  private readonly parents = new Float64Array(CHUNK_STEPS);
  private readonly dominators = new Float64Array(CHUNK_STEPS);
  private readonly readCounts = new Float64Array(CHUNK_STEPS);
  private readonly writeCounts = new Float64Array(CHUNK_STEPS);
  private readonly extraFlags = new Float64Array(CHUNK_STEPS);
  private readonly accesses = new ByteWriter();
  private readonly extras = new ByteWriter();
  /** The chunk's string table, printed in encode(). */
  private readonly values: ChunkValueTable;
  private lastRef = -1;
  private lastRefIndex = 0;

  constructor(
    readonly threadId: number,
    /** Prints an object id as values show it (`Type@id`, a string literal, `null`). */
    renderRef: (id: number) => string,
  ) {
    this.values = new ChunkValueTable(renderRef);
  }

  /** Room for CHUNK_STEPS steps; the writer seals the chunk when it is full. */
  get full(): boolean {
    return this.count >= CHUNK_STEPS;
  }

  get firstSeq(): number {
    return this.seqs[0];
  }

  get lastSeq(): number {
    return this.seqs[this.count - 1];
  }

  /** Starts a step; its accesses follow (reads first), then addExtras. Orders: 0 = none. */
  beginStep(
    order: number,
    seq: number,
    locationId: number,
    depth: number,
    invocationParent: number,
    controlDominator: number,
    readCount: number,
    writeCount: number,
  ): void {
    const i = this.count++;
    if (i === 0) this.firstOrder = order;
    this.seqs[i] = seq;
    this.locations[i] = locationId;
    if (locationId >= this.locationSeen.length) {
      this.locationSeen = ensureCapacity(this.locationSeen, locationId + 1);
    }
    if (this.locationSeen[locationId] !== this.chunkNumber) {
      this.locationSeen[locationId] = this.chunkNumber;
      this.locationIds.push(locationId);
    }
    this.depths[i] = depth;
    if (depth < this.minDepth) this.minDepth = depth;
    this.parents[i] = invocationParent > 0 ? order - invocationParent : 0;
    this.dominators[i] = controlDominator > 0 ? order - controlDominator : 0;
    this.readCounts[i] = readCount;
    this.writeCounts[i] = writeCount;
    this.extraFlags[i] = 0;
  }

  /** As ChunkBuilder.addAccess; `owner` is an object id, -1 for none. */
  addAccess(
    order: number,
    kind: number,
    slot: number,
    owner: number,
    valueType: ValueType,
    value: number,
    text: string | undefined,
    writerThread: number,
    writerOrder: number,
  ): void {
    const ownerIndex = owner < 0 ? 0 : this.internRef(owner) + 1;
    const valueIndex =
      valueType === ValueType.Ref ? this.internRef(value) : this.intern(valueType, value, text);
    const out = this.accesses;
    out.ensure(48); // kind + 5 varints of at most 8 bytes: the writes below need no checks
    out.varintUnchecked(kind);
    out.varintUnchecked(slot);
    out.varintUnchecked(ownerIndex);
    out.varintUnchecked(valueIndex);
    if (writerThread === 0) out.varintUnchecked(0);
    else if (writerThread === this.threadId) {
      out.varintUnchecked(1);
      out.varintUnchecked(order - writerOrder);
    } else {
      out.varintUnchecked(writerThread + 1);
      out.varintUnchecked(writerOrder);
    }
  }

  /** Objects repeat from access to access (the same array, the same `this`): one-entry cache. */
  private internRef(id: number): number {
    if (id === this.lastRef) return this.lastRefIndex;
    this.lastRef = id;
    this.lastRefIndex = this.intern(ValueType.Ref, id, undefined);
    return this.lastRefIndex;
  }

  /**
   * Extras of the step begun last: a return value (typed) and exception object ids. A step
   * without extras needs no call (beginStep clears its flags).
   */
  addExtras(
    flags: number,
    returnType: ValueType,
    returnValue: number,
    returnText: string | undefined,
    thrown: number,
    caught: number,
  ): void {
    this.extraFlags[this.count - 1] = flags;
    if (flags & EXTRA_RETURN) this.extras.varint(this.intern(returnType, returnValue, returnText));
    if (flags & EXTRA_THROWN) this.extras.varint(this.internRef(thrown));
    if (flags & EXTRA_CAUGHT) this.extras.varint(this.internRef(caught));
  }

  private intern(type: ValueType, value: number, text: string | undefined): number {
    return type === ValueType.Text
      ? this.values.indexOfText(text!)
      : this.values.indexOf(type, value);
  }

  /** The per-step columns by name (writeChunkSteps knows their order in the layout). */
  private columns(): ChunkStepColumns {
    return {
      locations: this.locations,
      depths: this.depths,
      parents: this.parents,
      dominators: this.dominators,
      readCounts: this.readCounts,
      writeCounts: this.writeCounts,
      extraFlags: this.extraFlags,
    };
  }

  /** The chunk's uncompressed bytes, written into `out` (reset first). */
  encode(out: ByteWriter): Uint8Array {
    out.reset();
    writeChunkSteps(out, this.count, this.seqs, this.columns(), this.accesses, this.extras);
    this.values.write(out);
    return out.view();
  }

  reset(): void {
    this.count = 0;
    this.minDepth = Number.MAX_SAFE_INTEGER;
    this.locationIds.length = 0;
    this.chunkNumber++;
    this.accesses.reset();
    this.extras.reset();
    this.values.reset();
    this.lastRef = -1;
  }
}

/** How stored chunks are deflated (also on the compression worker: see chunkCompressor.ts). */
export const CHUNK_DEFLATE_OPTIONS = { level: 1 } as const;

export function compressChunk(raw: Uint8Array): Uint8Array {
  return deflateRawSync(raw, CHUNK_DEFLATE_OPTIONS);
}

/** A chunk decoded into typed columns; accesses of step i are [accessStart[i], accessStart[i+1]). */
export interface DecodedChunk {
  count: number;
  seq: Float64Array;
  location: Int32Array;
  depth: Int32Array;
  /** Absolute orders (same thread), 0 = none. */
  invocationParent: Float64Array;
  controlDominator: Float64Array;
  readCount: Int32Array;
  accessStart: Int32Array;
  accessKind: Uint8Array;
  accessSlot: Float64Array;
  /** String index, -1 = none. */
  accessOwner: Int32Array;
  accessValue: Int32Array;
  /** 0 = none. */
  accessWriterThread: Int32Array;
  accessWriterOrder: Float64Array;
  /** String index, -1 = none. */
  returnValue: Int32Array;
  thrown: Int32Array;
  caught: Int32Array;
  strings: string[];
}

const utf8 = new TextDecoder('utf-8');

export function decodeChunk(
  encoding: number,
  data: Uint8Array,
  threadId: number,
  firstOrder: number,
): DecodedChunk {
  if (encoding !== CHUNK_ENCODING_DEFLATE_V1) {
    throw new JvmChunkError(`unknown chunk encoding ${encoding}`);
  }
  let raw: Uint8Array;
  try {
    raw = inflateRawSync(data);
  } catch (error) {
    throw new JvmChunkError(`chunk does not inflate: ${(error as Error).message}`);
  }
  return decodeRawChunk(raw, threadId, firstOrder);
}

function readColumn(r: ByteReader, n: number): Int32Array {
  const column = new Int32Array(n);
  for (let i = 0; i < n; i++) column[i] = r.varint();
  return column;
}

function decodeRawChunk(raw: Uint8Array, threadId: number, firstOrder: number): DecodedChunk {
  const r = new ByteReader(raw);
  const n = r.varint();
  if (n > raw.length) throw new JvmChunkError(`bad step count ${n}`);
  const seq = new Float64Array(n);
  let previous = r.varint();
  for (let i = 0; i < n; i++) {
    previous += r.varint();
    seq[i] = previous;
  }
  const location = readColumn(r, n);
  const depth = readColumn(r, n);
  const invocationParent = relativeOrders(readColumn(r, n), firstOrder);
  const controlDominator = relativeOrders(readColumn(r, n), firstOrder);
  const readCount = readColumn(r, n);
  const writeCount = readColumn(r, n);
  const extraFlags = readColumn(r, n);
  const accessStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) accessStart[i + 1] = accessStart[i] + readCount[i] + writeCount[i];
  const accessCount = accessStart[n];
  if (accessCount > raw.length) throw new JvmChunkError(`bad access count ${accessCount}`);
  const accessKind = new Uint8Array(accessCount);
  const accessSlot = new Float64Array(accessCount);
  const accessOwner = new Int32Array(accessCount);
  const accessValue = new Int32Array(accessCount);
  const accessWriterThread = new Int32Array(accessCount);
  const accessWriterOrder = new Float64Array(accessCount);
  for (let step = 0; step < n; step++) {
    const order = firstOrder + step;
    for (let a = accessStart[step]; a < accessStart[step + 1]; a++) {
      accessKind[a] = r.u8();
      if (accessKind[a] >= ACCESS_KINDS.length) {
        throw new JvmChunkError(`bad access kind ${accessKind[a]}`);
      }
      accessSlot[a] = r.varint();
      accessOwner[a] = r.varint() - 1;
      accessValue[a] = r.varint();
      const writer = r.varint();
      if (writer === 0) continue;
      accessWriterThread[a] = writer === 1 ? threadId : writer - 1;
      accessWriterOrder[a] = writer === 1 ? order - r.varint() : r.varint();
    }
  }
  const returnValue = new Int32Array(n).fill(-1);
  const thrown = new Int32Array(n).fill(-1);
  const caught = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const flags = extraFlags[i];
    if (flags & EXTRA_RETURN) returnValue[i] = r.varint();
    if (flags & EXTRA_THROWN) thrown[i] = r.varint();
    if (flags & EXTRA_CAUGHT) caught[i] = r.varint();
  }
  const stringCount = r.varint();
  if (stringCount > raw.length) throw new JvmChunkError(`bad string count ${stringCount}`);
  const strings = new Array<string>(stringCount);
  for (let i = 0; i < stringCount; i++) strings[i] = utf8.decode(r.bytesOf(r.varint()));
  checkStringIndices(strings.length, [accessValue, accessOwner, returnValue, thrown, caught]);
  return {
    count: n,
    seq,
    location,
    depth,
    invocationParent,
    controlDominator,
    readCount,
    accessStart,
    accessKind,
    accessSlot,
    accessOwner,
    accessValue,
    accessWriterThread,
    accessWriterOrder,
    returnValue,
    thrown,
    caught,
    strings,
  };
}

/** Turns `order - target` deltas (0 = none) into absolute orders. */
function relativeOrders(deltas: Int32Array, firstOrder: number): Float64Array {
  const out = new Float64Array(deltas.length);
  for (let i = 0; i < deltas.length; i++) out[i] = deltas[i] === 0 ? 0 : firstOrder + i - deltas[i];
  return out;
}

function checkStringIndices(count: number, columns: Int32Array[]): void {
  for (const column of columns) {
    for (let i = 0; i < column.length; i++) {
      if (column[i] >= count) throw new JvmChunkError(`string index ${column[i]} out of range`);
    }
  }
}
