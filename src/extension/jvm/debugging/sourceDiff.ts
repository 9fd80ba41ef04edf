// What a fix changed in one source file: which buggy lines correspond to which fixed lines (to
// align the traces of the two versions), and which buggy lines count as the root cause (to
// score a debugging session).

import { longestCommonSubsequence } from './lcs';

export interface SourceDiff {
  /**
   * Buggy line -> fixed line (1-based); lines of a replaced block pair up in order, a line the
   * fix moved pairs with where it went, and a deleted line maps to 0 (no fixed line).
   */
  buggyToFixed: Map<number, number>;
  /**
   * Buggy lines the fix changed or deleted. Where the fix only inserted lines, the code lines
   * just before and after the insertion stand for it (the omission shows there). Where it
   * changed a constant that javac copies into the code using it (`static final double
   * LID_FACTOR = 0.4;`), the declaration never runs: the lines using the constant stand for it.
   */
  rootCauseLines: Set<number>;
}

export function diffSources(buggyText: string, fixedText: string): SourceDiff {
  const buggy = buggyText.split(/\r?\n/);
  const fixed = fixedText.split(/\r?\n/);
  const normalise = (line: string) => line.trim().replace(/\s+/g, ' ');
  const pairs = longestCommonSubsequence(buggy.map(normalise), fixed.map(normalise));
  const buggyToFixed = new Map<number, number>();
  const rootCauseLines = new Set<number>();
  const deleted: number[] = [];
  const inserted: number[] = [];
  let previous: [number, number] = [-1, -1];
  for (const pair of [...pairs, [buggy.length, fixed.length] as [number, number]]) {
    const removed = range(previous[0] + 1, pair[0]);
    const added = range(previous[1] + 1, pair[1]);
    const code = removed.filter((i) => isCode(buggy[i]));
    if (code.length > 0) {
      for (const i of code) rootCauseLines.add(i + 1);
    } else if (added.some((j) => isCode(fixed[j]))) {
      markAroundInsertion(buggy, previous[0], pair[0], rootCauseLines);
    }
    removed.forEach((i, k) => {
      if (k < added.length) buggyToFixed.set(i + 1, added[k] + 1);
      else deleted.push(i);
    });
    inserted.push(...added.slice(removed.length));
    if (pair[0] < buggy.length) buggyToFixed.set(pair[0] + 1, pair[1] + 1);
    previous = pair;
  }
  pairMovedLines(
    deleted,
    inserted,
    (i) => normalise(buggy[i]),
    (j) => normalise(fixed[j]),
  ).forEach((j, i) => buggyToFixed.set(i + 1, j < 0 ? 0 : j + 1));
  blameUsesOfInlinedConstants(buggy, rootCauseLines);
  return { buggyToFixed, rootCauseLines };
}

/**
 * Adds the lines using each constant javac inlines that a root-cause line declares, and, when a
 * use declares another such constant (`DEG = Math.PI / HALF_TURN`), the lines using that one.
 */
function blameUsesOfInlinedConstants(lines: readonly string[], rootCauseLines: Set<number>): void {
  const constants = constantDeclarations(lines);
  const pending = [...rootCauseLines];
  for (let line = pending.pop(); line !== undefined; line = pending.pop()) {
    const name = constants.get(line);
    if (name === undefined) continue;
    for (const use of usesOf(name, lines, line))
      if (!rootCauseLines.has(use)) {
        rootCauseLines.add(use);
        pending.push(use);
      }
  }
}

const CONSTANT_DECLARATION =
  /^\s*(?:(?:public|protected|private|static)\s+)*final\s+(?:byte|short|int|long|float|double|char|boolean|String)\s+(\w+)\s*=\s*([^;]+);/;

/** Constants of the JDK that javac inlines as it does the program's own. */
const JDK_CONSTANTS =
  /\b(?:java\.lang\.)?(?:Math\.(?:PI|E)|(?:Byte|Short|Integer|Long|Character)\.(?:MAX_VALUE|MIN_VALUE|SIZE|BYTES)|(?:Float|Double)\.(?:MAX_VALUE|MIN_VALUE|MIN_NORMAL|POSITIVE_INFINITY|NEGATIVE_INFINITY|NaN|MAX_EXPONENT|MIN_EXPONENT|SIZE|BYTES))\b/g;

const PRIMITIVE_TYPES = new Set(['byte', 'short', 'int', 'long', 'float', 'double', 'char']);

/**
 * Line (1-based) -> name, for the lines declaring a constant javac inlines: a final field of a
 * primitive type or String initialised with a constant expression (literals, operators, casts
 * to primitive types, the JDK's constants and, declared before or after, the file's own).
 */
function constantDeclarations(lines: readonly string[]): Map<number, string> {
  const candidates = new Map<number, { name: string; names: string[] }>();
  lines.forEach((line, i) => {
    const match = CONSTANT_DECLARATION.exec(line);
    if (!match || /\bnew\b|[\w$]\s*\(|\[/.test(match[2])) return;
    const rest = codeOf(match[2])
      .replace(JDK_CONSTANTS, ' ')
      .replace(
        /\b0[xX][\dA-Fa-f_]+[lL]?\b|(?:\b\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?[dDfFlL]?/g,
        ' ',
      );
    const names = (rest.match(/[A-Za-z_$][\w$.]*/g) ?? []).filter(
      (name) => name !== 'true' && name !== 'false' && !PRIMITIVE_TYPES.has(name),
    );
    candidates.set(i + 1, { name: match[1], names });
  });
  // A name stands for a constant only if it is one of the candidates that are constants.
  const constant = new Map<number, string>();
  for (let grew = true; grew;) {
    grew = false;
    const known = new Set(constant.values());
    for (const [line, { name, names }] of candidates)
      if (!constant.has(line) && names.every((n) => known.has(n.replace(/^(?:\w+\.)+/, '')))) {
        constant.set(line, name);
        grew = true;
      }
  }
  return constant;
}

/** Lines (1-based) other than the declaration that mention `name` outside strings and comments. */
function usesOf(name: string, lines: readonly string[], declaration: number): number[] {
  const mention = new RegExp(`(?<![\\w$.])${name}(?![\\w$])|\\.${name}(?![\\w$(])`);
  const uses: number[] = [];
  lines.forEach((line, i) => {
    if (i + 1 !== declaration && mention.test(codeOf(line))) uses.push(i + 1);
  });
  return uses;
}

/**
 * Deleted buggy lines whose text the fix inserted elsewhere (statements swapped or moved) map to
 * that fixed line; the others to -1. Each inserted line is used once.
 */
function pairMovedLines(
  deleted: readonly number[],
  inserted: readonly number[],
  buggyText: (i: number) => string,
  fixedText: (j: number) => string,
): Map<number, number> {
  const free = [...inserted];
  const pairs = new Map<number, number>();
  for (const i of deleted) {
    const at = free.findIndex((j) => fixedText(j) === buggyText(i) && buggyText(i) !== '');
    pairs.set(i, at < 0 ? -1 : free.splice(at, 1)[0]);
  }
  return pairs;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

/** A line with a statement or condition on it (not blank, a lone brace or a comment). */
function isCode(line: string): boolean {
  const text = line.trim();
  return text !== '' && !/^[{}]+;?$/.test(text) && !text.startsWith('//') && text !== '} else {';
}

function markAroundInsertion(
  buggy: string[],
  before: number,
  after: number,
  lines: Set<number>,
): void {
  for (let i = before; i >= 0; i--) {
    if (isCode(buggy[i])) {
      lines.add(i + 1);
      break;
    }
    if (!buggy[i].trim().startsWith('}')) continue;
    // A closing brace may run code itself: a for-each loop takes its next element there.
    lines.add(i + 1);
    const ends = blockEnds(buggy, i);
    if (ends.length > 0) {
      for (const end of ends) lines.add(end + 1);
      break;
    }
  }
  for (let i = after; i < buggy.length; i++) {
    if (isCode(buggy[i])) {
      lines.add(i + 1);
      break;
    }
    // A closing brace may run code: a loop's next round, a method's return.
    if (buggy[i].trim().startsWith('}')) lines.add(i + 1);
  }
}

/**
 * What can have run last in the block that ends on line `close`, before code inserted after it.
 * An `if`/`else` chain (a `break;` after it): the last line of every branch, and the last
 * condition when no final `else` catches the rest. A loop: its last line and its condition,
 * which runs last. Empty for other blocks.
 */
function blockEnds(buggy: readonly string[], close: number): number[] {
  const ends: number[] = [];
  for (let at = close, finalBranch = true; ; finalBranch = false) {
    const open = openingLine(buggy, at);
    if (open < 0) return [];
    const head = buggy[open].trim();
    const conditional = /^(?:}\s*else\s+)?if\b/.test(head);
    const loop = finalBranch && /^(?:for|while)\b/.test(head);
    if (!conditional && !loop && !/^}\s*else\s*{$/.test(head)) return [];
    for (let i = at - 1; i > open; i--) {
      if (isCode(buggy[i])) {
        ends.push(i);
        break;
      }
    }
    if (finalBranch && (conditional || loop)) ends.push(open);
    if (!head.startsWith('}')) return ends;
    at = open;
  }
}

/** The line holding the `{` that the `}` starting line `close` closes; -1 if none is found. */
function openingLine(buggy: readonly string[], close: number): number {
  let depth = 1;
  for (let i = close - 1; i >= 0; i--) {
    const code = codeOf(buggy[i]);
    for (let c = code.length - 1; c >= 0; c--) {
      if (code[c] === '}') depth++;
      else if (code[c] === '{' && --depth === 0) return i;
    }
  }
  return -1;
}

/** A source line's code: string and character literals emptied, a line comment dropped. */
function codeOf(line: string): string {
  return line.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""').replace(/\/\/.*$/, '');
}
