/** Encoding terms to External Term Format. */
import { EtfEncodeError } from './errors';
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

const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;

/** A growable output buffer; the connection writes frame headers and terms into one. */
export class EtfWriter {
  private buffer: Buffer;
  length = 0;

  constructor(initialSize = 256) {
    this.buffer = Buffer.allocUnsafe(initialSize);
  }

  private reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  u16(value: number): void {
    this.reserve(2);
    this.buffer.writeUInt16BE(value, this.length);
    this.length += 2;
  }

  u32(value: number): void {
    this.reserve(4);
    this.buffer.writeUInt32BE(value >>> 0, this.length);
    this.length += 4;
  }

  /** Overwrites 4 bytes written earlier (frame lengths are known only at the end). */
  patchU32(offset: number, value: number): void {
    this.buffer.writeUInt32BE(value >>> 0, offset);
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  /** Writes a complete term with its version byte. */
  term(term: Term): void {
    this.u8(Tag.version);
    try {
      this.value(term);
    } catch (e) {
      if (e instanceof RangeError) throw new EtfEncodeError('term is nested too deeply to encode');
      throw e;
    }
  }

  result(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  private value(term: Term): void {
    if (typeof term === 'number') return this.number(term);
    if (typeof term === 'bigint') return this.integer(term);
    if (term instanceof Atom) return this.atom(term);
    if (Array.isArray(term)) return this.list(term);
    if (term instanceof Tuple) return this.tuple(term);
    if (term instanceof Uint8Array) return this.binary(term);
    if (term instanceof ErlFloat) return this.float(term.value);
    if (term instanceof ErlMap) return this.map(term);
    if (term instanceof Pid) return this.pid(term);
    if (term instanceof Reference) return this.reference(term);
    if (term instanceof ImproperList) return this.improperList(term);
    if (term instanceof BitString) return this.bitString(term);
    if (term instanceof Port) return this.port(term);
    if (term instanceof ExportFun) return this.exportFun(term);
    if (term instanceof Fun) return this.bytes(term.raw);
    throw new EtfEncodeError(`cannot encode ${describe(term)} as an Erlang term`);
  }

  private number(value: number): void {
    if (Number.isInteger(value)) {
      if (value >= 0 && value <= 255) {
        this.reserve(2);
        this.buffer[this.length++] = Tag.smallInteger;
        this.buffer[this.length++] = value;
      } else if (value >= INT32_MIN && value <= INT32_MAX) {
        this.reserve(5);
        this.buffer[this.length] = Tag.integer;
        this.buffer.writeInt32BE(value, this.length + 1);
        this.length += 5;
      } else if (Number.isSafeInteger(value)) this.big(BigInt(value));
      else throw new EtfEncodeError(`${value} is not a safe integer; pass a bigint`);
    } else this.float(value);
  }

  private integer(value: bigint): void {
    if (value >= BigInt(INT32_MIN) && value <= BigInt(INT32_MAX)) this.number(Number(value));
    else this.big(value);
  }

  private big(value: bigint): void {
    const negative = value < 0n;
    let magnitude = negative ? -value : value;
    const digits: number[] = [];
    while (magnitude > 0n) {
      digits.push(Number(magnitude & 0xffn));
      magnitude >>= 8n;
    }
    if (digits.length <= 255) {
      this.u8(Tag.smallBig);
      this.u8(digits.length);
    } else {
      this.u8(Tag.largeBig);
      this.u32(digits.length);
    }
    this.u8(negative ? 1 : 0);
    this.bytes(Uint8Array.from(digits));
  }

  private float(value: number): void {
    if (!Number.isFinite(value)) throw new EtfEncodeError(`Erlang has no float ${value}`);
    this.reserve(9);
    this.buffer[this.length] = Tag.newFloat;
    this.buffer.writeDoubleBE(value, this.length + 1);
    this.length += 9;
  }

  private atom(atom: Atom): void {
    const name = atom.name;
    const byteLength = Buffer.byteLength(name, 'utf8');
    if (byteLength > 255 && [...name].length > 255)
      throw new EtfEncodeError(`atom '${name.slice(0, 40)}...' is longer than 255 characters`);
    if (byteLength <= 255) {
      this.reserve(2 + byteLength);
      this.buffer[this.length++] = Tag.smallAtomUtf8;
      this.buffer[this.length++] = byteLength;
    } else {
      this.reserve(3 + byteLength);
      this.buffer[this.length++] = Tag.atomUtf8;
      this.buffer.writeUInt16BE(byteLength, this.length);
      this.length += 2;
    }
    this.length += this.buffer.write(name, this.length, 'utf8');
  }

  private tuple(tuple: Tuple): void {
    const arity = tuple.elements.length;
    if (arity <= 255) {
      this.u8(Tag.smallTuple);
      this.u8(arity);
    } else {
      this.u8(Tag.largeTuple);
      this.u32(arity);
    }
    for (const element of tuple.elements) this.value(element);
  }

  private list(list: Term[]): void {
    if (list.length === 0) return this.u8(Tag.nil);
    if (list.length <= 0xffff && isByteList(list)) {
      // Erlang sends lists of bytes as STRING_EXT; doing the same keeps encodings identical.
      this.reserve(3 + list.length);
      this.buffer[this.length++] = Tag.string;
      this.buffer.writeUInt16BE(list.length, this.length);
      this.length += 2;
      for (const byte of list as number[]) this.buffer[this.length++] = byte;
      return;
    }
    this.u8(Tag.list);
    this.u32(list.length);
    for (const element of list) this.value(element);
    this.u8(Tag.nil);
  }

  private improperList(list: ImproperList): void {
    this.u8(Tag.list);
    this.u32(list.elements.length);
    for (const element of list.elements) this.value(element);
    this.value(list.tail);
  }

  private binary(data: Uint8Array): void {
    this.u8(Tag.binary);
    this.u32(data.length);
    this.bytes(data);
  }

  private bitString(bits: BitString): void {
    if (bits.bytes.length === 0 || bits.bitsInLastByte < 1 || bits.bitsInLastByte > 8)
      throw new EtfEncodeError('a BitString needs at least one byte and 1..8 bits in the last');
    this.u8(Tag.bitBinary);
    this.u32(bits.bytes.length);
    this.u8(bits.bitsInLastByte);
    this.bytes(bits.bytes);
  }

  private map(map: ErlMap): void {
    this.u8(Tag.map);
    this.u32(map.entries.length);
    for (const [key, value] of map.entries) {
      this.value(key);
      this.value(value);
    }
  }

  private pid(pid: Pid): void {
    this.u8(Tag.newPid);
    this.atom(pid.node);
    this.u32(pid.id);
    this.u32(pid.serial);
    this.u32(pid.creation);
  }

  private port(port: Port): void {
    const id = BigInt(port.id);
    if (id > 0xffff_ffffn) {
      this.u8(Tag.v4Port);
      this.atom(port.node);
      this.u32(Number(id >> 32n));
      this.u32(Number(id & 0xffff_ffffn));
    } else {
      this.u8(Tag.newPort);
      this.atom(port.node);
      this.u32(Number(id));
    }
    this.u32(port.creation);
  }

  private reference(ref: Reference): void {
    this.u8(Tag.newerReference);
    this.u16(ref.ids.length);
    this.atom(ref.node);
    this.u32(ref.creation);
    for (const id of ref.ids) this.u32(id);
  }

  private exportFun(fun: ExportFun): void {
    this.u8(Tag.export);
    this.atom(fun.module);
    this.atom(fun.name);
    this.u8(Tag.smallInteger);
    this.u8(fun.arity);
  }
}

function isByteList(list: Term[]): boolean {
  for (const element of list) {
    if (
      typeof element !== 'number' ||
      !(element >= 0 && element <= 255) ||
      !Number.isInteger(element)
    )
      return false;
  }
  return true;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return `a ${typeof value} (${String(value).slice(0, 40)})`;
}

/** The complete encoding of one term, version byte included. */
export function encodeTerm(term: Term): Buffer {
  const writer = new EtfWriter();
  writer.term(term);
  return writer.result();
}
