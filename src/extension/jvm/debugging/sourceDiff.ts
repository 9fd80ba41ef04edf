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
  for (const line of [...rootCauseLines]) {
    const constant = inlinedConstant(buggy[line - 1]);
    if (constant) usesOf(constant, buggy, line).forEach((use) => rootCauseLines.add(use));
  }
  return { buggyToFixed, rootCauseLines };
}

/**
 * The name a line declares when it declares a constant javac inlines: a final field of a
 * primitive type or String initialised with an expression of literals and operators.
 */
function inlinedConstant(line: string): string | undefined {
  const match =
    /^\s*(?:(?:public|protected|private|static)\s+)*final\s+(?:byte|short|int|long|float|double|char|boolean|String)\s+(\w+)\s*=\s*([^;]+);/.exec(
      line,
    );
  if (!match || /\bnew\b|[\w$]\s*\(|\[/.test(match[2])) return undefined;
  // Other names in the initialiser would have to be constants too; leave those out.
  const rest = match[2]
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(
      /\b0[xX][\dA-Fa-f_]+[lL]?\b|(?:\b\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?[dDfFlL]?/g,
      ' ',
    );
  if ((rest.match(/[A-Za-z_$][\w$]*/g) ?? []).some((name) => name !== 'true' && name !== 'false'))
    return undefined;
  return match[1];
}

/** Lines (1-based) other than the declaration that mention `name` outside strings and comments. */
function usesOf(name: string, lines: readonly string[], declaration: number): number[] {
  const mention = new RegExp(`(?<![\\w$.])${name}(?![\\w$])|\\.${name}(?![\\w$(])`);
  const uses: number[] = [];
  lines.forEach((line, i) => {
    const code = line.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\/\/.*$/, '');
    if (i + 1 !== declaration && mention.test(code)) uses.push(i + 1);
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
  }
  for (let i = after; i < buggy.length; i++) {
    if (isCode(buggy[i])) {
      lines.add(i + 1);
      break;
    }
  }
}
