/** Decoder fuzzing shared by the test suite (fixed seed) and bench/erlang-fuzz.ts. */
import * as zlib from 'node:zlib';
import { decodeTerm, encodeTerm } from '../../../../src/extension/erlang/etf';
import { EtfDecodeError } from '../../../../src/extension/erlang/errors';
import { termEquals, type Term } from '../../../../src/extension/erlang/terms';
import { TermGenerator, seededRandom } from './term-generator';

/**
 * Feeds mutated encodings and random bytes to the decoder. Every input must either
 * decode (and then re-encode to something that decodes to an equal term) or fail
 * with EtfDecodeError; anything else throws out of here.
 */
export function fuzzDecoder(count: number, seed: number): { decoded: number; rejected: number } {
  const generator = new TermGenerator(seed);
  const random = seededRandom(seed ^ 0x5bd1e995);
  const int = (max: number) => Math.floor(random() * max);
  const stats = { decoded: 0, rejected: 0 };
  for (let i = 0; i < count; i++) {
    const input = mutate(Buffer.from(encodeTerm(generator.term(3))), int);
    let term: Term;
    try {
      term = decodeTerm(input, { maxDecompressedBytes: 1 << 20 });
    } catch (e) {
      if (!(e instanceof EtfDecodeError))
        throw new Error(`input ${input.toString('hex')}: ${String(e)}`, { cause: e });
      stats.rejected++;
      continue;
    }
    stats.decoded++;
    if (!termEquals(decodeTerm(encodeTerm(term)), term))
      throw new Error(`re-encoding changed ${input.toString('hex')}`);
  }
  return stats;
}

function mutate(input: Buffer, int: (max: number) => number): Buffer {
  switch (int(8)) {
    case 0:
      return input; // valid
    case 1: {
      const flipped = Buffer.from(input);
      flipped[1 + int(flipped.length - 1)] ^= 1 << int(8);
      return flipped;
    }
    case 2: {
      const set = Buffer.from(input);
      set[1 + int(set.length - 1)] = [0, 0xff, 0x7f, 0x80, 104, 108, 116][int(7)];
      return set;
    }
    case 3:
      return input.subarray(0, 1 + int(input.length));
    case 4: {
      const at = 1 + int(input.length - 1);
      const widened = Buffer.alloc(input.length + 4);
      input.copy(widened, 0, 0, at);
      widened.writeUInt32BE(int(2 ** 32), at);
      input.copy(widened, at + 4, at);
      return widened;
    }
    case 5: {
      const compressed = zlib.deflateSync(input.subarray(1));
      const header = Buffer.from([131, 80, 0, 0, 0, 0]);
      header.writeUInt32BE(input.length - 1 + int(3) - 1, 2);
      return Buffer.concat([header, compressed]);
    }
    case 6:
      return Buffer.from([131, ...Array.from({ length: int(40) }, () => int(256))]);
    default: {
      const spliced = Buffer.from(input);
      const from = 1 + int(spliced.length - 1);
      const to = 1 + int(spliced.length - 1);
      spliced.copy(spliced, to, from, Math.min(spliced.length, from + int(8)));
      return spliced;
    }
  }
}
