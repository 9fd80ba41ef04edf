/**
 * Seeded random Erlang terms built in TypeScript (for round trips through a node
 * and for the decoder fuzzer). Same seed, same terms.
 */
import {
  Atom,
  BitString,
  ErlFloat,
  ErlMap,
  ExportFun,
  ImproperList,
  Pid,
  Port,
  Reference,
  Tuple,
  atom,
  type Term,
} from '../../../../src/extension/erlang/terms';

/** mulberry32: small, fast, good enough for test data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratorContext {
  /** Node whose pids/ports/refs to fabricate (so the node prints them as local). */
  node: string;
  creation: number;
}

export class TermGenerator {
  private readonly random: () => number;

  constructor(
    seed: number,
    private readonly context: GeneratorContext = { node: 'gen@host', creation: 1 },
  ) {
    this.random = seededRandom(seed);
  }

  int(max: number): number {
    return Math.floor(this.random() * max);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  term(depth = 3): Term {
    if (depth <= 0) return this.leaf();
    switch (this.int(10)) {
      case 0:
        return new Tuple(this.several(depth));
      case 1:
        return this.several(depth);
      case 2: {
        const elements = this.several(depth);
        elements.push(this.leaf());
        return new ImproperList(elements, this.pick([atom('tail'), 7, Buffer.from('t')]));
      }
      case 3: {
        const keys = new Set<number>();
        const entries: Array<[Term, Term]> = [];
        for (let i = this.int(6); i > 0; i--) {
          const key = this.int(1000);
          if (keys.has(key)) continue;
          keys.add(key);
          entries.push([key, this.term(depth - 1)]);
        }
        return new ErlMap(entries);
      }
      default:
        return this.leaf();
    }
  }

  private several(depth: number): Term[] {
    const items: Term[] = [];
    for (let i = this.int(5); i > 0; i--) items.push(this.term(depth - 1));
    return items;
  }

  leaf(): Term {
    const { node, creation } = this.context;
    switch (this.int(20)) {
      case 0:
        return this.int(256);
      case 1:
        return this.int(2 ** 32) - 2 ** 31;
      case 2:
        return (this.int(2 ** 21) * 2 ** 32 + this.int(2 ** 32)) * (this.random() < 0.5 ? -1 : 1);
      case 3:
        return (
          BigInt(this.int(2 ** 30) + 1) ** BigInt(3 + this.int(12)) *
          (this.random() < 0.5 ? -1n : 1n)
        );
      case 4:
        return new ErlFloat(this.randomFloat());
      case 5:
        return new ErlFloat(this.int(100000) / 100);
      case 6:
        return this.atom();
      case 7:
        return Array.from({ length: 1 + this.int(10) }, () => 97 + this.int(26));
      case 8:
        return Array.from({ length: 1 + this.int(5) }, () => this.int(0x10ffff - 0xe000) + 0xe000);
      case 9:
        return Buffer.from(Array.from({ length: this.int(20) }, () => this.int(256)));
      case 10: {
        const bits = 1 + this.int(7);
        return new BitString(
          Buffer.from([this.int(256), this.int(256) & (0xff << (8 - bits))]),
          bits,
        );
      }
      case 11:
        return new Pid(atom(node), this.int(32768), this.int(8), creation);
      case 12:
        return new Reference(atom(node), creation, [
          this.int(0x40000),
          this.int(2 ** 32),
          this.int(2 ** 32),
        ]);
      case 13:
        return new Port(atom(node), this.int(1000), creation);
      case 14:
        // Port ids beyond 32 bits (V4_PORT_EXT) are valid only for other nodes: a node
        // refuses (and disconnects on) a local port id it could never have made.
        return new Port(atom('other@elsewhere'), 2 ** 40 + this.int(1000), 1);
      case 15:
        return new ExportFun(
          atom('lists'),
          atom(this.pick(['map', 'sum', 'Weird Name'])),
          this.int(4),
        );
      case 16:
        return [];
      case 17:
        return new Tuple([]);
      case 18:
        return -this.int(1000) - 1;
      default:
        return Array.from({ length: 256 + this.int(100) }, () => this.int(256));
    }
  }

  atom(): Atom {
    const fixed = ['ok', 'hello world', 'Abc', 'ça', 'Ω', '', "it's", 'after', 'a\nb', 'x@y'];
    if (this.random() < 0.5) return atom(this.pick(fixed));
    return atom(
      Array.from({ length: 1 + this.int(8) }, () => String.fromCharCode(97 + this.int(26))).join(
        '',
      ),
    );
  }

  randomFloat(): number {
    const bytes = Buffer.alloc(8);
    for (let i = 0; i < 8; i++) bytes[i] = this.int(256);
    const value = bytes.readDoubleBE(0);
    return Number.isFinite(value) ? value : this.random() * 1e6;
  }
}
