// The last writer of each field or array element, for the column writer: (owner object, slot)
// -> (thread, order), in one typed array of key/writer pairs (open addressing, linear probing).
// Callers pass and get back small integers only: the key and the writer are packed into
// doubles inside, because a double beyond the small-integer range that crosses a call which
// is not inlined is boxed, and that was a heap number per access on the recording path.

const EMPTY = -1;
/** A writer packed into one double: thread * 2^32 + order. */
const THREAD_SCALE = 2 ** 32;
/** Neighbouring slots of one owner (elements walked in order) share a block of table slots. */
const BLOCK_BITS = 4;
const BLOCK_MASK = (1 << BLOCK_BITS) - 1;

export class LastWriterTable {
  /** Thread of the writer that the last get() or swap() returned (when it was not 0). */
  foundThread = 0;
  size = 0;
  /** [owner * slotScale + slot, packed writer] pairs; key EMPTY = free. */
  private pairs: Float64Array;
  /** Table slots - 1 (a power of two). */
  private mask: number;

  constructor(
    /** Slots are below this: owner * slotScale + slot is then a distinct exact key. */
    private readonly slotScale: number,
    initialCapacity = 1024,
  ) {
    let capacity = 16;
    while (capacity < initialCapacity * 2) capacity *= 2;
    this.pairs = emptyPairs(capacity);
    this.mask = capacity - 1;
  }

  /** Whether (owner, slot) has an exact key here (others need a table of their own). */
  fits(owner: number, slot: number): boolean {
    return owner >= 0 && slot < this.slotScale && owner < 2 ** 53 / this.slotScale;
  }

  /** The order of the variable's last writer (0 = none); its thread is in foundThread. */
  get(owner: number, slot: number): number {
    const key = owner * this.slotScale + slot;
    const pairs = this.pairs;
    for (let i = slotOf(owner, slot) & this.mask; ; i = (i + 1) & this.mask) {
      const k = pairs[2 * i];
      if (k === key) return this.found(pairs[2 * i + 1]);
      if (k === EMPTY) return 0;
    }
  }

  /** Makes (thread, order) the last writer; returns the previous one as get() does. */
  swap(owner: number, slot: number, thread: number, order: number): number {
    const key = owner * this.slotScale + slot;
    const writer = thread * THREAD_SCALE + order;
    const pairs = this.pairs;
    let i = slotOf(owner, slot) & this.mask;
    for (; ; i = (i + 1) & this.mask) {
      const k = pairs[2 * i];
      if (k === key) {
        const previous = pairs[2 * i + 1];
        pairs[2 * i + 1] = writer;
        return this.found(previous);
      }
      if (k === EMPTY) break;
    }
    pairs[2 * i] = key;
    pairs[2 * i + 1] = writer;
    if (++this.size * 2 > this.mask + 1) this.grow();
    return 0;
  }

  clear(): void {
    this.pairs = emptyPairs(this.mask + 1);
    this.size = 0;
  }

  private found(writer: number): number {
    const thread = Math.floor(writer / THREAD_SCALE);
    this.foundThread = thread;
    return writer - thread * THREAD_SCALE;
  }

  private grow(): void {
    const old = this.pairs;
    const capacity = (this.mask + 1) * 2;
    this.pairs = emptyPairs(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < old.length; i += 2) {
      const key = old[i];
      if (key === EMPTY) continue;
      const owner = Math.floor(key / this.slotScale);
      let j = slotOf(owner, key - owner * this.slotScale) & this.mask;
      while (this.pairs[2 * j] !== EMPTY) j = (j + 1) & this.mask;
      this.pairs[2 * j] = key;
      this.pairs[2 * j + 1] = old[i + 1];
    }
  }
}

function emptyPairs(capacity: number): Float64Array {
  const pairs = new Float64Array(2 * capacity);
  for (let i = 0; i < pairs.length; i += 2) pairs[i] = EMPTY;
  return pairs;
}

/**
 * Scatters blocks of 16 neighbouring slots of one owner and keeps a block's slots together, so
 * a walk over an array touches a new cache line every few elements, not at every element.
 */
function slotOf(owner: number, slot: number): number {
  let h = (slot >>> BLOCK_BITS) ^ Math.imul(owner | 0, 0x9e3779b1);
  h ^= h >>> 16; // MurmurHash3's finaliser
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return ((h << BLOCK_BITS) | (slot & BLOCK_MASK)) >>> 0;
}
