// The simulated person of debug-sim: how the fixed run's trace answers the feedback questions
// about a buggy step, on hand-built pairs of traces.

import { strict as assert } from 'node:assert';
import { FixedRunOracle } from '../../../src/extension/jvm/debugging/simulation';
import {
  MemoryTraceView,
  type TraceAccess,
  type TraceStep,
} from '../../../src/extension/jvm/debugging/traceView';

type Access = [
  kind: TraceAccess['kind'],
  name: string,
  value: string,
  writerOrder?: number,
  objectInputs?: string[],
];

interface StepSpec {
  line: number;
  method?: string;
  reads?: Access[];
  writes?: Access[];
  parent?: number;
  control?: number;
}

function view(specs: StepSpec[], seqBase: number): MemoryTraceView {
  const access = ([kind, name, value, writer, objectInputs]: Access): TraceAccess => ({
    kind,
    name,
    value,
    ...(writer === undefined ? {} : { writer: { threadId: 1, order: writer } }),
    ...(objectInputs === undefined ? {} : { objectInputs }),
  });
  const steps: TraceStep[] = specs.map((spec, i) => ({
    threadId: 1,
    order: i + 1,
    seq: seqBase + i,
    className: 'demo.Main',
    method: spec.method ?? 'main',
    line: spec.line,
    reads: (spec.reads ?? []).map(access),
    writes: (spec.writes ?? []).map(access),
    ...(spec.parent === undefined ? {} : { invocationParent: { threadId: 1, order: spec.parent } }),
    ...(spec.control === undefined
      ? {}
      : { controlDominator: { threadId: 1, order: spec.control } }),
  }));
  return new MemoryTraceView(steps);
}

/**
 * Pairs buggy step i with fixed step pairs[i] (1-based orders; 0 = no partner); `decisions` are
 * the buggy steps (orders) that ran a branch.
 */
function oracle(
  buggy: StepSpec[],
  fixed: StepSpec[],
  pairs: number[],
  decisions: number[] = [],
  linesTheFixAdded: number[] = [],
  linesTheFixDeleted?: number[],
) {
  const buggyView = view(buggy, 0);
  const fixedView = view(fixed, 1000);
  const matches = new Map<number, number>();
  pairs.forEach((partner, i) => {
    if (partner > 0) matches.set(i, partner - 1);
  });
  const judge = (order: number) =>
    new FixedRunOracle(
      buggyView,
      fixedView,
      matches,
      new Set(decisions.map((order) => order - 1)),
      linesTheFixDeleted &&
        ((step) =>
          `${step.className}.${step.method}:${linesTheFixDeleted.includes(step.line) ? 0 : step.line}`),
      (step) => linesTheFixAdded.includes(step.line),
    ).judge(buggyView.step({ threadId: 1, order })!, { seq: -1 });
  return { judge };
}

describe('debug-sim oracle', () => {
  it('tells two objects of the program apart by where each run made them', () => {
    // Both runs make two tasks; the buggy one pops the second where the fixed one pops the first.
    const made = (first: string, second: string): StepSpec[] => [
      { line: 3, writes: [['local', 'a', first]] },
      { line: 4, writes: [['local', 'b', second]] },
    ];
    const buggy = [...made('Task@1', 'Task@2'), { line: 5, reads: [['local', 't', 'Task@2']] }];
    const fixed = [...made('Task@7', 'Task@8'), { line: 5, reads: [['local', 't', 'Task@7']] }];
    const { judge } = oracle(buggy as StepSpec[], fixed as StepSpec[], [1, 2, 3]);
    assert.deepEqual(judge(3), { kind: 'wrong-value', readIndex: 0 });
    const same = oracle(
      buggy as StepSpec[],
      [...made('Task@7', 'Task@8'), { line: 5, reads: [['local', 't', 'Task@8']] }],
      [1, 2, 3],
    );
    assert.equal(same.judge(3).kind, 'missing-update', 'the same object, made by partner steps');
  });

  it('blames a line split by a call when the fix added a statement before the line', () => {
    // Buggy: p.nightsSold += r.nights();  Fixed: p.freeFrom = r.departure(); first.
    const call: StepSpec = { line: 40, method: 'nights' };
    const buggy: StepSpec[] = [
      { line: 66, writes: [['local', 'p', 'Pitch@1']] },
      { line: 72, reads: [['local', 'p', 'Pitch@1']] },
      { ...call, parent: 2 },
      { line: 72, reads: [['local', 'p', 'Pitch@1']], writes: [['field', 'nightsSold', '2']] },
    ];
    const fixed: StepSpec[] = [
      { line: 66, writes: [['local', 'p', 'Pitch@7']] },
      { line: 72, reads: [['local', 'p', 'Pitch@7']], writes: [['field', 'freeFrom', '5']] },
      { line: 73, reads: [['local', 'p', 'Pitch@7']] },
      { ...call, parent: 3 },
      { line: 73, reads: [['local', 'p', 'Pitch@7']], writes: [['field', 'nightsSold', '2']] },
    ];
    const { judge } = oracle(buggy, fixed, [1, 3, 4, 5]);
    assert.equal(judge(4).kind, 'correct', 'the part after the call is blamed too');
    assert.equal(judge(2).kind, 'correct');
  });

  it('blames a step after which the fixed run left the loop body and the buggy run went on', () => {
    // buggy: `if (!fits) shelve(item); hole.add(item);`  fixed: `... shelve(item); continue; }`
    const buggy: StepSpec[] = [
      { line: 57 },
      { line: 64, control: 1 },
      { line: 66, control: 1 },
      { line: 57, control: 1 },
    ];
    const fixed: StepSpec[] = [{ line: 57 }, { line: 64, control: 1 }, { line: 57, control: 1 }];
    const { judge } = oracle(buggy, fixed, [1, 2, 0, 3], [], [], []);
    assert.equal(judge(2).kind, 'correct', 'the continue after it is missing');
    const deleted = oracle(buggy, fixed, [1, 2, 0, 3], [], [], [66]);
    assert.equal(deleted.judge(2).kind, 'missing-update', 'a statement the fix deleted came next');
  });

  it('tells lists apart that were given other objects of the same type', () => {
    // Both runs make two loads; the buggy list was given the second where the fixed got the first.
    const made = (first: string, second: string): StepSpec[] => [
      { line: 3, writes: [['local', 'a', first]] },
      { line: 4, writes: [['local', 'b', second]] },
    ];
    const state = '(after 1 change(s), inputs #00000001)';
    const reading = (given: string): StepSpec => ({
      line: 5,
      reads: [['library', 'contents of loads', state, undefined, [given]]],
    });
    const buggy = [...made('Load@1', 'Load@2'), reading('Load@2')];
    const { judge } = oracle(buggy, [...made('Load@7', 'Load@8'), reading('Load@7')], [1, 2, 3]);
    assert.deepEqual(judge(3), { kind: 'wrong-value', readIndex: 0 });
    const same = oracle(buggy, [...made('Load@7', 'Load@8'), reading('Load@8')], [1, 2, 3]);
    assert.equal(same.judge(3).kind, 'missing-update', 'the same object, made by partner steps');
  });

  it('judges a step whose partner was prepared by a statement the buggy run lacks', () => {
    // fixed: 1 loop end, 2 flush(word) [added by the fix], 3 return stats
    const buggy: StepSpec[] = [{ line: 10 }, { line: 12, reads: [['local', 'stats', 'S@1']] }];
    const fixed: StepSpec[] = [
      { line: 10 },
      { line: 11, reads: [['local', 'word', '"end"']] },
      { line: 12, reads: [['local', 'stats', 'S@5']] },
    ];
    const { judge } = oracle(buggy, fixed, [1, 3]);
    assert.equal(judge(2).kind, 'correct', 'right inputs, but what it found was not prepared');
    assert.equal(judge(1).kind, 'correct', 'and the step before did not do all it should');
  });

  it('judges a call by the arguments its callee received', () => {
    const call = (separator: string): StepSpec[] => [
      { line: 17, reads: [['local', 'words', 'List@1']] },
      {
        line: 5,
        method: 'join',
        parent: 1,
        reads: [['local', 'separator (argument)', separator, 1]],
      },
    ];
    const { judge } = oracle(call('"-"'), call('" "'), [1, 2]);
    assert.equal(judge(1).kind, 'correct', 'right inputs, wrong argument passed');
    assert.deepEqual(judge(2), { kind: 'wrong-value', readIndex: 0 });
  });

  it('blames a call’s own line, not a list known to be empty, for a wrong argument it passed', () => {
    // buggy: `scaled.add(new Ingredient(amount / factor))`  fixed: `... amount * factor ...`
    const call = (passed: string, listState: string): StepSpec[] => [
      {
        line: 73,
        reads: [
          ['local', 'amount', '1.5'],
          ['local', 'factor', '1.5'],
          ['library', 'contents of scaled', listState],
        ],
      },
      {
        line: 16,
        method: '<init>',
        parent: 1,
        reads: [['local', 'amount (argument)', passed, 1]],
      },
    ];
    const empty = oracle(call('1.0', '(as created)'), call('2.25', '(as created)'), [1, 2]);
    assert.equal(empty.judge(1).kind, 'correct', 'an empty list hides nothing: the line is wrong');
    const digest = '(after 2 change(s), inputs #5)';
    const filled = oracle(call('1.0', digest), call('2.25', digest), [1, 2]);
    assert.deepEqual(
      filled.judge(1),
      { kind: 'wrong-value', readIndex: 2 },
      'a list known by a digest of its inputs may hide what was computed into it',
    );
  });

  it('blames the step after a decision, not the decision, for statements the fix adds after it', () => {
    // fixed: `if (best == null) return false; best.free -= size; addGuests(best);`
    const buggy: StepSpec[] = [{ line: 62 }, { line: 65, control: 1 }, { line: 66, control: 1 }];
    const fixed: StepSpec[] = [
      { line: 62 },
      { line: 65, control: 1 },
      { line: 66, control: 1 },
      { line: 67, control: 1 },
    ];
    const { judge } = oracle(buggy, fixed, [1, 3, 4], [1], [65]);
    assert.equal(judge(1).kind, 'missing-update', 'it decided as the fixed run did');
    assert.equal(judge(2).kind, 'correct', 'the statement the fix put before it is missing');
    const branch = oracle(buggy, fixed, [1, 3, 4], [1]);
    assert.equal(
      branch.judge(1).kind,
      'correct',
      'line 65 is in both versions: a branch not taken',
    );
  });

  it('blames a loop condition that ended its call before a statement only the fixed run has', () => {
    // fixed: `for (Egg e : eggs) e.turns++; lastTurnHour = hour;` (the loop's last condition,
    // then the method's closing brace, which reads and writes nothing)
    const loop = (after: StepSpec[]): StepSpec[] => [
      { line: 60, method: 'turn', parent: 5 },
      { line: 61, method: 'turn', parent: 5, control: 1, writes: [['field', 'turns', '1']] },
      { line: 62, method: 'turn', parent: 5, control: 1 },
      ...after,
    ];
    const caller: StepSpec = { line: 10 };
    const buggy = [...loop([{ line: 64, method: 'turn', parent: 5 }]), caller];
    const fixed = [
      ...loop([
        { line: 63, method: 'turn', parent: 5, writes: [['field', 'lastTurnHour', '8']] },
        { line: 65, method: 'turn', parent: 5 },
      ]),
      caller,
    ];
    const { judge } = oracle(buggy, fixed, [1, 2, 3, 5, 6], [1, 3]);
    assert.equal(judge(3).kind, 'correct', 'nothing after it can take the blame');
    // With a statement after it that both versions run, that statement takes it instead.
    const followed = oracle(
      [...loop([{ line: 64, method: 'turn', parent: 5, writes: [['local', 'x', '1']] }]), caller],
      [
        ...loop([
          { line: 63, method: 'turn', parent: 5, writes: [['field', 'lastTurnHour', '8']] },
          { line: 65, method: 'turn', parent: 5, writes: [['local', 'x', '1']] },
        ]),
        caller,
      ],
      [1, 2, 3, 5, 6],
      [1, 3],
    );
    assert.equal(followed.judge(3).kind, 'missing-update');
  });

  it('blames a step after which execution went on elsewhere than after its partner', () => {
    // buggy: `if (tooHeavy) break;`  fixed: `if (tooHeavy) continue;`
    const buggy: StepSpec[] = [
      { line: 52 },
      { line: 53, control: 1 },
      { line: 48 },
      { line: 50, control: 3 },
    ];
    const fixed: StepSpec[] = [{ line: 52 }, { line: 53, control: 1 }, { line: 50 }, { line: 48 }];
    const { judge } = oracle(buggy, fixed, [1, 2, 4, 3], [1]);
    assert.equal(
      judge(2).kind,
      'correct',
      'break led to the next van, continue to the next parcel',
    );
    const same = oracle(
      buggy,
      [...fixed.slice(0, 2), { line: 48 }, { line: 50 }],
      [1, 2, 3, 4],
      [1],
    );
    assert.equal(same.judge(2).kind, 'missing-update');
  });

  it('does not blame a loop body step for a loop condition the buggy run did not ask again', () => {
    // while (rest >= 10) { rest -= 10; }  -- buggy: `if`, so the condition runs once
    const buggy: StepSpec[] = [
      { line: 19, reads: [['local', 'rest', '20']] },
      { line: 21, control: 1, reads: [['local', 'rest', '20']], writes: [['local', 'rest', '10']] },
      { line: 23 },
    ];
    const fixed: StepSpec[] = [...buggy.slice(0, 2), { line: 19, control: 1 }, { line: 23 }];
    const { judge } = oracle(buggy, fixed, [1, 2, 4]);
    assert.equal(judge(2).kind, 'missing-update', 'the step did its own work');
  });

  it('judges a step that assigned another variable than its partner as its own fault', () => {
    const buggy: StepSpec[] = [
      { line: 13, reads: [['field', 'reserved', '3']], writes: [['field', 'reserved', '13']] },
    ];
    const fixed: StepSpec[] = [
      { line: 13, reads: [['field', 'available', '2']], writes: [['field', 'available', '12']] },
    ];
    assert.equal(oracle(buggy, fixed, [1]).judge(1).kind, 'correct');
    assert.equal(oracle(fixed, fixed, [1]).judge(1).kind, 'missing-update');
  });
  it('judges a step that read another variable in place of its partner’s as its own fault', () => {
    const step = (index: [string, string], arrival: string, contents: string): StepSpec => ({
      line: 93,
      reads: [
        ['local', 'stops', 'java.util.ArrayList@4'],
        ['local', ...index],
        ['library', 'contents of stops', contents],
      ],
      writes: [['local', 'arrival', arrival]],
    });
    const fixed = [step(['m', '2'], '455', '(after 3 change(s), inputs #1)')];
    const buggy = [step(['k', '0'], '430', '(after 3 change(s), inputs #1)')];
    assert.equal(oracle(buggy, fixed, [1]).judge(1).kind, 'correct', '`get(k)` for `get(m)`');
    // A condition cut short reads fewer variables: the hidden state it read decided that.
    const shorter: StepSpec[] = [
      {
        line: 93,
        reads: [
          ['local', 'stops', 'java.util.ArrayList@4'],
          ['library', 'contents of stops', '(after 2 change(s), inputs #2)'],
        ],
        writes: [['local', 'arrival', '430']],
      },
    ];
    assert.deepEqual(oracle(shorter, fixed, [1]).judge(1), { kind: 'wrong-value', readIndex: 1 });
  });

  it('judges a step that stored into another array element than its partner as its own fault', () => {
    // buggy: `parent[a] = rb;`  fixed: `parent[ra] = rb;` (a = 1, ra = 0)
    const parent = 'int[]@7';
    const buggy: StepSpec[] = [
      {
        line: 43,
        reads: [
          ['field', 'parent', parent],
          ['local', 'a', '1'],
          ['local', 'rb', '2'],
        ],
        writes: [['array', '[1]', '2']],
      },
    ];
    const fixed: StepSpec[] = [
      {
        line: 43,
        reads: [
          ['field', 'parent', parent],
          ['local', 'ra', '0'],
          ['local', 'rb', '2'],
        ],
        writes: [['array', '[0]', '2']],
      },
    ];
    assert.equal(oracle(buggy, fixed, [1]).judge(1).kind, 'correct');
    assert.equal(oracle(fixed, fixed, [1]).judge(1).kind, 'missing-update');
  });

  it('judges a step that left a library object unchanged where its partner changed it', () => {
    // buggy: `return queue.peekFirst();`  fixed: `return queue.pollFirst();`
    const read: Access = ['library', 'contents of queue', '(after 2 change(s), inputs #1)', 1];
    const before: StepSpec = {
      line: 33,
      writes: [['library', 'contents of queue', '(after 2 change(s), inputs #1)']],
    };
    const buggy: StepSpec[] = [before, { line: 40, reads: [read] }, { line: 41, reads: [read] }];
    const fixed: StepSpec[] = [
      before,
      {
        line: 40,
        reads: [read],
        writes: [['library', 'contents of queue', '(after 3 change(s), inputs #2)']],
      },
      { line: 41, reads: [['library', 'contents of queue', '(after 3 change(s), inputs #2)', 2]] },
    ];
    const { judge } = oracle(buggy, fixed, [1, 2, 3]);
    assert.equal(judge(2).kind, 'correct', 'right state in, but it did not take the element out');
    assert.equal(judge(1).kind, 'missing-update', 'the state it made was right');
  });

  it('takes answers of two calls on one line in another order as the line’s own doing', () => {
    // buggy: compare(a.diff(), b.diff())   fixed: compare(b.diff(), a.diff())
    const answers = (first: string, second: string): StepSpec[] => [
      {
        line: 50,
        reads: [
          ['return', 'diff() returned', first],
          ['return', 'diff() returned', second],
        ],
        writes: [['local', 'result', first < second ? '-1' : '1']],
      },
    ];
    const { judge } = oracle(answers('-3', '3'), answers('3', '-3'), [1]);
    assert.equal(judge(1).kind, 'correct', 'the same answers: the line used them wrongly');
    const other = oracle(answers('-3', '3'), answers('3', '4'), [1]);
    assert.equal(other.judge(1).kind, 'wrong-value', 'an answer no call gave in the fixed run');
  });
  it('pairs a statement the fix moved with its run in the fixed trace, under the same decision', () => {
    // buggy: if (bid > high) { high = bid; second = high; }  fixed: { second = high; high = bid; }
    const buggy: StepSpec[] = [
      { line: 27, reads: [['local', 'bid', '9']] },
      { line: 28, control: 1, reads: [['local', 'bid', '9']], writes: [['field', 'high', '9']] },
      {
        line: 29,
        control: 1,
        reads: [['field', 'high', '9', 2]],
        writes: [['field', 'second', '9']],
      },
    ];
    const fixed: StepSpec[] = [
      { line: 27, reads: [['local', 'bid', '9']] },
      { line: 28, control: 1, reads: [['field', 'high', '5']], writes: [['field', 'second', '5']] },
      { line: 29, control: 1, reads: [['local', 'bid', '9']], writes: [['field', 'high', '9']] },
    ];
    const buggyView = view(buggy, 0);
    const fixedView = view(fixed, 1000);
    // The alignment keeps one of the two swapped statements: buggy 29 with fixed 28.
    const matches = new Map([
      [0, 0],
      [2, 1],
    ]);
    const moved = (line: number) => (line === 28 ? 29 : line === 29 ? 28 : line);
    const withMoves = new FixedRunOracle(
      buggyView,
      fixedView,
      matches,
      new Set(),
      (step) => `demo.Main.main:${moved(step.line)}`,
    );
    const step = buggyView.step({ threadId: 1, order: 2 })!;
    assert.equal(withMoves.judge(step, { seq: -1 }).kind, 'missing-update', 'it ran in both');
    const plain = new FixedRunOracle(buggyView, fixedView, matches, new Set());
    assert.equal(plain.judge(step, { seq: -1 }).kind, 'wrong-path', 'no partner without the moves');
  });
  it('pairs a moved top-level statement of a method with its run under the same call', () => {
    // buggy: moveTo() { floor = t; travelled += t - floor; }  fixed: the two lines swapped
    const buggy: StepSpec[] = [
      { line: 34, reads: [['local', 't', '5']] },
      { line: 17, method: 'moveTo', parent: 1, writes: [['field', 'floor', '5']] },
      { line: 18, method: 'moveTo', parent: 1, reads: [['field', 'floor', '5', 2]] },
    ];
    const fixed: StepSpec[] = [
      { line: 34, reads: [['local', 't', '5']] },
      { line: 17, method: 'moveTo', parent: 1, reads: [['field', 'floor', '2']] },
      { line: 18, method: 'moveTo', parent: 1, writes: [['field', 'floor', '5']] },
    ];
    const matches = new Map([
      [0, 0],
      [2, 1],
    ]);
    const moved = (line: number) => (line === 17 ? 18 : line === 18 ? 17 : line);
    const oracle = new FixedRunOracle(
      view(buggy, 0),
      view(fixed, 1000),
      matches,
      new Set(),
      (s) => `demo.Main.${s.method}:${moved(s.line)}`,
    );
    const step = view(buggy, 0).step({ threadId: 1, order: 2 })!;
    assert.notEqual(oracle.judge(step, { seq: -1 }).kind, 'wrong-path');
  });

  it('pairs each part of a moved statement split by a call with the same part of the fixed run’s', () => {
    // buggy: case AT_STOP -> { int on = board(q); int off = alight(); }  fixed: the two swapped
    const call = (line: number, control: number): StepSpec => ({ line, control });
    const board = (parent: number, count: string): StepSpec => ({
      line: 50,
      method: 'board',
      parent,
      writes: [['local', 'count', count]],
    });
    const resumed = (line: number, control: number, count: string): StepSpec => ({
      line,
      control,
      reads: [['return', 'board() returned', count]],
      writes: [['local', 'on', count]],
    });
    const buggy: StepSpec[] = [
      { line: 27 },
      call(28, 1),
      board(2, '3'),
      resumed(28, 1, '3'),
      { line: 29, control: 1, writes: [['local', 'off', '1']] },
    ];
    const fixed: StepSpec[] = [
      { line: 27 },
      { line: 28, control: 1, writes: [['local', 'off', '1']] },
      call(29, 1),
      board(3, '4'),
      resumed(29, 1, '4'),
    ];
    // The alignment keeps the call of alight: buggy 5 with fixed 2.
    const matches = new Map([
      [0, 0],
      [4, 1],
    ]);
    const moved = (line: number) => (line === 28 ? 29 : line === 29 ? 28 : line);
    const buggyView = view(buggy, 0);
    const withMoves = new FixedRunOracle(buggyView, view(fixed, 1000), matches, new Set(), (s) =>
      s.method === 'main' ? `demo.Main.main:${moved(s.line)}` : `demo.Main.${s.method}:${s.line}`,
    );
    const judge = (order: number) =>
      withMoves.judge(buggyView.step({ threadId: 1, order })!, { seq: -1 });
    assert.deepEqual(judge(4), { kind: 'wrong-value', readIndex: 0 }, 'board() returned 3, not 4');
    assert.equal(judge(3).kind, 'correct', 'the callee, paired under the moved call, counted 3');
  });

  it('trusts a library state that another line used rightly, and blames the line that did not', () => {
    // members.put(...) x4; `Member r = members.get(referrer)` finds the member in both runs;
    // `Member m = members.get(intKey)` finds none where the fixed run's `get((long) key)` does.
    const state = '(after 4 change(s), inputs #1)';
    const steps = (found: string, withOtherUse: boolean): StepSpec[] => [
      { line: 68, writes: [['library', 'contents of members', state]] },
      ...(withOtherUse
        ? [
            {
              line: 87,
              reads: [['library', 'contents of members', state, 1]] as Access[],
              writes: [['local', 'r', 'demo.Member@7']] as Access[],
            },
          ]
        : []),
      {
        line: 72,
        reads: [['library', 'contents of members', state, 1]],
        writes: [['local', 'm', found]],
      },
    ];
    const { judge } = oracle(steps('null', true), steps('demo.Member@7', true), [1, 2, 3]);
    assert.equal(judge(3).kind, 'correct', 'the state is right: the lookup is at fault');
    const alone = oracle(steps('null', false), steps('demo.Member@7', false), [1, 2]);
    assert.deepEqual(
      alone.judge(2),
      { kind: 'wrong-value', readIndex: 0 },
      'with no other use, the hidden state is what is suspected',
    );
  });
});
