// The string table of one chunk being built from typed values (ColumnChunkBuilder): each
// distinct value gets the index of its first use and is printed once, when the chunk is
// encoded. Values are looked up by (type, number) in an open-addressing table of typed arrays
// whose slots carry the number of the chunk that filled them, so starting the next chunk
// clears nothing and the table is allocated once per thread, not once per chunk.

import type { ByteWriter } from './chunkCodec';
import { ValueType as ValueTypeEnum } from './stepColumns';

// Module-local copy (unbundled, an imported binding is read through a getter per use).
const ValueType = ValueTypeEnum;
type ValueType = ValueTypeEnum;

export class ChunkValueTable {
  /** Entries of the current chunk, in index order. */
  count = 0;
  private entryType = new Uint8Array(1024);
  private entryValue = new Float64Array(1024);
  /** Only meaningful where the entry's type is Text. */
  private entryText: (string | undefined)[] = [];
  private readonly textIndex = new Map<string, number>();
  /** Slot -> entry, valid where slotChunk holds the current chunk's number. */
  private slotEntry = new Int32Array(2048);
  private slotChunk = new Int32Array(2048);
  private mask = 2047;
  private chunkNumber = 1;

  constructor(
    /** Prints an object id as values show it (`Type@id`, a string literal, `null`). */
    private readonly renderRef: (id: number) => string,
  ) {}

  /** Index of a value that is not Text (ints, chars, booleans, object ids). */
  indexOf(type: ValueType, value: number): number {
    const mask = this.mask;
    for (let slot = slotOf(type, value) & mask; ; slot = (slot + 1) & mask) {
      if (this.slotChunk[slot] !== this.chunkNumber) return this.add(slot, type, value);
      const entry = this.slotEntry[slot];
      if (this.entryValue[entry] === value && this.entryType[entry] === type) return entry;
    }
  }

  /** Index of a value already printed (floats, doubles, longs beyond 2^53). */
  indexOfText(text: string): number {
    const known = this.textIndex.get(text);
    if (known !== undefined) return known;
    const entry = this.newEntry(ValueType.Text, 0);
    this.entryText[entry] = text;
    this.textIndex.set(text, entry);
    return entry;
  }

  /** The string table as the chunk layout stores it: count, then each entry's text. */
  write(out: ByteWriter): void {
    out.varint(this.count);
    for (let i = 0; i < this.count; i++) {
      const value = this.entryValue[i];
      switch (this.entryType[i]) {
        case ValueType.Int:
          out.decimal(value);
          break;
        case ValueType.Char:
          out.string(String.fromCharCode(value));
          break;
        case ValueType.Bool:
          out.string(value !== 0 ? 'true' : 'false');
          break;
        case ValueType.Ref:
          out.string(this.renderRef(value));
          break;
        default:
          out.string(this.entryText[i]!);
      }
    }
  }

  /** Forgets every entry (the next chunk starts an empty table). */
  reset(): void {
    this.count = 0;
    this.textIndex.clear();
    this.chunkNumber++;
  }

  private add(slot: number, type: ValueType, value: number): number {
    const entry = this.newEntry(type, value);
    this.slotEntry[slot] = entry;
    this.slotChunk[slot] = this.chunkNumber;
    if (this.count * 2 > this.mask) this.growSlots();
    return entry;
  }

  private newEntry(type: ValueType, value: number): number {
    const entry = this.count++;
    if (entry === this.entryType.length) {
      const types = new Uint8Array(entry * 2);
      types.set(this.entryType);
      this.entryType = types;
      const values = new Float64Array(entry * 2);
      values.set(this.entryValue);
      this.entryValue = values;
    }
    this.entryType[entry] = type;
    this.entryValue[entry] = value;
    return entry;
  }

  /** Doubles the slots and re-inserts the current chunk's entries (Text ones have no slot). */
  private growSlots(): void {
    const size = (this.mask + 1) * 2;
    this.slotEntry = new Int32Array(size);
    this.slotChunk = new Int32Array(size);
    this.mask = size - 1;
    for (let entry = 0; entry < this.count; entry++) {
      const type = this.entryType[entry];
      if (type === ValueType.Text) continue;
      let slot = slotOf(type, this.entryValue[entry]) & this.mask;
      while (this.slotChunk[slot] === this.chunkNumber) slot = (slot + 1) & this.mask;
      this.slotEntry[slot] = entry;
      this.slotChunk[slot] = this.chunkNumber;
    }
  }
}

/** Mixes the type and both 32-bit halves of the value (object ids, longs beyond 2^32). */
function slotOf(type: number, value: number): number {
  let h = (value | 0) ^ Math.imul(type + 1, 0x9e3779b1);
  if (value > 0x7fffffff || value < -0x80000000)
    h ^= Math.imul(Math.floor(value / 4294967296) | 0, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return h ^ (h >>> 13);
}
