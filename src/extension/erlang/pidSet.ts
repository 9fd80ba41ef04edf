/**
 * Pids of the traced node as it prints them, `<0.Id.Serial>`: the id has 15 bits and the
 * serial counts the id's wrap-arounds, so once a node has started some tens of thousands of
 * processes most of its pids have a serial above 0.
 */

export const PID_ID_BITS = 15;

/**
 * A set of pids, compact for the traced node's: `<0.Id.Serial>` (an id of 15 bits, a serial
 * counting its wrap-arounds) is one bit, so millions of them take a few hundred kilobytes;
 * other texts are kept whole.
 */
export class PidSet {
  private bits = new Uint8Array(1024);
  private readonly others = new Set<string>();

  add(pid: string): void {
    const bit = localPidBit(pid);
    if (bit < 0) {
      this.others.add(pid);
      return;
    }
    if (bit >> 3 >= this.bits.length) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, (bit >> 3) + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[bit >> 3] |= 1 << (bit & 7);
  }

  has(pid: string): boolean {
    const bit = localPidBit(pid);
    if (bit < 0) return this.others.has(pid);
    return bit >> 3 < this.bits.length && (this.bits[bit >> 3] & (1 << (bit & 7))) !== 0;
  }
}

/** Serials beyond this are kept as text: 2^28 bits are 32 MiB. */
const BIT_SERIAL_LIMIT = 2 ** 13;

/** Serial * 2^15 + Id of `<0.Id.Serial>`, or -1 for any other text. */
function localPidBit(pid: string): number {
  if (!pid.startsWith('<0.') || pid.charCodeAt(pid.length - 1) !== 0x3e) return -1;
  const dot = pid.indexOf('.', 3);
  const id = decimal(pid, 3, dot);
  const serial = decimal(pid, dot + 1, pid.length - 1);
  if (id < 0 || id >= 2 ** PID_ID_BITS || serial < 0 || serial >= BIT_SERIAL_LIMIT) return -1;
  return serial * 2 ** PID_ID_BITS + id;
}

/** The decimal number text[start, end) without leading zeros, or -1. */
function decimal(text: string, start: number, end: number): number {
  if (end <= start || end - start > 9 || (text.charCodeAt(start) === 0x30 && end - start > 1))
    return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}
