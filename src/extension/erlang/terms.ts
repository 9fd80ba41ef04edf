/**
 * How Erlang terms look in TypeScript.
 *
 *   integer      -> number when it is a safe integer, else bigint
 *   float        -> ErlFloat (so 1.0 and 1 stay different)
 *   atom         -> Atom (interned: Atom.of('ok') === Atom.of('ok') for common atoms)
 *   tuple        -> Tuple
 *   proper list  -> Term[] (a string such as "abc" is [97, 98, 99])
 *   improper     -> ImproperList
 *   binary       -> Uint8Array (the decoder hands out Buffers)
 *   bitstring    -> BitString
 *   map          -> ErlMap (entries in arrival order; keys compared structurally)
 *   pid/port/ref -> Pid / Port / Reference
 *   fun M:F/A    -> ExportFun
 *   closure      -> Fun (opaque; re-encodes to the exact bytes it came from)
 */

export type Term =
  | number
  | bigint
  | ErlFloat
  | Atom
  | Tuple
  | Term[]
  | ImproperList
  | Uint8Array
  | BitString
  | ErlMap
  | Pid
  | Port
  | Reference
  | ExportFun
  | Fun;

/** Atoms from untrusted peers are not interned past this many, so a flood cannot grow memory. */
const MAX_INTERNED_ATOMS = 65_536;

export class Atom {
  private static readonly interned = new Map<string, Atom>();

  private constructor(readonly name: string) {}

  static of(name: string): Atom {
    const known = Atom.interned.get(name);
    if (known) return known;
    const created = new Atom(name);
    if (Atom.interned.size < MAX_INTERNED_ATOMS) Atom.interned.set(name, created);
    return created;
  }

  toString(): string {
    return this.name;
  }
}

export function atom(name: string): Atom {
  return Atom.of(name);
}

export class ErlFloat {
  constructor(readonly value: number) {}
}

export class Tuple {
  constructor(readonly elements: Term[]) {}

  get arity(): number {
    return this.elements.length;
  }
}

export function tuple(...elements: Term[]): Tuple {
  return new Tuple(elements);
}

/** A list whose last tail is not []: `[a, b | c]`. `elements` is never empty. */
export class ImproperList {
  constructor(
    readonly elements: Term[],
    readonly tail: Term,
  ) {}
}

/** A bitstring whose bit length is not a multiple of 8; the last byte holds `bitsInLastByte` (1..7) high bits. */
export class BitString {
  constructor(
    readonly bytes: Uint8Array,
    readonly bitsInLastByte: number,
  ) {}

  get bitLength(): number {
    return (this.bytes.length - 1) * 8 + this.bitsInLastByte;
  }
}

export class ErlMap {
  constructor(readonly entries: Array<readonly [Term, Term]>) {}

  get size(): number {
    return this.entries.length;
  }

  get(key: Term): Term | undefined {
    for (const [k, v] of this.entries) if (termEquals(k, key)) return v;
    return undefined;
  }
}

export class Pid {
  constructor(
    readonly node: Atom,
    readonly id: number,
    readonly serial: number,
    readonly creation: number,
  ) {}
}

export class Port {
  constructor(
    readonly node: Atom,
    readonly id: number | bigint,
    readonly creation: number,
  ) {}
}

export class Reference {
  constructor(
    readonly node: Atom,
    readonly creation: number,
    readonly ids: readonly number[],
  ) {}

  /** A string unique per reference, for use as a Map key. */
  get key(): string {
    return `${this.node.name}:${this.creation}:${this.ids.join('.')}`;
  }
}

/** `fun Module:Name/Arity`. */
export class ExportFun {
  constructor(
    readonly module: Atom,
    readonly name: Atom,
    readonly arity: number,
  ) {}
}

/**
 * A closure from another node. It only means something to the node that made it,
 * so it stays opaque: `raw` holds its complete encoding (tag included) and is
 * written back byte for byte. The other fields are for printing.
 */
export class Fun {
  constructor(
    readonly raw: Uint8Array,
    readonly module: Atom,
    readonly oldIndex: number,
    readonly oldUniq: number,
  ) {}
}

export const ok = atom('ok');
export const error = atom('error');
export const trueAtom = atom('true');
export const falseAtom = atom('false');
export const undefinedAtom = atom('undefined');

export function isAtom(term: unknown, name?: string): term is Atom {
  return term instanceof Atom && (name === undefined || term.name === name);
}

export function isTuple(term: unknown, arity?: number): term is Tuple {
  return term instanceof Tuple && (arity === undefined || term.elements.length === arity);
}

/** An Erlang string (list of code points) from JavaScript text. */
export function charlist(text: string): number[] {
  return Array.from(text, (char) => char.codePointAt(0)!);
}

/** A UTF-8 binary from JavaScript text. */
export function binary(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

/** Text from a charlist, a binary (UTF-8) or an atom; undefined for anything else. */
export function textOf(term: Term): string | undefined {
  if (term instanceof Atom) return term.name;
  if (term instanceof Uint8Array) return Buffer.from(term).toString('utf8');
  if (Array.isArray(term) && term.every((c) => typeof c === 'number' && c >= 0 && c <= 0x10ffff)) {
    return String.fromCodePoint(...(term as number[]));
  }
  return undefined;
}

/** Exact equality, like Erlang's `=:=`. */
export function termEquals(a: Term, b: Term): boolean {
  return compareTerms(a, b) === 0;
}

/** Erlang's standard order: number < atom < reference < fun < port < pid < tuple < map < [] < list < bitstring. */
const enum TypeRank {
  Number,
  Atom,
  Reference,
  Fun,
  Port,
  Pid,
  Tuple,
  Map,
  Nil,
  List,
  Bitstring,
}

function rankOf(term: Term): TypeRank {
  if (typeof term === 'number' || typeof term === 'bigint' || term instanceof ErlFloat)
    return TypeRank.Number;
  if (term instanceof Atom) return TypeRank.Atom;
  if (term instanceof Reference) return TypeRank.Reference;
  if (term instanceof Fun || term instanceof ExportFun) return TypeRank.Fun;
  if (term instanceof Port) return TypeRank.Port;
  if (term instanceof Pid) return TypeRank.Pid;
  if (term instanceof Tuple) return TypeRank.Tuple;
  if (term instanceof ErlMap) return TypeRank.Map;
  if (Array.isArray(term)) return term.length === 0 ? TypeRank.Nil : TypeRank.List;
  if (term instanceof ImproperList) return TypeRank.List;
  return TypeRank.Bitstring;
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function compareNumbers(a: number | bigint | ErlFloat, b: number | bigint | ErlFloat): number {
  const aIsFloat = a instanceof ErlFloat;
  const bIsFloat = b instanceof ErlFloat;
  const av = aIsFloat ? a.value : a;
  const bv = bIsFloat ? b.value : b;
  let order: number;
  if (typeof av === 'bigint' && typeof bv === 'bigint') order = av < bv ? -1 : av > bv ? 1 : 0;
  else if (typeof av === 'bigint' || typeof bv === 'bigint') {
    // A bigint is never a safe integer, so comparing through Number keeps the order.
    order = sign(Number(av) - Number(bv));
    if (order === 0) order = sign(Number(BigInt(av) - BigInt(bv as bigint)));
  } else order = sign((av as number) - (bv as number));
  // Equal values: exact order puts the integer first (1 < 1.0), as maps do.
  if (order === 0 && aIsFloat !== bIsFloat) return aIsFloat ? 1 : -1;
  return order;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareSequences(a: readonly Term[], b: readonly Term[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareTerms(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function listParts(term: Term[] | ImproperList): { elements: Term[]; tail: Term } {
  return Array.isArray(term) ? { elements: term, tail: [] } : term;
}

/** Total order close to Erlang's `<`: exact for numbers, atoms, tuples, lists, binaries, maps. */
export function compareTerms(a: Term, b: Term): number {
  const rank = rankOf(a) - rankOf(b);
  if (rank !== 0) return sign(rank);
  if (a instanceof Atom) return compareStrings(a.name, (b as Atom).name);
  if (typeof a === 'number' || typeof a === 'bigint' || a instanceof ErlFloat)
    return compareNumbers(a, b as number);
  if (a instanceof Tuple) {
    const t = b as Tuple;
    return a.arity !== t.arity ? sign(a.arity - t.arity) : compareSequences(a.elements, t.elements);
  }
  if (Array.isArray(a) && Array.isArray(b)) return compareSequences(a, b);
  if (Array.isArray(a) || a instanceof ImproperList)
    return compareImproper(a, b as Term[] | ImproperList);
  if (a instanceof ErlMap) return compareMaps(a, b as ErlMap);
  if (a instanceof Uint8Array || a instanceof BitString) return compareBits(a, b as Uint8Array);
  if (a instanceof Pid) {
    const p = b as Pid;
    return (
      compareStrings(a.node.name, p.node.name) ||
      sign(a.serial - p.serial) ||
      sign(a.id - p.id) ||
      sign(a.creation - p.creation)
    );
  }
  if (a instanceof Port) {
    const p = b as Port;
    return (
      compareStrings(a.node.name, p.node.name) ||
      compareNumbers(a.id, p.id) ||
      sign(a.creation - p.creation)
    );
  }
  if (a instanceof Reference) {
    const r = b as Reference;
    return (
      compareStrings(a.node.name, r.node.name) ||
      compareSequences([...a.ids].reverse(), [...r.ids].reverse()) ||
      sign(a.creation - r.creation)
    );
  }
  return compareFuns(a as Fun | ExportFun, b as Fun | ExportFun);
}

/** Lists where at least one is improper: elements first, then what is left of each. */
function compareImproper(a: Term[] | ImproperList, b: Term[] | ImproperList): number {
  const x = listParts(a);
  const y = listParts(b);
  const n = Math.min(x.elements.length, y.elements.length);
  for (let i = 0; i < n; i++) {
    const c = compareTerms(x.elements[i], y.elements[i]);
    if (c !== 0) return c;
  }
  return compareTerms(listRest(x, n), listRest(y, n));
}

function listRest(list: { elements: Term[]; tail: Term }, from: number): Term {
  if (from >= list.elements.length) return list.tail;
  const elements = list.elements.slice(from);
  return Array.isArray(list.tail) && list.tail.length === 0
    ? elements
    : new ImproperList(elements, list.tail);
}

function compareMaps(a: ErlMap, b: ErlMap): number {
  if (a.size !== b.size) return sign(a.size - b.size);
  const byKey = (x: readonly [Term, Term], y: readonly [Term, Term]) => compareTerms(x[0], y[0]);
  const ea = [...a.entries].sort(byKey);
  const eb = [...b.entries].sort(byKey);
  return (
    compareSequences(
      ea.map((e) => e[0]),
      eb.map((e) => e[0]),
    ) ||
    compareSequences(
      ea.map((e) => e[1]),
      eb.map((e) => e[1]),
    )
  );
}

function compareBits(a: Uint8Array | BitString, b: Uint8Array | BitString): number {
  const ab = a instanceof BitString ? a.bytes : a;
  const bb = b instanceof BitString ? b.bytes : b;
  const aBits = a instanceof BitString ? a.bitLength : a.length * 8;
  const bBits = b instanceof BitString ? b.bitLength : b.length * 8;
  return compareBytes(ab, bb) || sign(aBits - bBits);
}

function compareFuns(a: Fun | ExportFun, b: Fun | ExportFun): number {
  if (a instanceof ExportFun && b instanceof ExportFun) {
    return (
      compareStrings(a.module.name, b.module.name) ||
      compareStrings(a.name.name, b.name.name) ||
      sign(a.arity - b.arity)
    );
  }
  if (a instanceof Fun && b instanceof Fun) return compareBytes(a.raw, b.raw);
  return a instanceof Fun ? -1 : 1;
}
