// A map from non-negative safe integers to non-zero numbers, in two typed arrays (open
// addressing, linear probing). For the writers' hot lookups (last writer of a field or array
// element, location ids) where a JS Map with keys beyond the small-integer range boxes every key
// it stores and hashes a heap number per lookup.

const EMPTY = -1;

export class NumberMap {
  private keys: Float64Array;
  private values: Float64Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity * 2) capacity *= 2;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.values = new Float64Array(capacity);
    this.mask = capacity - 1;
  }

  /** The value stored for `key`, 0 when there is none. */
  get(key: number): number {
    const keys = this.keys;
    for (let i = slotOf(key) & this.mask; ; i = (i + 1) & this.mask) {
      const k = keys[i];
      if (k === key) return this.values[i];
      if (k === EMPTY) return 0;
    }
  }

  /** Stores a non-zero value; returns the previous one (0 = none). */
  swap(key: number, value: number): number {
    const keys = this.keys;
    let i = slotOf(key) & this.mask;
    for (; ; i = (i + 1) & this.mask) {
      const k = keys[i];
      if (k === key) {
        const previous = this.values[i];
        this.values[i] = value;
        return previous;
      }
      if (k === EMPTY) break;
    }
    keys[i] = key;
    this.values[i] = value;
    if (++this.size * 2 > keys.length) this.grow();
    return 0;
  }

  clear(): void {
    this.keys.fill(EMPTY);
    this.size = 0;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    this.keys = new Float64Array(oldKeys.length * 2).fill(EMPTY);
    this.values = new Float64Array(oldKeys.length * 2);
    this.mask = this.keys.length - 1;
    this.size = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] !== EMPTY) this.swap(oldKeys[i], oldValues[i]);
    }
  }
}

/** Mixes both 32-bit halves of the key (ids times a power of two leave the low bits zero). */
function slotOf(key: number): number {
  let h = (key >>> 0) ^ Math.imul((key / 4294967296) >>> 0, 0x9e3779b1);
  h ^= h >>> 16; // MurmurHash3's finaliser
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
