/**
 * Prints terms the way Erlang/OTP 25's io_lib does with `~w` and `~p` (without
 * ~p's line breaking: the output is always one line). Checked against a real node
 * by the round-trip tests.
 *
 * One deliberate difference: Erlang shows a pid of another node as `<N.id.serial>`
 * where N is an index private to the printing node; we print the node name there
 * instead (`<other@host.12.0>`), which is more useful outside that node.
 */
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
  compareTerms,
  type Term,
} from './terms';

export interface FormatOptions {
  /** 'p' detects printable strings and binaries; 'w' prints every list as numbers. Default 'p'. */
  style?: 'p' | 'w';
  /** Pids, ports and refs of this node print with node number 0, as the node itself prints them. */
  localNode?: string;
}

export function formatTerm(term: Term, options: FormatOptions = {}): string {
  const out: string[] = [];
  new TermPrinter(options.style ?? 'p', options.localNode).write(term, out);
  return out.join('');
}

class TermPrinter {
  constructor(
    private readonly style: 'p' | 'w',
    private readonly localNode: string | undefined,
  ) {}

  write(term: Term, out: string[]): void {
    if (typeof term === 'number' || typeof term === 'bigint') out.push(String(term));
    else if (term instanceof Atom) out.push(formatAtom(term.name));
    else if (term instanceof ErlFloat) out.push(formatFloat(term.value));
    else if (term instanceof Tuple) this.sequence('{', term.elements, undefined, '}', out);
    else if (Array.isArray(term)) this.list(term, out);
    else if (term instanceof ImproperList) this.sequence('[', term.elements, term.tail, ']', out);
    else if (term instanceof Uint8Array) this.binary(term, out);
    else if (term instanceof BitString) out.push(formatBitString(term));
    else if (term instanceof ErlMap) this.map(term, out);
    else if (term instanceof Pid)
      out.push(`<${this.nodeNumber(term.node)}.${term.id}.${term.serial}>`);
    else if (term instanceof Port) out.push(`#Port<${this.nodeNumber(term.node)}.${term.id}>`);
    else if (term instanceof Reference) {
      const ids = [...term.ids].reverse().join('.');
      out.push(`#Ref<${this.nodeNumber(term.node)}.${ids}>`);
    } else if (term instanceof ExportFun) {
      out.push(`fun ${formatAtom(term.module.name)}:${formatAtom(term.name.name)}/${term.arity}`);
    } else if (term instanceof Fun) {
      out.push(`#Fun<${term.module.name}.${term.oldIndex}.${term.oldUniq}>`);
    } else out.push(`<unknown ${typeof term}>`);
  }

  private nodeNumber(node: Atom): string {
    return node.name === this.localNode ? '0' : node.name;
  }

  private list(list: Term[], out: string[]): void {
    if (this.style === 'p' && isPrintableList(list)) {
      out.push(quoteText(list as number[], '"'));
      return;
    }
    this.sequence('[', list, undefined, ']', out);
  }

  private sequence(
    open: string,
    elements: Term[],
    tail: Term | undefined,
    close: string,
    out: string[],
  ): void {
    out.push(open);
    for (let index = 0; index < elements.length; index++) {
      if (index > 0) out.push(',');
      this.write(elements[index], out);
    }
    if (tail !== undefined) {
      out.push('|');
      this.write(tail, out);
    }
    out.push(close);
  }

  private binary(bytes: Uint8Array, out: string[]): void {
    if (this.style === 'p' && bytes.length > 0 && bytes.every(isPrintableChar)) {
      out.push('<<', quoteText(Array.from(bytes), '"'), '>>');
    } else out.push('<<', bytes.join(','), '>>');
  }

  private map(map: ErlMap, out: string[]): void {
    // Erlang prints map keys in term order (for maps of up to 32 keys that is also storage order).
    const entries = [...map.entries].sort((a, b) => compareTerms(a[0], b[0]));
    out.push('#{');
    entries.forEach(([key, value], index) => {
      if (index > 0) out.push(',');
      this.write(key, out);
      out.push(' => ');
      this.write(value, out);
    });
    out.push('}');
  }
}

/** Characters io_lib treats as printable in latin1 mode (the default printable range). */
function isPrintableChar(c: number): boolean {
  return (c >= 32 && c <= 126) || (c >= 160 && c <= 255) || (c >= 8 && c <= 13) || c === 27;
}

function isPrintableList(list: Term[]): boolean {
  if (list.length === 0) return false;
  for (const element of list) {
    if (typeof element !== 'number' || !isPrintableChar(element)) return false;
  }
  return true;
}

const namedEscapes: Record<number, string> = {
  8: '\\b',
  9: '\\t',
  10: '\\n',
  11: '\\v',
  12: '\\f',
  13: '\\r',
  27: '\\e',
  92: '\\\\',
  127: '\\d',
};

/** Quotes code points as an Erlang string or quoted atom, escaping like io_lib. */
function quoteText(codes: readonly number[], quote: '"' | "'"): string {
  let text = quote;
  for (const c of codes) {
    const named = namedEscapes[c];
    if (named !== undefined) text += named;
    else if (c === quote.charCodeAt(0)) text += '\\' + quote;
    else if (c < 32 || (c >= 128 && c < 160)) text += '\\' + c.toString(8).padStart(3, '0');
    else if (c > 255) text += `\\x{${c.toString(16).toUpperCase()}}`;
    else text += String.fromCharCode(c);
  }
  return text + quote;
}

const reservedWords = new Set(
  (
    'after and andalso band begin bnot bor bsl bsr bxor case catch cond div end fun if let not ' +
    'of or orelse receive rem try when xor'
  ).split(' '),
);

function isLowerStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 223 && c <= 255 && c !== 247);
}

function isAtomChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    (c >= 48 && c <= 57) ||
    c === 95 ||
    c === 64 ||
    (c >= 192 && c <= 255 && c !== 215 && c !== 247)
  );
}

/** Printed atoms by name: a node has few atoms and traces print the same ones over and over. */
const printedAtoms = new Map<string, string>();
const PRINTED_ATOMS_KEPT = 10_000;

export function formatAtom(name: string): string {
  let printed = printedAtoms.get(name);
  if (printed === undefined) {
    printed = printAtom(name);
    if (printedAtoms.size < PRINTED_ATOMS_KEPT) printedAtoms.set(name, printed);
  }
  return printed;
}

function printAtom(name: string): string {
  const codes = Array.from(name, (ch) => ch.codePointAt(0)!);
  const bare =
    codes.length > 0 &&
    isLowerStart(codes[0]) &&
    codes.every(isAtomChar) &&
    !reservedWords.has(name);
  return bare ? name : quoteText(codes, "'");
}

function formatBitString(bits: BitString): string {
  const whole = Array.from(bits.bytes.subarray(0, bits.bytes.length - 1));
  const last = bits.bytes[bits.bytes.length - 1] >> (8 - bits.bitsInLastByte);
  return `<<${[...whole, `${last}:${bits.bitsInLastByte}`].join(',')}>>`;
}

/**
 * Erlang's shortest round-trip float text: the shortest digits that read back to the
 * same double, written in whichever of plain or exponent notation is shorter (plain
 * on a tie), and always in exponent notation from 2^53 up.
 */
export function formatFloat(value: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const sign = value < 0 ? '-' : '';
  const magnitude = Math.abs(value);
  const [mantissa, exponentText] = magnitude.toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  const scientific =
    digits.length === 1 ? `${digits}.0e${exponent}` : `${digits[0]}.${digits.slice(1)}e${exponent}`;
  if (magnitude >= 2 ** 53) return sign + scientific;
  const plain = plainNotation(digits, exponent);
  return sign + (plain.length <= scientific.length ? plain : scientific);
}

/** digits × 10^(exponent - digits.length + 1) without an exponent: 0.0012, 1250.0, 3.25. */
function plainNotation(digits: string, exponent: number): string {
  const pointAt = exponent + 1; // digits before the decimal point
  if (pointAt <= 0) return '0.' + '0'.repeat(-pointAt) + digits;
  if (pointAt >= digits.length) return digits + '0'.repeat(pointAt - digits.length) + '.0';
  return `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
}
