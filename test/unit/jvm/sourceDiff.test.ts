// How the fixed version's lines are matched to the buggy version's, for aligning their traces,
// and which buggy lines count as the root cause.

import { strict as assert } from 'node:assert';
import { diffSources } from '../../../src/extension/jvm/debugging/sourceDiff';

const lines = (...text: string[]) => text.join('\n');

describe('source diff of a buggy and a fixed version', () => {
  it('pairs a changed line with its replacement and shifts the lines after an insertion', () => {
    const diff = diffSources(
      lines('int a = 1;', 'int b = a - 1;', 'print(b);'),
      lines('int a = 1;', 'int b = a + 1;', 'b++;', 'print(b);'),
    );
    assert.deepEqual(
      [...diff.buggyToFixed],
      [
        [1, 1],
        [2, 2],
        [3, 4],
      ],
    );
    assert.deepEqual([...diff.rootCauseLines], [2]);
  });

  it('pairs swapped statements with where they went', () => {
    const diff = diffSources(
      lines('void move(int to) {', 'floor = to;', 'travelled += to - floor;', '}'),
      lines('void move(int to) {', 'travelled += to - floor;', 'floor = to;', '}'),
    );
    assert.equal(diff.buggyToFixed.get(2), 3, 'floor = to moved one line down');
    assert.equal(diff.buggyToFixed.get(3), 2);
    assert.ok(diff.rootCauseLines.has(2));
  });

  it('maps a deleted line to no fixed line, so it never pairs with an unrelated one', () => {
    const diff = diffSources(
      lines('int total = 0;', 'total = 5;', 'print(total);'),
      lines('int total = 0;', 'print(total);'),
    );
    assert.equal(diff.buggyToFixed.get(2), 0);
    assert.equal(diff.buggyToFixed.get(3), 2);
    assert.deepEqual([...diff.rootCauseLines], [2]);
  });

  it('blames the code lines around an insertion when the fix only added a statement', () => {
    const diff = diffSources(
      lines('} else {', '  out.append(c);', '  current = c;', '}', 'return out;'),
      lines('} else {', '  out.append(c);', '  current = c;', '  count = 1;', '}', 'return out;'),
    );
    // The closing brace after the insertion too: it may run code (a loop's next round).
    assert.deepEqual(
      [...diff.rootCauseLines].sort((a, b) => a - b),
      [3, 4, 5],
    );
  });

  it('blames the end of every branch of an if/else chain that a statement inserted after it follows', () => {
    const chain = (...after: string[]) =>
      lines(
        'case CARD:', // 1
        '  if (locked && bal >= FARE) {', // 2
        '    taken += FARE;', // 3
        '    locked = false;', // 4
        '  } else if (locked) {', // 5
        '    denied++;', // 6
        '  }', // 7
        ...after,
        'case PUSH:', // 8, or 9 in the fixed version
        '  passages++;',
      );
    const missingBreak = diffSources(chain(), chain('  break;'));
    // Each branch's last line, the last condition (no final else), the closing brace (no code
    // here; after a for-each loop it takes the next element) and the line after.
    assert.deepEqual(
      [...missingBreak.rootCauseLines].sort((a, b) => a - b),
      [4, 5, 6, 7, 8],
    );
    const withElse = diffSources(
      lines('if (a) {', '  x = 1;', '} else {', '  x = 2;', '}', 'print(x);'),
      lines('if (a) {', '  x = 1;', '} else {', '  x = 2;', '}', 'x++;', 'print(x);'),
    );
    assert.deepEqual(
      [...withElse.rootCauseLines].sort((a, b) => a - b),
      [2, 4, 5, 6],
    );
    // After a loop, what ran last is its condition, on the header or, for a for-each loop's
    // next element, on the closing brace.
    const afterLoop = diffSources(
      lines('for (Egg e : eggs) {', '  e.turns++;', '}', 'print(sum);'),
      lines('for (Egg e : eggs) {', '  e.turns++;', '}', 'last = hour;', 'print(sum);'),
    );
    assert.deepEqual(
      [...afterLoop.rootCauseLines].sort((a, b) => a - b),
      [1, 2, 3, 4],
    );
  });

  it('blames the lines using a constant javac inlines when the fix changed its value', () => {
    const program = (factor: string, limit: string) =>
      lines(
        `static final double LID_FACTOR = ${factor};`,
        `static final int LIMIT = ${limit};`,
        'static final String NAME = "LID_FACTOR";',
        'double rate(boolean lid) {',
        '  double k = 0.2;',
        '  if (lid) k *= LID_FACTOR; // LID_FACTOR again',
        '  return k + Main.LID_FACTOR;',
        '}',
      );
    const diff = diffSources(program('0.4', '3'), program('0.6', '3'));
    assert.deepEqual([...diff.rootCauseLines].sort(), [1, 6, 7]);
    // Made from a call, the field is set when the class initialises: its line runs.
    const computed = diffSources(
      lines('static final int LIMIT = Integer.parseInt("3");', 'int x = LIMIT;'),
      lines('static final int LIMIT = Integer.parseInt("4");', 'int x = LIMIT;'),
    );
    assert.deepEqual([...computed.rootCauseLines], [1]);
    const hex = diffSources(
      lines('static final int MASK = 0x1F;', 'int y = v & MASK;'),
      lines('static final int MASK = 0x3F;', 'int y = v & MASK;'),
    );
    assert.deepEqual([...hex.rootCauseLines].sort(), [1, 2]);
  });

  it("knows constants made from the JDK's constants, casts and the file's other constants", () => {
    const program = (divisor: string) =>
      lines(
        `static final double DEG = Math.PI / ${divisor};`,
        'static final double HALF_DEG = DEG / 2 + (int) 1e3 - Integer.MAX_VALUE;',
        'static final double SCALED = DEG * scale;',
        'double scale = 2;',
        'double rad(double d) { return d * DEG; }',
        'double half(double d) { return d * HALF_DEG; }',
        'double scaled(double d) { return d * SCALED; }',
      );
    const diff = diffSources(program('360.0'), program('180.0'));
    // SCALED reads a field: set when the class initialises, its line runs and stands for itself.
    assert.deepEqual(
      [...diff.rootCauseLines].sort((a, b) => a - b),
      [1, 2, 3, 5, 6],
    );
  });
});
