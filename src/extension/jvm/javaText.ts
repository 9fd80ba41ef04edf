// Renders recorded values the way Java prints them (String.valueOf), so the extension shows
// what the program itself would have printed.

/** Java's Double.toString layout over JavaScript's shortest round-trip digits. */
export function javaDouble(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  // No fewer digits than JavaScript's shortest round-trip text has can round-trip: start there.
  return layout(
    value,
    shortestDigits(value, 17, (x) => x, significantDigitCount(String(value))),
  );
}

/** Significant digits of a number's JavaScript text: "0.30000000000000004" 17, "1e-7" 1. */
function significantDigitCount(text: string): number {
  const mantissa = text.split('e')[0].replace('-', '').replace('.', '');
  return Math.max(1, mantissa.replace(/^0+/, '').replace(/0+$/, '').length);
}

/** Java's Float.toString: the shortest digits that round-trip through float32. */
export function javaFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  return layout(value, shortestDigits(value, 9, Math.fround));
}

interface Digits {
  negative: boolean;
  digits: string; // no leading/trailing zeros
  exponent: number; // value = 0.d1d2d3... * 10^exponent
}

function shortestDigits(
  value: number,
  maxPrecision: number,
  round: (x: number) => number,
  fromPrecision = 1,
): Digits {
  let text: string | undefined;
  for (let precision = fromPrecision; precision <= maxPrecision && !text; precision++) {
    const candidate = value.toExponential(precision - 1);
    if (round(Number(candidate)) === value) text = candidate;
  }
  text ??= value.toExponential(maxPrecision - 1);
  const negative = text.startsWith('-');
  const [mantissa, exp] = (negative ? text.slice(1) : text).split('e');
  const digits = mantissa.replace('.', '').replace(/0+$/, '') || '0';
  return { negative, digits, exponent: Number(exp) + 1 };
}

/** Decimal for 1e-3 <= |v| < 1e7, otherwise computerized scientific notation (d.dddE-n). */
function layout(value: number, d: Digits): string {
  const magnitude = Math.abs(value);
  const sign = d.negative ? '-' : '';
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    if (d.exponent <= 0) return `${sign}0.${'0'.repeat(-d.exponent)}${d.digits}`;
    if (d.digits.length <= d.exponent) {
      return `${sign}${d.digits}${'0'.repeat(d.exponent - d.digits.length)}.0`;
    }
    return `${sign}${d.digits.slice(0, d.exponent)}.${d.digits.slice(d.exponent)}`;
  }
  const fraction = d.digits.length > 1 ? d.digits.slice(1) : '0';
  return `${sign}${d.digits[0]}.${fraction}E${d.exponent - 1}`;
}

/** A Java string literal (double quotes, escapes as javac would accept them). */
export function javaStringLiteral(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

const PRIMITIVE_NAMES: Record<string, string> = {
  Z: 'boolean',
  B: 'byte',
  C: 'char',
  S: 'short',
  I: 'int',
  J: 'long',
  F: 'float',
  D: 'double',
  V: 'void',
};

/** Class.getName() form ("[I", "[Ljava.lang.String;") to source form ("int[]", ...). */
export function javaTypeName(runtimeName: string): string {
  let dims = 0;
  while (runtimeName[dims] === '[') dims++;
  if (dims === 0) return runtimeName;
  const element = runtimeName.slice(dims);
  const base = element[0] === 'L' ? element.slice(1, -1) : (PRIMITIVE_NAMES[element] ?? element);
  return base + '[]'.repeat(dims);
}

/** An array's runtime name shown with its length in the first brackets: `int[5][]`. */
export function javaArrayTypeName(runtimeName: string, length: number): string {
  return javaTypeName(runtimeName).replace('[]', `[${length}]`);
}

/** The type of a shown reference `Type@id` (`demo.Main$Printer@35` -> `demo.Main$Printer`). */
export function typeOfReference(reference: string): string {
  const at = reference.lastIndexOf('@');
  return at < 0 ? reference : reference.slice(0, at);
}

/** A shown reference `Type@id` as its type and id; undefined for any other value. */
export function referenceParts(value: string): { type: string; id: number } | undefined {
  const match = /^([^"@\s][^@\s]*)@(\d+)$/.exec(value);
  return match ? { type: match[1], id: Number(match[2]) } : undefined;
}

/** A shown type is an array type: `int[]`, `int[5]`, `String[3][]`. */
export function isArrayTypeText(type: string): boolean {
  return /\[\d*\](\[\])*$/.test(type);
}

/** Element descriptor of an array runtime name ("[I" -> "I"), or undefined. */
export function arrayElementDescriptor(runtimeName: string): string | undefined {
  if (!runtimeName.startsWith('[')) return undefined;
  const element = runtimeName.slice(1);
  return element.startsWith('L') ? `L${element.slice(1).replace(/\./g, '/')}` : element;
}

/** Formats an int-like value by its descriptor (boolean, char, byte, short, int). */
export function javaIntLike(value: number, descriptor: string): string {
  switch (descriptor) {
    case 'Z':
      return value !== 0 ? 'true' : 'false';
    case 'C':
      return String.fromCharCode(value & 0xffff);
    case 'B':
      return String((value << 24) >> 24);
    case 'S':
      return String((value << 16) >> 16);
    default:
      return String(value | 0);
  }
}
