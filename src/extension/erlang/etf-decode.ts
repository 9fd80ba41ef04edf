/**
 * Decoding External Term Format, written for hostile input: every length is checked
 * against the bytes that remain before anything is allocated, nesting is handled
 * with an explicit stack (no recursion to overflow), and compressed terms are
 * inflated under a hard cap. Any malformed input ends in EtfDecodeError.
 */
import * as zlib from 'node:zlib';
import { EtfDecodeError } from './errors';
import { Tag } from './etf-tags';
import {
  Atom,
  BitString,
  ErlFloat,
  ErlMap,
  ExportFun,
  Fun,
  ImproperList,
  Pid,
  Port,
  Reference,
  Tuple,
  type Term,
} from './terms';

export interface DecodeOptions {
  /** Largest size a compressed term may inflate to (default 64 MiB). */
  maxDecompressedBytes?: number;
  /**
   * Deepest nesting of tuples, lists and maps accepted (default 1000). The decoder
   * itself has no limit (it uses an explicit stack), but printing, comparing and
   * re-encoding terms recurse, so absurd depths are refused here.
   */
  maxDepth?: number;
}

export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 1000;

const enum FrameKind {
  Tuple,
  List,
  Map,
  Fun,
}

/** A container still waiting for `remaining` more nested terms. */
interface Frame {
  kind: FrameKind;
  items: Term[];
  remaining: number;
  /** Fun frames only: where its encoding starts and must end, and what to print. */
  start?: number;
  end?: number;
  module?: Atom;
  oldIndex?: number;
  oldUniq?: number;
}

class EtfReader {
  pos: number;

  constructor(
    private readonly buf: Buffer,
    offset: number,
    private readonly end: number,
    private readonly maxDepth = DEFAULT_MAX_DEPTH,
  ) {
    this.pos = offset;
  }

  fail(message: string, at = this.pos): never {
    throw new EtfDecodeError(message, at);
  }

  /** Makes sure `count` bytes remain; `what` names the field for the error. */
  need(count: number, what: string): void {
    if (count > this.end - this.pos)
      this.fail(`${what} needs ${count} bytes but only ${this.end - this.pos} remain`);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail('unexpected end of input');
    return this.buf[this.pos++];
  }

  u16(): number {
    this.need(2, 'length field');
    const value = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return value;
  }

  u32(): number {
    this.need(4, 'length field');
    const value = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  /** Every nested term takes at least one byte, so a count larger than what remains is a lie. */
  needTerms(count: number, what: string): void {
    if (count > this.end - this.pos)
      this.fail(`${what} claims ${count} elements but only ${this.end - this.pos} bytes remain`);
  }

  /** Decodes one term (without version byte) at the current position. */
  term(): Term {
    const stack: Frame[] = [];
    for (;;) {
      let value: Term | undefined = this.leafOrOpen(stack);
      if (value === undefined) continue; // a container was opened; read its first element
      // Hand the finished value to the enclosing containers, closing those that are complete.
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) return value;
        top.items.push(value);
        if (--top.remaining > 0) break;
        stack.pop();
        value = this.close(top);
      }
    }
  }

  /** Reads a scalar and returns it, or pushes a non-empty container and returns undefined. */
  private leafOrOpen(stack: Frame[]): Term | undefined {
    const tagAt = this.pos;
    const tag = this.u8();
    switch (tag) {
      case Tag.smallInteger:
        return this.u8();
      case Tag.integer:
        this.need(4, 'INTEGER_EXT');
        this.pos += 4;
        return this.buf.readInt32BE(this.pos - 4);
      case Tag.newFloat:
        return this.newFloat();
      case Tag.float:
        return this.oldFloat();
      case Tag.smallBig:
        return this.big(this.u8());
      case Tag.largeBig:
        return this.big(this.u32());
      case Tag.atom:
      case Tag.smallAtom:
      case Tag.atomUtf8:
      case Tag.smallAtomUtf8:
        return this.atomBody(tag);
      case Tag.smallTuple:
        return this.open(stack, FrameKind.Tuple, this.u8(), 'tuple') ? undefined : new Tuple([]);
      case Tag.largeTuple:
        return this.open(stack, FrameKind.Tuple, this.u32(), 'tuple') ? undefined : new Tuple([]);
      case Tag.nil:
        return [];
      case Tag.string:
        return this.string();
      case Tag.list: {
        const count = this.u32();
        this.needTerms(count + 1, 'list');
        if (count === 0) this.fail('LIST_EXT with no elements', tagAt);
        this.push(stack, { kind: FrameKind.List, items: [], remaining: count + 1 });
        return undefined;
      }
      case Tag.binary:
        return this.binary();
      case Tag.bitBinary:
        return this.bitBinary(tagAt);
      case Tag.map: {
        const arity = this.u32();
        return this.open(stack, FrameKind.Map, arity * 2, 'map') ? undefined : new ErlMap([]);
      }
      case Tag.newPid:
      case Tag.pid:
        return this.pidBody(tag);
      case Tag.newPort:
      case Tag.port:
      case Tag.v4Port:
        return this.portBody(tag);
      case Tag.newerReference:
      case Tag.newReference:
        return this.newReference(tag);
      case Tag.reference:
        return this.oldReference();
      case Tag.export:
        return this.exportFun();
      case Tag.newFun:
        return this.newFun(stack, tagAt);
      case Tag.fun:
        return this.oldFun(stack, tagAt);
      case Tag.compressed:
        return this.fail('compressed term inside a term', tagAt);
      case Tag.atomCacheRef:
        return this.fail('atom cache reference, but atom caching was not negotiated', tagAt);
      default:
        return this.fail(`unknown term tag ${tag}`, tagAt);
    }
  }

  /** Pushes a container frame; false (nothing pushed) when it is empty. */
  private open(stack: Frame[], kind: FrameKind, count: number, what: string): boolean {
    if (count === 0) return false;
    this.needTerms(count, what);
    this.push(stack, { kind, items: [], remaining: count });
    return true;
  }

  private push(stack: Frame[], frame: Frame): void {
    if (stack.length >= this.maxDepth) this.fail(`terms nested deeper than ${this.maxDepth}`);
    stack.push(frame);
  }

  private close(frame: Frame): Term {
    switch (frame.kind) {
      case FrameKind.Tuple:
        return new Tuple(frame.items);
      case FrameKind.Map: {
        const entries: Array<readonly [Term, Term]> = [];
        for (let i = 0; i < frame.items.length; i += 2)
          entries.push([frame.items[i], frame.items[i + 1]]);
        return new ErlMap(entries);
      }
      case FrameKind.List:
        return joinTail(frame.items);
      case FrameKind.Fun:
        return this.finishFun(frame);
    }
  }

  private newFloat(): ErlFloat {
    this.need(8, 'NEW_FLOAT_EXT');
    const value = this.buf.readDoubleBE(this.pos);
    if (!Number.isFinite(value)) this.fail('float is not finite');
    this.pos += 8;
    return new ErlFloat(value);
  }

  private oldFloat(): ErlFloat {
    this.need(31, 'FLOAT_EXT');
    const text = this.buf.toString('latin1', this.pos, this.pos + 31).replace(/\0.*$/s, '');
    const value = Number(text.trim());
    if (!Number.isFinite(value)) this.fail('FLOAT_EXT does not hold a number');
    this.pos += 31;
    return new ErlFloat(value);
  }

  private big(byteCount: number): number | bigint {
    const signByte = this.u8();
    this.need(byteCount, 'big integer');
    const start = this.pos;
    this.pos += byteCount;
    if (byteCount <= 6 || (byteCount === 7 && this.buf[start + 6] < 0x20)) {
      // Up to 53 bits fits in a double exactly (microsecond timestamps need 51): skip BigInt.
      let value = 0;
      for (let i = byteCount - 1; i >= 0; i--) value = value * 256 + this.buf[start + i];
      return signByte === 0 ? value : -value;
    }
    const bigEndian = Buffer.from(this.buf.subarray(start, start + byteCount)).reverse();
    let value = BigInt('0x' + (bigEndian.toString('hex') || '0'));
    if (signByte !== 0) value = -value;
    return Number.isSafeInteger(Number(value)) && BigInt(Number(value)) === value
      ? Number(value)
      : value;
  }

  private atomBody(tag: number): Atom {
    const length = tag === Tag.smallAtom || tag === Tag.smallAtomUtf8 ? this.u8() : this.u16();
    this.need(length, 'atom');
    const utf8 = tag === Tag.atomUtf8 || tag === Tag.smallAtomUtf8;
    const atom = atomFromBytes(this.buf, this.pos, length, utf8);
    this.pos += length;
    return atom;
  }

  /** An atom in a fixed slot (node of a pid, module of a fun). */
  private atomField(what: string): Atom {
    const at = this.pos;
    const tag = this.u8();
    if (
      tag !== Tag.atom &&
      tag !== Tag.smallAtom &&
      tag !== Tag.atomUtf8 &&
      tag !== Tag.smallAtomUtf8
    )
      this.fail(`${what} must be an atom, found tag ${tag}`, at);
    return this.atomBody(tag);
  }

  private integerField(what: string): number {
    const at = this.pos;
    const tag = this.u8();
    if (tag === Tag.smallInteger) return this.u8();
    if (tag === Tag.integer) {
      this.need(4, what);
      this.pos += 4;
      return this.buf.readInt32BE(this.pos - 4);
    }
    return this.fail(`${what} must be an integer, found tag ${tag}`, at);
  }

  private string(): number[] {
    const length = this.u16();
    this.need(length, 'STRING_EXT');
    const chars = new Array<number>(length);
    for (let i = 0; i < length; i++) chars[i] = this.buf[this.pos + i];
    this.pos += length;
    return chars;
  }

  private binary(): Buffer {
    const length = this.u32();
    this.need(length, 'BINARY_EXT');
    // A copy, so a small binary kept by the caller does not pin the whole packet.
    const data = Buffer.allocUnsafe(length);
    this.buf.copy(data, 0, this.pos, this.pos + length);
    this.pos += length;
    return data;
  }

  private bitBinary(tagAt: number): Buffer | BitString {
    const length = this.u32();
    const bits = this.u8();
    this.need(length, 'BIT_BINARY_EXT');
    if (length === 0) {
      if (bits !== 0) this.fail('empty BIT_BINARY_EXT with trailing bits', tagAt);
      return Buffer.alloc(0);
    }
    if (bits < 1 || bits > 8) this.fail(`BIT_BINARY_EXT with ${bits} bits in its last byte`, tagAt);
    const data = Buffer.from(this.buf.subarray(this.pos, this.pos + length));
    this.pos += length;
    if (bits === 8) return data;
    data[length - 1] &= (0xff << (8 - bits)) & 0xff; // unused bits carry no meaning; zero them
    return new BitString(data, bits);
  }

  private pidBody(tag: number): Pid {
    const node = this.atomField('pid node');
    this.need(tag === Tag.newPid ? 12 : 9, 'pid');
    const id = this.buf.readUInt32BE(this.pos);
    const serial = this.buf.readUInt32BE(this.pos + 4);
    const creation =
      tag === Tag.newPid ? this.buf.readUInt32BE(this.pos + 8) : this.buf[this.pos + 8];
    this.pos += tag === Tag.newPid ? 12 : 9;
    return new Pid(node, id, serial, creation);
  }

  private portBody(tag: number): Port {
    const node = this.atomField('port node');
    let id: number | bigint;
    if (tag === Tag.v4Port) {
      this.need(12, 'V4_PORT_EXT');
      const big = this.buf.readBigUInt64BE(this.pos);
      id = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      this.pos += 8;
    } else {
      this.need(tag === Tag.newPort ? 8 : 5, 'port');
      id = this.buf.readUInt32BE(this.pos);
      this.pos += 4;
    }
    const creation = tag === Tag.port ? this.u8() : this.u32();
    return new Port(node, id, creation);
  }

  private newReference(tag: number): Reference {
    const count = this.u16();
    const node = this.atomField('reference node');
    const creation = tag === Tag.newerReference ? this.u32() : this.u8();
    if (count > 5) this.fail(`reference with ${count} id words (at most 5)`);
    this.need(count * 4, 'reference ids');
    const ids: number[] = [];
    for (let i = 0; i < count; i++) ids.push(this.buf.readUInt32BE(this.pos + i * 4));
    this.pos += count * 4;
    return new Reference(node, creation, ids);
  }

  private oldReference(): Reference {
    const node = this.atomField('reference node');
    this.need(5, 'REFERENCE_EXT');
    const id = this.buf.readUInt32BE(this.pos);
    const creation = this.buf[this.pos + 4];
    this.pos += 5;
    return new Reference(node, creation, [id]);
  }

  private exportFun(): ExportFun {
    const module = this.atomField('export module');
    const name = this.atomField('export function');
    const arity = this.integerField('export arity');
    if (arity < 0 || arity > 255) this.fail(`export arity ${arity} out of range`);
    return new ExportFun(module, name, arity);
  }

  /** NEW_FUN_EXT: Size:32 Arity:8 Uniq:16 Index:32 NumFree:32 Module OldIndex OldUniq Pid Free... */
  private newFun(stack: Frame[], tagAt: number): Term | undefined {
    const size = this.u32();
    if (size < 4) this.fail('NEW_FUN_EXT size too small', tagAt);
    this.need(size - 4, 'NEW_FUN_EXT');
    const end = tagAt + 1 + size;
    this.need(1 + 16 + 4 + 4, 'NEW_FUN_EXT header');
    this.pos += 1 + 16 + 4;
    const freeCount = this.u32();
    const module = this.atomField('fun module');
    const oldIndex = this.integerField('fun old index');
    const oldUniq = this.integerField('fun old uniq');
    this.pidField();
    const frame: Frame = { kind: FrameKind.Fun, items: [], remaining: freeCount, start: tagAt };
    frame.end = end;
    frame.module = module;
    frame.oldIndex = oldIndex;
    frame.oldUniq = oldUniq;
    return this.openFun(stack, frame, freeCount);
  }

  /** FUN_EXT (before OTP 23): NumFree:32 Pid Module Index Uniq Free... */
  private oldFun(stack: Frame[], tagAt: number): Term | undefined {
    const freeCount = this.u32();
    this.pidField();
    const module = this.atomField('fun module');
    const oldIndex = this.integerField('fun index');
    const oldUniq = this.integerField('fun uniq');
    const frame: Frame = { kind: FrameKind.Fun, items: [], remaining: freeCount, start: tagAt };
    frame.module = module;
    frame.oldIndex = oldIndex;
    frame.oldUniq = oldUniq;
    return this.openFun(stack, frame, freeCount);
  }

  private openFun(stack: Frame[], frame: Frame, freeCount: number): Term | undefined {
    if (freeCount === 0) return this.finishFun(frame);
    this.needTerms(freeCount, 'fun free variables');
    this.push(stack, frame);
    return undefined;
  }

  private pidField(): void {
    const at = this.pos;
    const tag = this.u8();
    if (tag !== Tag.newPid && tag !== Tag.pid)
      this.fail(`fun pid must be a pid, found tag ${tag}`, at);
    this.pidBody(tag);
  }

  private finishFun(frame: Frame): Fun {
    if (frame.end !== undefined && frame.end !== this.pos)
      this.fail(`NEW_FUN_EXT size says it ends at ${frame.end}`, frame.start);
    const raw = Buffer.from(this.buf.subarray(frame.start!, this.pos));
    return new Fun(raw, frame.module!, frame.oldIndex!, frame.oldUniq!);
  }
}

/**
 * The same few atoms arrive over and over (node names, ok, tags), so a small
 * direct-mapped cache keyed by their bytes skips building the string each time.
 */
const ATOM_CACHE_SLOTS = 4096;
const atomCacheBytes: Array<Buffer | undefined> = new Array(ATOM_CACHE_SLOTS);
const atomCacheUtf8: boolean[] = new Array(ATOM_CACHE_SLOTS).fill(false);
const atomCacheAtoms: Array<Atom | undefined> = new Array(ATOM_CACHE_SLOTS);
const ATOM_CACHE_MAX_LENGTH = 64;

export function atomFromBytes(buf: Buffer, start: number, length: number, utf8: boolean): Atom {
  if (length > ATOM_CACHE_MAX_LENGTH)
    return Atom.of(buf.toString(utf8 ? 'utf8' : 'latin1', start, start + length));
  let hash = length;
  for (let i = 0; i < length; i++) hash = (Math.imul(hash, 31) + buf[start + i]) | 0;
  const slot = (hash ^ (hash >>> 12)) & (ATOM_CACHE_SLOTS - 1);
  const cached = atomCacheBytes[slot];
  if (cached !== undefined && cached.length === length && atomCacheUtf8[slot] === utf8) {
    let same = true;
    for (let i = 0; i < length; i++) {
      if (cached[i] !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return atomCacheAtoms[slot]!;
  }
  const atom = Atom.of(buf.toString(utf8 ? 'utf8' : 'latin1', start, start + length));
  atomCacheBytes[slot] = Buffer.from(buf.subarray(start, start + length));
  atomCacheUtf8[slot] = utf8;
  atomCacheAtoms[slot] = atom;
  return atom;
}

/** Builds a list from its elements with the tail as the last item, flattening list tails. */
function joinTail(items: Term[]): Term {
  const tail = items.pop()!;
  if (Array.isArray(tail)) {
    if (tail.length === 0) return items;
    for (const element of tail) items.push(element);
    return items;
  }
  if (tail instanceof ImproperList) return new ImproperList(items.concat(tail.elements), tail.tail);
  return new ImproperList(items, tail);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * Decodes one term that starts (with its version byte) at `offset`; returns it and
 * the offset just past it. A term may be followed by more data (a distribution
 * packet holds a control message and then the message).
 */
export function decodeTermAt(
  bytes: Uint8Array,
  offset = 0,
  options: DecodeOptions = {},
  end = bytes.length,
): { term: Term; end: number } {
  const buf = asBuffer(bytes);
  const reader = new EtfReader(buf, offset, end, options.maxDepth);
  if (reader.u8() !== Tag.version) reader.fail('missing version byte 131', offset);
  if (reader.pos < end && buf[reader.pos] === Tag.compressed) {
    return decodeCompressed(buf, reader.pos, end, options);
  }
  const term = reader.term();
  return { term, end: reader.pos };
}

/**
 * Decodes one term nested inside another (no version byte) that starts at `offset`, for
 * readers that walk a known outer structure themselves; returns it and the offset past it.
 */
export function decodeInnerTermAt(
  buf: Buffer,
  offset: number,
  end: number,
  maxDepth = DEFAULT_MAX_DEPTH,
): { term: Term; end: number } {
  const reader = new EtfReader(buf, offset, end, maxDepth);
  const term = reader.term();
  return { term, end: reader.pos };
}

/** Decodes bytes that hold exactly one term (like binary_to_term/1). */
export function decodeTerm(bytes: Uint8Array, options: DecodeOptions = {}): Term {
  const { term, end } = decodeTermAt(bytes, 0, options);
  if (end !== bytes.length) throw new EtfDecodeError(`${bytes.length - end} trailing bytes`, end);
  return term;
}

/** 80, UncompressedSize:32, zlib stream. Inflation stops at the declared size and the cap. */
function decodeCompressed(
  buf: Buffer,
  tagAt: number,
  end: number,
  options: DecodeOptions,
): { term: Term; end: number } {
  const cap = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  if (end - tagAt < 5) throw new EtfDecodeError('truncated compressed term', tagAt);
  const declared = buf.readUInt32BE(tagAt + 1);
  if (declared === 0) throw new EtfDecodeError('compressed term of size 0', tagAt);
  if (declared > cap)
    throw new EtfDecodeError(
      `compressed term would inflate to ${declared} bytes (limit ${cap})`,
      tagAt,
    );
  let inflated: Buffer;
  let consumed: number;
  try {
    const result = zlib.inflateSync(buf.subarray(tagAt + 5, end), {
      maxOutputLength: declared,
      info: true,
    }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    inflated = result.buffer;
    consumed = result.engine.bytesWritten;
  } catch (e) {
    const reason =
      e instanceof RangeError ? 'inflates past its declared size' : 'is not valid zlib data';
    throw new EtfDecodeError(`compressed term ${reason}`, tagAt);
  }
  if (inflated.length !== declared)
    throw new EtfDecodeError(
      `compressed term inflated to ${inflated.length} bytes, not the declared ${declared}`,
      tagAt,
    );
  const reader = new EtfReader(inflated, 0, inflated.length, options.maxDepth);
  let term: Term;
  try {
    term = reader.term();
  } catch (e) {
    if (e instanceof EtfDecodeError)
      throw new EtfDecodeError(`inside compressed term: ${e.message}`, tagAt);
    throw e;
  }
  if (reader.pos !== inflated.length)
    throw new EtfDecodeError('compressed term has trailing bytes', tagAt);
  return { term, end: tagAt + 5 + consumed };
}
