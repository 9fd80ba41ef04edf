// The feedback recommender on hand-built traces: one rule per feedback kind, the loop skip and
// its binary-search recovery, undo, and the library-flow links that Microbat lacks.

import { strict as assert } from 'node:assert';
import type { JvmStep, JvmVarAccess } from '../../../src/extension/jvm/decoder';
import {
  FeedbackRecommender,
  type FeedbackKind,
} from '../../../src/extension/jvm/debugging/recommender';
import { LibraryFlowTracker } from '../../../src/extension/jvm/debugging/libraryFlows';
import {
  comparableValue,
  MemoryTraceView,
  type MethodCode,
  type TraceAccess,
  type TraceStep,
} from '../../../src/extension/jvm/debugging/traceView';

interface StepSpec {
  line: number;
  method?: string;
  reads?: [name: string, value: string, writerOrder?: number][];
  writes?: [name: string, value: string][];
  control?: number;
  parent?: number;
}

/** One thread; step i (1-based) is specs[i - 1]. */
function trace(specs: StepSpec[]): MemoryTraceView {
  const steps: TraceStep[] = specs.map((spec, i) => ({
    threadId: 1,
    order: i + 1,
    seq: i,
    className: 'demo.Main',
    method: spec.method ?? 'main',
    line: spec.line,
    reads: (spec.reads ?? []).map(([name, value, writer]) => ({
      kind: 'local',
      name,
      value,
      ...(writer === undefined ? {} : { writer: { threadId: 1, order: writer } }),
    })),
    writes: (spec.writes ?? []).map(([name, value]) => ({ kind: 'local', name, value })),
    ...(spec.control === undefined
      ? {}
      : { controlDominator: { threadId: 1, order: spec.control } }),
    ...(spec.parent === undefined ? {} : { invocationParent: { threadId: 1, order: spec.parent } }),
  }));
  return new MemoryTraceView(steps);
}

const at = (order: number) => ({ threadId: 1, order });

/*
 *  1  int a = 2;            line 3
 *  2  int b = 3;            line 4
 *  3  int c = a - b;        line 5   <- bug: should be a + b
 *  4  if (c < 0)            line 6
 *  5    c = 0;              line 7   (controlled by 4)
 *  6  print(c)              line 8
 */
const straightLine = () =>
  trace([
    { line: 3, writes: [['a', '2']] },
    { line: 4, writes: [['b', '3']] },
    {
      line: 5,
      reads: [
        ['a', '2', 1],
        ['b', '3', 2],
      ],
      writes: [['c', '-1']],
    },
    { line: 6, reads: [['c', '-1', 3]] },
    { line: 7, control: 4, writes: [['c', '0']] },
    { line: 8, reads: [['c', '0', 5]] },
  ]);

describe('feedback recommender: rules', () => {
  it('starts at the failure and follows a wrong value to its writer', () => {
    const recommender = new FeedbackRecommender(straightLine(), at(6));
    assert.deepEqual(recommender.current().step, at(6));
    const next = recommender.feedback(at(6), 'wrong-value', 0);
    assert.deepEqual(next.step, at(5));
    assert.match(next.reason, /c \(0\) read at Main\.main line 8 was last written here/);
    assert.equal(next.rootCause, false);
  });

  it('follows a wrong path to the control dominator, and ends where the inputs are right', () => {
    const recommender = new FeedbackRecommender(straightLine(), at(6));
    recommender.feedback(at(6), 'wrong-value', 0);
    const branch = recommender.feedback(at(5), 'wrong-path');
    assert.deepEqual(branch.step, at(4));
    assert.match(branch.reason, /should not have run/);
    const writer = recommender.feedback(at(4), 'wrong-value', 0);
    assert.deepEqual(writer.step, at(3));
    const end = recommender.feedback(at(3), 'correct');
    assert.equal(end.rootCause, true);
    assert.deepEqual(end.step, at(3));
    assert.match(end.reason, /wrote a wrong c/);
    assert.equal(recommender.history().length, 4);
  });

  it('takes the failure step itself as root cause when everything it reads is right', () => {
    const recommender = new FeedbackRecommender(straightLine(), at(6));
    const end = recommender.feedback(at(6), 'correct');
    assert.equal(end.rootCause, true);
    assert.deepEqual(end.step, at(6));
  });

  it('goes to the caller when a wrong-path step has no branch above it in its method', () => {
    const view = trace([
      { line: 3, writes: [['x', '1']] },
      { line: 4, reads: [['x', '1', 1]] }, // helper(x)
      { line: 20, method: 'helper', parent: 2, writes: [['y', '5']] },
    ]);
    const recommender = new FeedbackRecommender(view, at(3));
    const next = recommender.feedback(at(3), 'wrong-path');
    assert.deepEqual(next.step, at(2));
    assert.match(next.reason, /runs whenever helper is called/);
  });

  it('walks back through a rightly called method to the step after which a guard is missing', () => {
    const view = trace([
      { line: 3, writes: [['t', '1']] },
      { line: 4, reads: [['t', '1', 1]] }, // r = rate(t)
      { line: 20, method: 'rate', parent: 2, reads: [['t', '1']] }, // if (weekend)
      { line: 21, method: 'rate', parent: 2, control: 3, writes: [['r', '9']] },
      { line: 23, method: 'rate', parent: 2, reads: [['t', '1']] }, // if (peak): `else` missing
      { line: 23, method: 'rate', parent: 2, reads: [['t', '1']] }, // the same line, resumed
      { line: 26, method: 'rate', parent: 2, control: 6, writes: [['r', '11']] },
    ]);
    const recommender = new FeedbackRecommender(view, at(7));
    assert.deepEqual(recommender.feedback(at(7), 'wrong-path').step, at(6));
    const call = recommender.feedback(at(6), 'wrong-path');
    assert.deepEqual(call.step, at(2), 'first the call is asked');
    const back = recommender.feedback(at(2), 'missing-update');
    assert.deepEqual(back.step, at(4), 'then the step before the line, past its earlier part');
    assert.match(back.reason, /rightly called rate/);
    const end = recommender.feedback(at(4), 'correct');
    assert.equal(end.rootCause, true);
    assert.deepEqual(end.step, at(6));
    assert.match(end.reason, /guard around it/);
  });

  it('asks about a rightly called method once while walking back through wrong-path steps', () => {
    const view = trace([
      { line: 4 }, // handle()
      { line: 20, method: 'handle', parent: 1, writes: [['n', '2']] },
      { line: 21, method: 'handle', parent: 1, reads: [['n', '2', 2]] },
      { line: 22, method: 'handle', parent: 1, reads: [['n', '2', 2]] },
    ]);
    const recommender = new FeedbackRecommender(view, at(4));
    assert.deepEqual(recommender.feedback(at(4), 'wrong-path').step, at(1));
    assert.deepEqual(recommender.feedback(at(1), 'missing-update').step, at(3));
    const next = recommender.feedback(at(3), 'wrong-path');
    assert.deepEqual(next.step, at(2), 'the call is not asked again');
    const end = recommender.feedback(at(2), 'missing-update');
    assert.deepEqual([end.rootCause, end.step], [true, at(3)]);
  });

  it('answers "unclear" with the enclosing call, and searches inside once that is correct', () => {
    const view = trace([
      { line: 3, writes: [['n', '4']] },
      { line: 4, reads: [['n', '4', 1]] }, // r = twice(n)
      { line: 20, method: 'twice', parent: 2, reads: [['n', '4']], writes: [['t', '8']] },
      { line: 21, method: 'twice', parent: 2, reads: [['t', '8', 3]], writes: [['u', '9']] },
      { line: 22, method: 'twice', parent: 2, reads: [['u', '9', 4]] },
    ]);
    const recommender = new FeedbackRecommender(view, at(5));
    const parent = recommender.feedback(at(5), 'unclear');
    assert.deepEqual(parent.step, at(2));
    assert.match(parent.reason, /judge the call of twice/);
    const inside = recommender.feedback(at(2), 'correct');
    assert.equal(inside.rootCause, false);
    assert.ok([3, 4].includes(inside.step.order), `suggested ${inside.step.order}`);
    assert.match(inside.reason, /halves them/);
  });

  it('feedback on a step the person chose keeps the search between it and the last wrong step', () => {
    const recommender = new FeedbackRecommender(straightLine(), at(6));
    recommender.feedback(at(6), 'wrong-value', 0);
    // The person jumps to step 1 and says it is fine: 2..5 remain, minus what 1 explains.
    const next = recommender.feedback(at(1), 'correct');
    assert.equal(next.rootCause, false);
    assert.ok([2, 3, 4, 5].includes(next.step.order));
  });

  it('rejects a wrong-value judgement that names no read', () => {
    const recommender = new FeedbackRecommender(straightLine(), at(6));
    assert.throws(
      () => recommender.feedback(at(6), 'wrong-value', 3),
      /needs one of the step's 1 reads/,
    );
  });
});

/*
 *  1            sum = 0                       line 3
 *  2..11        sum += a[i]   (10 iterations) line 5, each reads sum written by the previous
 *  12           print(sum)                    line 7
 *  The fault: iteration 4 (step 5) adds the wrong amount; iterations 5.. carry it on.
 */
function loopTrace(): MemoryTraceView {
  const specs: StepSpec[] = [{ line: 3, writes: [['sum', '0']] }];
  for (let i = 0; i < 10; i++) {
    const order = i + 2;
    const correct = i < 4; // reads sum correct for iterations 1..4 (steps 2..5)
    specs.push({
      line: 5,
      reads: [
        ['sum', correct ? `${i}` : `wrong${i}`, order - 1],
        ['i', `${i}`],
      ],
      writes: [['sum', `${i + 1}`]],
    });
  }
  specs.push({ line: 7, reads: [['sum', 'wrong10', 11]] });
  return trace(specs);
}

/**
 * Runs the search with `judge` answering (a wrong value is always the step's first read) until
 * it ends or `limit` feedbacks were given; `visited` lists the steps asked, in order.
 */
function searchWith(
  view: MemoryTraceView,
  failure: { threadId: number; order: number },
  judge: (order: number) => FeedbackKind,
  limit: number,
) {
  const recommender = new FeedbackRecommender(view, failure);
  const visited: number[] = [];
  let suggestion = recommender.current();
  for (let i = 0; i < limit && !suggestion.rootCause; i++) {
    visited.push(suggestion.step.order);
    const kind = judge(suggestion.step.order);
    suggestion = recommender.feedback(
      suggestion.step,
      kind,
      kind === 'wrong-value' ? 0 : undefined,
    );
  }
  return { recommender, visited, suggestion };
}

/** Answers like a person who knows step 5 is the root cause. */
function judgeLoopStep(order: number): 'correct' | 'wrong-value' {
  return order <= 5 ? 'correct' : 'wrong-value';
}

/**
 * A run-length loop with its reset missing: `count = 1` (line 3), then per character the loop
 * condition (line 4) and `if (c == current)` (line 5), which runs `count++` (line 6) for the
 * same character or `current = c` (line 8) for another; optionally `print(count)` at the end.
 * Steps are numbered in that order from 1.
 */
function countingLoop(chars: ('same' | 'other')[], options: { printAt?: number } = {}) {
  const specs: StepSpec[] = [{ line: 3, writes: [['count', '1']] }];
  let loop: number | undefined;
  let count = 1;
  let countWriter = 1;
  for (const char of chars) {
    specs.push({ line: 4, ...(loop === undefined ? {} : { control: loop }) });
    loop = specs.length;
    specs.push({ line: 5, control: loop });
    const decision = specs.length;
    if (char === 'same') {
      specs.push({
        line: 6,
        control: decision,
        reads: [['count', `${count}`, countWriter]],
        writes: [['count', `${count + 1}`]],
      });
      count++;
      countWriter = specs.length;
    } else {
      specs.push({ line: 8, control: decision, writes: [['current', 'b']] });
    }
  }
  if (options.printAt !== undefined) {
    specs.push({ line: options.printAt, reads: [['count', `${count}`, countWriter]] });
  }
  return trace(specs);
}

/**
 * Says "right, but not updated later" at `writer`, then answers each candidate the same way
 * until the search reaches `faultOrder`, which gets "correct"; returns every suggestion.
 */
function answerCandidates(
  recommender: FeedbackRecommender,
  writer: { threadId: number; order: number },
  faultOrder: number,
) {
  const visited = [recommender.feedback(writer, 'missing-update')];
  while (!visited.at(-1)!.rootCause && visited.length < 10) {
    const step = visited.at(-1)!.step;
    visited.push(
      recommender.feedback(step, step.order === faultOrder ? 'correct' : 'missing-update'),
    );
  }
  return visited;
}

describe('feedback recommender: missing updates', () => {
  /*
   *  1  List<String> faults = new ArrayList<>();   line 10
   *  2  for (int pick = 1; pick < n; pick++)       line 11
   *  3    if (streak == 3)                         line 12   (controlled by 2)
   *           faults.add(side + "@" + pick);       line 13   never runs
   *  4  for (...)                                  line 11
   *  5    if (streak == 3)                         line 12   (controlled by 4)
   *  6  for (...)                                  line 11   (the loop ends)
   *  7  return faults;                             line 14   <- the list should not be empty
   */
  const neverAdded = (withCode: boolean) => {
    const contents = (writer?: number): TraceAccess => ({
      kind: 'library',
      name: 'contents of faults',
      owner: 'java.util.ArrayList@5',
      value: '(as created)',
      ...(writer === undefined ? {} : { writer: at(writer) }),
    });
    const steps = trace([
      { line: 10, writes: [['faults', 'java.util.ArrayList@5']] },
      { line: 11 },
      { line: 12, control: 2, reads: [['streak', '1']] },
      { line: 11, control: 2 },
      { line: 12, control: 4, reads: [['streak', '2']] },
      { line: 11, control: 4 },
      { line: 14, reads: [['faults', 'java.util.ArrayList@5', 1]] },
    ]).steps;
    steps[0].writes.push(contents());
    steps[6].reads.push(contents(1));
    const source = new Map([
      [10, 'List<String> faults = new ArrayList<>();'],
      [11, 'for (int pick = 1; pick < n; pick++) {'],
      [12, '    if (streak == 3) {'],
      [13, '        faults.add(side + "@" + pick); // a fault'],
      [14, 'return faults;'],
    ]);
    const code: MethodCode = {
      lines: () => [...source.keys()],
      guardsOfLine: (_c, _m, line) => (line === 13 ? [12] : line === 12 ? [11] : []),
      sourceLine: (_c, line) => source.get(line),
      methods: () => [{ className: 'demo.Main', method: 'main' }],
    };
    return new MemoryTraceView(steps, withCode ? code : undefined);
  };

  it('asks the runs of the decision that kept an update in the code from ever running, latest first', () => {
    const recommender = new FeedbackRecommender(neverAdded(true), at(7));
    assert.deepEqual(recommender.feedback(at(7), 'wrong-value', 1).step, at(1));
    const first = recommender.feedback(at(1), 'missing-update');
    assert.deepEqual(first.step, at(5));
    assert.match(first.reason, /may have been meant to update it/);
    assert.deepEqual(recommender.feedback(at(5), 'missing-update').step, at(3));
    const end = recommender.feedback(at(3), 'correct');
    assert.deepEqual([end.rootCause, end.step], [true, at(3)]);
  });

  it('asks where other fields of the class were assigned when no object had the field assigned', () => {
    /*
     *  1  new Pitch()  -> Pitch@1.freeFrom = 0     <init> line 30
     *  2  new Pitch()  -> Pitch@2.freeFrom = 0     <init> line 30
     *  3  a.nightsSold += 2   (book)               line 72   <- p.freeFrom = ... missing here
     *  4  b.nightsSold += 3   (book)               line 72
     *  5  findPitch(r)                             line 50
     *  6    for (Pitch p : pitches)                line 53
     *  7    if (p.freeFrom <= day)  reads Pitch@2.freeFrom (stale)   line 55
     */
    const view = trace([
      { line: 30, method: '<init>' },
      { line: 30, method: '<init>' },
      { line: 72, method: 'book' },
      { line: 72, method: 'book' },
      { line: 50 },
      { line: 53, method: 'findPitch', parent: 5 },
      { line: 55, method: 'findPitch', parent: 5, control: 6 },
    ]);
    const field = (owner: string, name: string, value: string, writer?: number): TraceAccess => ({
      kind: 'field',
      name,
      owner,
      value,
      ...(writer === undefined ? {} : { writer: at(writer) }),
    });
    view.step(at(1))!.writes.push(field('demo.Pitch@1', 'freeFrom', '0'));
    view.step(at(2))!.writes.push(field('demo.Pitch@2', 'freeFrom', '0'));
    view.step(at(3))!.writes.push(field('demo.Pitch@1', 'nightsSold', '2'));
    view.step(at(4))!.writes.push(field('demo.Pitch@1', 'nightsSold', '5'));
    view.step(at(7))!.reads.push(field('demo.Pitch@2', 'freeFrom', '0', 2));
    const recommender = new FeedbackRecommender(view, at(7));
    assert.deepEqual(recommender.feedback(at(7), 'wrong-value', 0).step, at(2));
    const first = recommender.feedback(at(2), 'missing-update');
    assert.deepEqual(first.step, at(3), 'the first step that assigned another field of a Pitch');
    assert.deepEqual(recommender.feedback(at(3), 'missing-update').step, at(4));
  });

  it('asks the runs of the decision that kept the call of a method updating the field away', () => {
    /*
     *  1  new Member()  -> Member@1.tier = BRONZE    <init> line 36
     *  2  Member m = find(no);                       post line 76
     *  3  if (m == null) {                           post line 77
     *  4      guest += euros; return;                post line 78  (controlled by 3)
     *  5  Member m = find(no);                       post line 76
     *  6  if (m == null) {                           post line 77
     *  7      guest += euros; return;                post line 78  (controlled by 6)
     *     m.earn(euros);                             post line 82  never runs
     *     tier = Tier.forPoints(points);             earn line 90
     *  8  print(member.tier)                         main line 111 <- stale
     */
    const view = trace([
      { line: 36, method: '<init>' },
      { line: 76, method: 'post' },
      { line: 77, method: 'post' },
      { line: 78, method: 'post', control: 3 },
      { line: 76, method: 'post' },
      { line: 77, method: 'post' },
      { line: 78, method: 'post', control: 6 },
      { line: 111 },
    ]);
    const tier = (writer?: number): TraceAccess => ({
      kind: 'field',
      name: 'tier',
      owner: 'demo.Member@1',
      value: 'demo.Tier@2',
      ...(writer === undefined ? {} : { writer: at(writer) }),
    });
    view.step(at(1))!.writes.push(tier());
    view.step(at(8))!.reads.push(tier(1));
    const source = new Map([
      [36, 'Tier tier = Tier.BRONZE;'],
      [76, 'Member m = find(p.memberNo());'],
      [77, 'if (m == null) {'],
      [78, 'guestEuros += p.euros();'],
      [82, 'm.earn(p.euros() * m.tier.pointsPerEuro);'],
      [90, 'tier = Tier.forPoints(points); // upgrade'],
      [111, 'System.out.println(m.tier);'],
    ]);
    const lines: Record<string, number[]> = {
      '<init>': [36],
      post: [76, 77, 78, 82],
      earn: [90],
      main: [111],
    };
    const code: MethodCode = {
      lines: (_c, method) => lines[method] ?? [],
      guardsOfLine: (_c, method, line) =>
        method === 'post' && line !== 76 && line !== 77 ? [77] : [],
      sourceLine: (_c, line) => source.get(line),
      methods: () => Object.keys(lines).map((method) => ({ className: 'demo.Main', method })),
    };
    const recommender = new FeedbackRecommender(new MemoryTraceView(view.steps, code), at(8));
    assert.deepEqual(recommender.feedback(at(8), 'wrong-value', 0).step, at(1));
    const first = recommender.feedback(at(1), 'missing-update');
    assert.deepEqual(first.step, at(6), 'the latest run of the if that returned before m.earn');
    assert.notDeepEqual(
      recommender.feedback(at(6), 'missing-update').step,
      at(3),
      'one run per decision: the earlier ones kept the call away alike',
    );
  });

  it('without the code behind the trace, walks the code that ran in between from the start', () => {
    const recommender = new FeedbackRecommender(neverAdded(false), at(7));
    recommender.feedback(at(7), 'wrong-value', 1);
    assert.deepEqual(recommender.feedback(at(1), 'missing-update').step, at(2));
  });

  /*
   *  1  int[] counts = new int[2];   line 3   (writes counts[0] = 0)
   *  2  int b = bucket(v);           line 4   <- bug: 1, should be 0
   *  3  counts[b]++;                 line 5   (writes counts[1])
   *  4  print(counts[0]);            line 6
   */
  it('tries the writes of other elements of the same array', () => {
    const view = trace([
      { line: 3, writes: [['counts', 'int[]@9']] },
      { line: 4, writes: [['b', '1']] },
      { line: 5, reads: [['b', '1', 2]] },
      { line: 6 },
    ]);
    const element = (name: string, value: string, writer?: number): TraceAccess => ({
      kind: 'array',
      name,
      owner: 'int[]@9',
      value,
      ...(writer === undefined ? {} : { writer: at(writer) }),
    });
    view.step(at(3))!.writes.push(element('[1]', '1'));
    view.step(at(4))!.reads.push(element('[0]', '0', 1));
    const recommender = new FeedbackRecommender(view, at(4));
    assert.deepEqual(recommender.feedback(at(4), 'wrong-value', 0).step, at(1));
    const candidate = recommender.feedback(at(1), 'missing-update');
    assert.deepEqual(candidate.step, at(3));
    assert.equal(candidate.rootCause, false);
    assert.deepEqual(recommender.feedback(at(3), 'wrong-value', 0).step, at(2));
    const end = recommender.feedback(at(2), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(2), true]);
  });

  /*
   *  1  int count = 0;               line 3
   *  2  if (isVowel(c))  c = 'a'     line 4   <- bug: false, should be true
   *  3  if (isVowel(c))  c = 'e'     line 4
   *  4    count++;                   line 5   (controlled by 3)
   *  5  print(count);                line 6
   */
  const vowels = () =>
    trace([
      { line: 3, writes: [['count', '0']] },
      { line: 4, reads: [['c', 'a']] },
      { line: 4, reads: [['c', 'e']] },
      { line: 5, control: 3, reads: [['count', '0', 1]], writes: [['count', '1']] },
      { line: 6, reads: [['count', '1', 4]] },
    ]);

  it('asks the decisions that guard the variable’s updates, one after the other', () => {
    const recommender = new FeedbackRecommender(vowels(), at(5));
    assert.deepEqual(recommender.feedback(at(5), 'wrong-value', 0).step, at(4));
    assert.deepEqual(recommender.feedback(at(4), 'wrong-value', 0).step, at(1));
    const first = recommender.feedback(at(1), 'missing-update');
    assert.deepEqual(first.step, at(2));
    // Step 3 is not offered: it did lead to an update (step 4, the stale read itself).
    assert.match(first.reason, /candidate 1 of 1/);
    // "missing-update" on a candidate: it did all it should; "correct": right inputs, wrong effect.
    const end = recommender.feedback(at(2), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(2), true]);
    recommender.undo();
    const fallback = recommender.feedback(at(2), 'missing-update');
    // Nothing in between was meant to update count: the update is missing before the read.
    assert.deepEqual([fallback.step, fallback.rootCause], [at(4), true]);
    assert.match(fallback.reason, /right when written at .* line 3/);
  });

  /*
   *  1  int best = 0;                line 3
   *  2  int top = v[0];              line 4
   *  3  if (v[1] > top)              line 5
   *  4    top = v[1];                line 6   (controlled by 3)  <- `best = 1;` missing after it
   *  5  print(best);                 line 8
   */
  const missingStatement = () =>
    trace([
      { line: 3, writes: [['best', '0']] },
      { line: 4, writes: [['top', '5']] },
      { line: 5, reads: [['top', '5', 2]] },
      { line: 6, control: 3, writes: [['top', '9']] },
      { line: 8, reads: [['best', '0', 1]] },
    ]);

  it('walks the lines run between a right write and a stale read, in order', () => {
    const recommender = new FeedbackRecommender(missingStatement(), at(5));
    assert.deepEqual(recommender.feedback(at(5), 'wrong-value', 0).step, at(1));
    const visited = answerCandidates(recommender, at(1), 4);
    assert.deepEqual(
      visited.map((s) => s.step.order),
      [2, 3, 4, 4],
    );
    assert.match(visited[0].reason, /candidate 1 of 3/);
    assert.equal(visited.at(-1)!.rootCause, true);
  });

  /*
   *  1  int count = 1;                  line 3
   *  2  for (...)                       line 4
   *  3    if (c == current)             line 5   (controlled by 2) true
   *  4      count++;                    line 6   (controlled by 3)
   *  5  for (...)                       line 4
   *  6    if (c == current)             line 5   false: went to else
   *  7      current = c;                line 8   (controlled by 6)  <- `count = 1;` missing
   *  8  for (...)                       line 4
   *  9    if (c == current)             line 5   true
   * 10      count++;                    line 6   reads a stale count
   */
  const missingReset = () => countingLoop(['same', 'other', 'same']);

  it('offers a decision that skipped the update, then the branch it took', () => {
    const recommender = new FeedbackRecommender(missingReset(), at(10));
    assert.deepEqual(recommender.feedback(at(10), 'wrong-value', 0).step, at(4));
    const first = recommender.feedback(at(4), 'missing-update');
    // Step 9 led to the update (step 10); step 6 did not, and step 7 is the branch it took.
    assert.deepEqual(first.step, at(6));
    assert.deepEqual(recommender.feedback(at(6), 'missing-update').step, at(7));
    const end = recommender.feedback(at(7), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(7), true]);
  });

  /*
   *  1  best = 0                     line 4
   *  2  for (i = 1; i < n - 1; ...)  line 6   <- bug: stops one iteration early
   *  3    gap = v[i] - v[i - 1]      line 7
   *  4    if (gap > best)            line 8
   *  5      best = gap               line 9
   *  6  for                          line 6
   *  7    gap = ...                  line 7
   *  8    if (gap > best)            line 8   false
   *  9  for                          line 6   exits
   * 10  return best                  line 12  stale: the last gap was never compared
   */
  it('asks the writer’s own branch first, then the loop run that stopped early', () => {
    const view = trace([
      { line: 4, writes: [['best', '0']] },
      { line: 6 },
      { line: 7, control: 2, writes: [['gap', '3']] },
      { line: 8, control: 2, reads: [['gap', '3', 3]] },
      { line: 9, control: 4, reads: [['gap', '3', 3]], writes: [['best', '3']] },
      { line: 6, control: 2 },
      { line: 7, control: 6, writes: [['gap', '1']] },
      { line: 8, control: 6, reads: [['gap', '1', 7]] },
      { line: 6, control: 6 },
      { line: 12, reads: [['best', '3', 5]] },
    ]);
    const recommender = new FeedbackRecommender(view, at(10));
    assert.deepEqual(recommender.feedback(at(10), 'wrong-value', 0).step, at(5));
    assert.deepEqual(recommender.feedback(at(5), 'missing-update').step, at(8));
    assert.deepEqual(recommender.feedback(at(8), 'missing-update').step, at(9));
    const end = recommender.feedback(at(9), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(9), true]);
  });

  /* The same loop with one more wrong iteration, so the person sees the pattern twice:
   *  4, 7 count++ (right)   10 current = c (else; reset missing)   13, 16 count++ (stale)
   */
  const missingResetLonger = () =>
    countingLoop(['same', 'same', 'other', 'same', 'same'], { printAt: 10 });

  it('turns a loop bisection that ends on a right-but-stale iteration into an update search', () => {
    const recommender = new FeedbackRecommender(missingResetLonger(), at(17));
    recommender.feedback(at(17), 'wrong-value', 0);
    recommender.feedback(at(16), 'wrong-value', 0);
    const skip = recommender.feedback(at(13), 'wrong-value', 0);
    assert.deepEqual(skip.step, at(4), 'skipped back to the first count++');
    assert.deepEqual(recommender.feedback(at(4), 'correct').step, at(7));
    // Step 7 computed count right, and step 13 read it stale: not step 7's fault.
    const search = recommender.feedback(at(7), 'missing-update');
    assert.equal(search.rootCause, false);
    assert.deepEqual(search.step, at(9));
    assert.deepEqual(recommender.feedback(at(9), 'missing-update').step, at(10));
    const end = recommender.feedback(at(10), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(10), true]);
  });

  it('still ends a loop bisection on an iteration judged plainly correct', () => {
    const recommender = new FeedbackRecommender(missingResetLonger(), at(17));
    recommender.feedback(at(17), 'wrong-value', 0);
    recommender.feedback(at(16), 'wrong-value', 0);
    recommender.feedback(at(13), 'wrong-value', 0);
    recommender.feedback(at(4), 'correct');
    const end = recommender.feedback(at(7), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(7), true]);
  });

  /*
   *  1  available = 2;               reserve:20   (method reserve, called from 9)
   *  2  return true;                 reserve:22
   *  3  item.restock(10);            main:29
   *  4    reserved += amount;        restock:13  (called from 3)  <- bug: available += amount
   *  5  if (amount > available)      reserve:17  (called from 10), reads a stale available
   */
  it('walks code of other invocations that ran between the write and the read', () => {
    const view = trace([
      { line: 20, method: 'reserve', parent: 9, writes: [['available', '2']] },
      { line: 22, method: 'reserve', parent: 9 },
      { line: 29, method: 'main' },
      { line: 13, method: 'restock', parent: 3, writes: [['reserved', '13']] },
      { line: 17, method: 'reserve', parent: 10, reads: [['available', '2', 1]] },
    ]);
    const recommender = new FeedbackRecommender(view, at(5));
    assert.deepEqual(recommender.feedback(at(5), 'wrong-value', 0).step, at(1));
    const visited = answerCandidates(recommender, at(1), 4);
    assert.deepEqual(
      visited.map((s) => s.step.order),
      [2, 3, 4, 4],
    );
    assert.equal(visited.at(-1)!.rootCause, true);
  });
});

describe('feedback recommender: a right decision above a wrong path', () => {
  /*
   *  1  if (seen == UNVISITED)       line 28
   *  2    visit(next);               line 29  (controlled by 1)  <- bug: result ignored
   *  3  state = DONE;                line 31  (controlled by 1)  should not have run
   */
  it('walks back from the wrong-path step to the decision, latest step first', () => {
    const view = trace([
      { line: 28 },
      { line: 29, control: 1 },
      { line: 31, control: 1, writes: [['state', 'DONE']] },
      { line: 40, reads: [['state', 'DONE', 3]] },
    ]);
    const recommender = new FeedbackRecommender(view, at(4));
    recommender.feedback(at(4), 'wrong-value', 0);
    assert.deepEqual(recommender.feedback(at(3), 'wrong-path').step, at(1));
    const back = recommender.feedback(at(1), 'missing-update');
    assert.deepEqual([back.step, back.rootCause], [at(2), false]);
    const end = recommender.feedback(at(2), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(2), true]);
    recommender.undo();
    const itself = recommender.feedback(at(2), 'missing-update');
    assert.deepEqual(
      [itself.step, itself.rootCause],
      [at(3), true],
      'the decision and all after it judged right: the step that should not have run',
    );
  });

  /*
   *  1  dispatcher.handle(r);        main:9
   *  2  holds = allocate(request);   handle:75   (calls allocate)
   *  3    for (Line l : lines)       allocate:66
   *  4    releaseAll(holds);         allocate:68  <- bug: `finally` where `catch ... throw` was meant
   *  5    return holds;              allocate:70
   *  6  holds = allocate(request);   handle:75   (resumed after allocate returned)
   *  7  units += ...                 handle:76   should not have run (allocate should have thrown)
   */
  it('asks the step a call returned from when the line went on after it and should not have', () => {
    const view = trace([
      { line: 9, method: 'main' },
      { line: 75, method: 'handle', parent: 1 },
      { line: 66, method: 'allocate', parent: 2 },
      { line: 68, method: 'allocate', parent: 2 },
      { line: 70, method: 'allocate', parent: 2 },
      { line: 75, method: 'handle', parent: 1, writes: [['holds', 'List@3']] },
      { line: 76, method: 'handle', parent: 1, writes: [['units', '4']] },
    ]);
    const recommender = new FeedbackRecommender(view, at(7));
    assert.deepEqual(recommender.feedback(at(7), 'wrong-path').step, at(1));
    const back = recommender.feedback(at(1), 'missing-update');
    assert.deepEqual(back.step, at(6), 'the step before it in handle');
    const returned = recommender.feedback(at(6), 'wrong-path');
    assert.deepEqual(returned.step, at(5), 'the step allocate returned from');
    assert.match(returned.reason, /went on after allocate returned from this step/);
  });
});

describe('feedback recommender: loops', () => {
  it('skips iterations that repeat a judged pattern, then bisects back to the fault', () => {
    const { recommender, visited, suggestion } = searchWith(loopTrace(), at(12), judgeLoopStep, 20);
    assert.equal(suggestion.rootCause, true);
    assert.deepEqual(suggestion.step, at(5));
    // 12 (print), 11, 10 judged one by one; then the skip to the first iteration (2) and a
    // binary search over 2..9 — far fewer than walking back through every iteration.
    assert.deepEqual(visited.slice(0, 4), [12, 11, 10, 2]);
    assert.ok(visited.length <= 8, `visited ${visited.join(',')}`);
    const skip = recommender.history()[2].suggestion;
    assert.match(skip.reason, /skipped 7 iterations back to the first one/);
    const search = recommender.history()[3].suggestion;
    assert.match(search.reason, /Binary search over the skipped iterations/);
  });

  it('leaves the loop when the first iteration already read a wrong value', () => {
    const specs: StepSpec[] = [{ line: 3, writes: [['sum', '7']] }]; // fault: sum = 7, not 0
    for (let i = 0; i < 5; i++) {
      specs.push({ line: 5, reads: [['sum', `w${i}`, i + 1]], writes: [['sum', `w${i + 1}`]] });
    }
    specs.push({ line: 7, reads: [['sum', 'w5', 6]] });
    const recommender = new FeedbackRecommender(trace(specs), at(7));
    recommender.feedback(at(7), 'wrong-value', 0);
    recommender.feedback(at(6), 'wrong-value', 0);
    const skipped = recommender.feedback(at(5), 'wrong-value', 0);
    assert.deepEqual(skipped.step, at(2));
    const outside = recommender.feedback(at(2), 'wrong-value', 0);
    assert.deepEqual(outside.step, at(1));
    const end = recommender.feedback(at(1), 'correct');
    assert.equal(end.rootCause, true);
    assert.deepEqual(end.step, at(1));
  });
});

describe('feedback recommender: a loop that ran too many rounds', () => {
  /*
   *  1      limit = 9;                  line 3   <- bug: 2 rounds were meant
   *  2      while (i < limit)           line 4   (first run)
   *  3        x = step(x);              line 5   (controlled by the run of line 4 before it)
   *  4      while (i < limit)           line 4   (controlled by 2) ... and so on, 9 rounds
   *  ...
   *  21     print(x)                    line 7
   * The fixed run makes two rounds: from the third run of line 4 on, nothing should have run.
   */
  const rounds = 9;
  const loop = () => {
    const specs: StepSpec[] = [{ line: 3, writes: [['limit', '9']] }];
    for (let round = 0; round <= rounds; round++) {
      const condition = specs.length + 1;
      specs.push({
        line: 4,
        reads: [['limit', '9', 1]],
        ...(round > 0 ? { control: condition - 2 } : {}),
      });
      if (round < rounds) specs.push({ line: 5, control: condition, writes: [['x', `${round}`]] });
    }
    specs.push({ line: 7, reads: [['x', `${rounds - 1}`, specs.length - 1]] });
    return { view: trace(specs), failure: at(specs.length) };
  };
  /** Runs of line 4 are steps 2, 4, 6, ...: the third (step 6) is the first that should not have run. */
  const judge = (order: number): FeedbackKind => {
    if (order === 1) return 'correct';
    if (order >= 6 && order < 2 * rounds + 3) return 'wrong-path';
    return 'wrong-value';
  };

  it('bisects the rounds for the first one that should not have run, then judges its decision', () => {
    const { view, failure } = loop();
    const { recommender, visited, suggestion } = searchWith(view, failure, judge, 30);
    assert.deepEqual([suggestion.step, suggestion.rootCause], [at(1), true]);
    // Walking back round by round would ask all ten runs of line 4; the search asks the last
    // two, then halves the rest.
    assert.ok(visited.length <= 9, `visited ${visited.join(',')}`);
    const halving = recommender
      .history()
      .find((e) => /binary search for the first run/.test(e.suggestion.reason));
    assert.ok(halving, 'the rounds were searched by halves');
    // The run before the first wrong one read the wrong limit: that judgement led to step 1.
    assert.ok(visited.includes(4), `the last right run was asked: ${visited.join(',')}`);
  });

  it('goes above the loop when its first run should not have run either', () => {
    const { view, failure } = loop();
    const recommender = new FeedbackRecommender(view, failure);
    let suggestion = recommender.current();
    const visited: number[] = [];
    while (!suggestion.rootCause && visited.length < 30) {
      visited.push(suggestion.step.order);
      const order = suggestion.step.order;
      const kind: FeedbackKind =
        order === failure.order ? 'wrong-value' : order === 1 ? 'correct' : 'wrong-path';
      suggestion = recommender.feedback(
        suggestion.step,
        kind,
        kind === 'wrong-value' ? 0 : undefined,
      );
    }
    // No round should have run: the first run of line 4 has no decision above it in the
    // method, so its own line is the suspect.
    assert.deepEqual([suggestion.step, suggestion.rootCause], [at(2), true]);
    assert.ok(visited.length <= 9, `visited ${visited.join(',')}`);
  });
});

describe('feedback recommender: a for-each loop whose `if` and next-element fetch alternate', () => {
  /*
   *  1      board = 606;                     line 3   <- bug: 604 was meant
   *  2      for (Log log : logs)             line 57  (fetches the first log)
   *  3        if (tryCut(log, board))        line 54  (controlled by 2)
   *  4      for (...)                        line 57  (controlled by 3: the if went on)
   *  ...      twelve logs, each run of 54 controlled by the 57 before it and the other way round
   *  26     return null;                     line 58  (controlled by the last 57)
   *  27     print(found)                     line 60
   * The fixed run stops at the fourth log (its `if` takes the branch): from the fifth fetch on,
   * nothing should have run.
   */
  const logs = 12;
  const loop = () => {
    const specs: StepSpec[] = [{ line: 3, writes: [['board', '606']] }];
    for (let k = 0; k < logs; k++) {
      const fetch = specs.length + 1;
      specs.push({ line: 57, ...(k > 0 ? { control: fetch - 1 } : {}) });
      specs.push({ line: 54, control: fetch, reads: [['board', '606', 1]] });
    }
    specs.push({ line: 58, control: specs.length - 1, writes: [['found', 'null']] });
    specs.push({ line: 60, reads: [['found', 'null', specs.length]] });
    return { view: trace(specs), failure: at(specs.length) };
  };
  /** Fetches are steps 2, 4, 6, ...; the fifth fetch (step 10) is the first that should not run. */
  const failureOrder = 2 * logs + 3;
  const judge = (order: number): FeedbackKind => {
    if (order === 1) return 'correct';
    if (order === failureOrder || order === 9) return 'wrong-value'; // 9: the fourth `if`
    return order >= 10 ? 'wrong-path' : 'missing-update';
  };

  it('searches the runs of the fetch by halves, through the `if` between them', () => {
    const { view, failure } = loop();
    const { recommender, visited, suggestion } = searchWith(view, failure, judge, 40);
    assert.deepEqual([suggestion.step, suggestion.rootCause], [at(1), true]);
    const halving = recommender
      .history()
      .some((e) => /binary search for the first run/.test(e.suggestion.reason));
    assert.ok(halving, `the fetches were searched by halves: ${visited.join(',')}`);
    // One by one would ask both lines of each of the eight extra rounds.
    assert.ok(visited.length <= 14, `visited ${visited.join(',')}`);
  });
});

describe('feedback recommender: calls that threw, elements skipped, writes that came late', () => {
  /*
   *  1  try {                                   main line 10
   *  2    targets = parse(spec);                main line 11 (calls parse)
   *  3      total = sum(spec);                  parse line 20
   *  4      if (total != 1.0)                   parse line 21   <- bug: should allow rounding
   *  5        throw new Invalid(...)            parse line 22 (controlled by 4)
   *  6  } catch (Invalid e) { rejected.add(e) } main line 13 (catches)
   *  7  print(units)                            main line 15 (reads what line 11 left behind)
   */
  const threw = () => {
    const view = trace([
      { line: 10 },
      { line: 11, writes: [['spec', '"a:0.5,b:0.5"']] },
      { line: 20, method: 'parse', parent: 2, writes: [['total', '0.9999']] },
      { line: 21, method: 'parse', parent: 2, reads: [['total', '0.9999', 3]] },
      { line: 22, method: 'parse', parent: 2, control: 4 },
      { line: 13, control: 2 },
      { line: 15, reads: [['spec', '"a:0.5,b:0.5"', 2]] },
    ]);
    view.step(at(6))!.caught = 'demo.Invalid';
    return view;
  };

  it('enters a call that threw where it should have returned, at the callee’s last step', () => {
    const recommender = new FeedbackRecommender(threw(), at(7));
    assert.deepEqual(recommender.feedback(at(7), 'wrong-value', 0).step, at(2));
    const inside = recommender.feedback(at(2), 'correct');
    assert.deepEqual([inside.step, inside.rootCause], [at(5), false]);
    assert.match(inside.reason, /the call of parse threw where it should not have/);
    assert.deepEqual(recommender.feedback(at(5), 'wrong-path').step, at(4));
    const end = recommender.feedback(at(4), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(4), true]);
  });

  it('ends on a call that returned: its result, when wrong, is a read of its own', () => {
    const view = threw();
    delete view.step(at(6))!.caught;
    const recommender = new FeedbackRecommender(view, at(7));
    recommender.feedback(at(7), 'wrong-value', 0);
    const end = recommender.feedback(at(2), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(2), true]);
  });

  /*
   *  1  tree[3] = daily[2];                     line 16   (the element read stale later)
   *     for i in 1..3:                          line 18
   *  2,5,8  if (parent < n)                     line 20   <- bug: parent <= n
   *  3,6      tree[parent] += tree[i]           line 21   (controlled by 2, then 5)
   *  9  print(tree[3])                          line 30
   * The third run of line 20 (step 8) wrote no element: it skipped tree[3].
   */
  it('asks first the run of the decision guarding the siblings’ writes that wrote no element', () => {
    const element = (name: string, value: string, writer?: number): TraceAccess => ({
      kind: 'array',
      name,
      owner: 'long[]@4',
      value,
      ...(writer === undefined ? {} : { writer: at(writer) }),
    });
    const view = trace([
      { line: 16 },
      { line: 20, reads: [['parent', '2']] },
      { line: 21, control: 2 },
      { line: 18 },
      { line: 20, reads: [['parent', '4']] },
      { line: 21, control: 5 },
      { line: 18 },
      { line: 20, reads: [['parent', '3']] },
      { line: 30 },
    ]);
    view.step(at(1))!.writes.push(element('[3]', '5'));
    view.step(at(3))!.writes.push(element('[2]', '7'));
    view.step(at(6))!.writes.push(element('[4]', '9'));
    view.step(at(9))!.reads.push(element('[3]', '5', 1));
    const recommender = new FeedbackRecommender(view, at(9));
    assert.deepEqual(recommender.feedback(at(9), 'wrong-value', 0).step, at(1));
    const first = recommender.feedback(at(1), 'missing-update');
    assert.deepEqual(first.step, at(8), 'the run that wrote nothing, before any sibling write');
    const end = recommender.feedback(at(8), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(8), true]);
  });

  /*
   *  1  TIERS = buildTiers();                   <clinit> line 13 (calls buildTiers)
   *  2    price = base * (1 + LEVY)             buildTiers line 29 reads LEVY = 0.0, unwritten
   *  3  LEVY = parse("0.12");                   <clinit> line 14   <- bug: must come first
   *  4  print(TIERS)                            main line 70
   */
  it('leads from a field read before any write to the write that came later', () => {
    const view = trace([
      { line: 13, method: '<clinit>' },
      { line: 29, method: 'buildTiers', parent: 1, writes: [['price', '18.5']] },
      { line: 14, method: '<clinit>' },
      { line: 70, reads: [['price', '18.5', 2]] },
    ]);
    const levy = (value: string): TraceAccess => ({
      kind: 'static',
      name: 'demo.Main.LEVY',
      value,
    });
    view.step(at(2))!.reads.push(levy('0.0'));
    view.step(at(3))!.writes.push(levy('0.12'));
    const recommender = new FeedbackRecommender(view, at(4));
    assert.deepEqual(recommender.feedback(at(4), 'wrong-value', 0).step, at(2));
    const late = recommender.feedback(at(2), 'wrong-value', 0);
    assert.deepEqual([late.step, late.rootCause], [at(3), false]);
    assert.match(late.reason, /did the write come too late/);
    const end = recommender.feedback(at(3), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(3), true]);
  });
});

describe('feedback recommender: a value handed round a loop through two lines', () => {
  /*
   *  1  Map m = new HashMap<>();        line 3
   *     for each of 10 words:
   *       m.put(key, new List());        line 29   <- bug in the 4th round (step 8)
   *       m.get(key).add(word);          line 30
   *  22 print(m);                        line 40
   */
  function twoLineLoop() {
    const specs: StepSpec[] = [{ line: 3, writes: [['m', 'm0']] }];
    for (let round = 0; round < 10; round++) {
      const putOrder = 2 + 2 * round;
      specs.push({
        line: 29,
        reads: [['m', `m${2 * round}`, putOrder - 1]],
        writes: [['m', `m${2 * round + 1}`]],
      });
      specs.push({
        line: 30,
        reads: [['m', `m${2 * round + 1}`, putOrder]],
        writes: [['m', `m${2 * round + 2}`]],
      });
    }
    specs.push({ line: 40, reads: [['m', 'm20', 21]] });
    return trace(specs);
  }
  const faulty = 8;
  /** A person who knows step 8 wrote the first wrong state: steps after it read wrong ones. */
  const judge = (order: number): 'correct' | 'wrong-value' =>
    order > faulty ? 'wrong-value' : 'correct';

  it('bisects the rounds of the line it came back to, then asks the other line in between', () => {
    const { recommender, visited, suggestion } = searchWith(twoLineLoop(), at(22), judge, 30);
    assert.deepEqual([suggestion.step, suggestion.rootCause], [at(faulty), true]);
    // 22, 21 (line 30), 20 (line 29), 19 (line 30 again: the pattern) judged one by one, then a
    // binary search over the earlier rounds of line 30; walking back would take 15 feedbacks.
    assert.deepEqual(visited.slice(0, 4), [22, 21, 20, 19]);
    assert.ok(visited.length <= 10, `visited ${visited.join(',')}`);
    assert.ok(
      recommender
        .history()
        .some((entry) => /written here in between/.test(entry.suggestion.reason)),
      'the search ends on the line between two rounds',
    );
  });
});

describe('feedback recommender: values nobody wrote, exceptions caught', () => {
  /*
   *  1  int[] row = new int[4];          line 3
   *  2  for (j = 0; j < 3; j++)  j=0     line 4   <- bug: should be j < 4
   *  3    row[j] = j;                    line 5
   *  4  ... j=1; 5 row[1]; 6 j=2; 7 row[2]
   *  8  j=3: loop ends                   line 4
   *  9  print(row[3]);                   line 9   reads the default 0, never written
   */
  it('searches for the missing write of an element whose siblings were written', () => {
    const specs: StepSpec[] = [{ line: 3, writes: [['row', 'int[]@7']] }];
    for (let j = 0; j < 3; j++) {
      specs.push({
        line: 4,
        control: j === 0 ? undefined : 2 + 2 * (j - 1),
        reads: [['j', `${j}`]],
      });
      specs.push({ line: 5, control: 2 + 2 * j });
    }
    specs.push({ line: 4, control: 6, reads: [['j', '3']] });
    specs.push({ line: 9 });
    const view = trace(specs);
    for (let j = 0; j < 3; j++) {
      view
        .step(at(3 + 2 * j))!
        .writes.push({ kind: 'array', name: `[${j}]`, owner: 'int[]@7', value: `${j}` });
    }
    view.step(at(9))!.reads.push({ kind: 'array', name: '[3]', owner: 'int[]@7', value: '0' });
    const recommender = new FeedbackRecommender(view, at(9));
    const first = recommender.feedback(at(9), 'wrong-value', 0);
    assert.equal(first.rootCause, false, 'not the reading line: a write is missing');
    assert.deepEqual(first.step, at(8), 'the loop run that stopped, after the last sibling write');
    const end = recommender.feedback(at(8), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(8), true]);
  });

  it('asks where a collection the object holds changed, then the call that changed it', () => {
    /*
     *  1  Dorm(): this.free = 8            line 20
     *  2  if (best == null) return         line 62
     *  3  addGuests(best, g)               line 65   <- bug: `best.free -= g.size` missing before
     *  4    d.guests.add(name)             line 101
     *  5  allocations.add(...)             line 66
     *  6  if (d.free >= size)              line 58   reads 8, stale
     */
    const view = trace([
      { line: 20, method: '<init>', parent: 30 },
      { line: 62 },
      { line: 65, control: 2 },
      { line: 101, method: 'addGuests', parent: 3 },
      { line: 66, control: 2 },
      { line: 58 },
    ]);
    view
      .step(at(1))!
      .writes.push({ kind: 'field', owner: 'demo.Dorm@1', name: 'free', value: '8' });
    view.step(at(4))!.reads.push({
      kind: 'field',
      owner: 'demo.Dorm@1',
      name: 'guests',
      value: 'java.util.ArrayList@5',
    });
    view.step(at(4))!.writes.push({
      kind: 'library',
      owner: 'java.util.ArrayList@5',
      name: 'contents of guests',
      value: '(after 1 change(s), inputs #1)',
    });
    view.step(at(6))!.reads.push({
      kind: 'field',
      owner: 'demo.Dorm@1',
      name: 'free',
      value: '8',
      writer: at(1),
    });
    const recommender = new FeedbackRecommender(view, at(6));
    assert.deepEqual(recommender.feedback(at(6), 'wrong-value', 0).step, at(1));
    const held = recommender.feedback(at(1), 'missing-update');
    assert.deepEqual(held.step, at(4), 'the dorm’s guest list changed there');
    const call = recommender.feedback(at(4), 'missing-update');
    assert.deepEqual(call.step, at(3), 'next, the call that changed it');
    const end = recommender.feedback(at(3), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(3), true]);
  });

  it('asks the loop run that stopped before an element’s turn, the array written only when made', () => {
    /*
     *  1  int[] totals = new int[4];           line 53
     *  2  for (s = 0; s + 3 < 6; s++)  s=0     line 54   <- bug: <= was meant
     *  3    totals[s] = ...                    line 59
     *  4  ... s=1; 5 totals[1]; 6 s=2; 7 totals[2]
     *  8  s=3: the loop ends                   line 54
     *  9  return totals                        line 61
     * 10  print(totals[3])                     line 84   reads 0, as made at step 1
     */
    const specs: StepSpec[] = [{ line: 53, method: 'windows', parent: 20 }];
    for (let s = 0; s < 3; s++) {
      specs.push({ line: 54, method: 'windows', parent: 20, control: s === 0 ? undefined : 2 * s });
      specs.push({ line: 59, method: 'windows', parent: 20, control: 2 + 2 * s });
    }
    specs.push({ line: 54, method: 'windows', parent: 20, control: 6 });
    specs.push({ line: 61, method: 'windows', parent: 20 });
    specs.push({ line: 84 });
    const view = trace(specs);
    view.step(at(1))!.writes.push({ kind: 'local', name: 'totals', value: 'int[4]@7' });
    for (let s = 0; s < 3; s++) {
      view
        .step(at(3 + 2 * s))!
        .writes.push({ kind: 'array', name: `[${s}]`, owner: 'int[4]@7', value: '5' });
    }
    view
      .step(at(10))!
      .reads.push({ kind: 'array', name: '[3]', owner: 'int[4]@7', value: '0', writer: at(1) });
    const recommender = new FeedbackRecommender(view, at(10));
    assert.deepEqual(recommender.feedback(at(10), 'wrong-value', 0).step, at(1));
    const candidate = recommender.feedback(at(1), 'missing-update');
    assert.deepEqual(candidate.step, at(8), 'the run of the loop condition that ended the loop');
    const end = recommender.feedback(at(8), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(8), true]);
  });

  it('asks first the call that updated another object where a never-written field’s was meant', () => {
    /*
     *  1  Printer(): this.paper = 50       line 40  (mono, Printer@1)
     *  2  Printer(): this.paper = 40       line 40  (color, Printer@2)
     *  3  if (job.color || small)          line 94  <- bug: && was meant; job 1 goes to color
     *  4    color.print(job)               line 95
     *  5      this.pages += job.pages      line 63  (color's pages)
     *  6  if (job.color || small)          line 94  job 6: big mono job
     *  7    mono.print(job)                line 100
     *  8      this.paper -= take           line 59  (mono)
     *  9      this.pages += job.pages      line 63  reads mono's pages: the default 0
     */
    const view = trace([
      { line: 40, method: '<init>', parent: 20 },
      { line: 40, method: '<init>', parent: 21 },
      { line: 94 },
      { line: 95, control: 3 },
      { line: 63, method: 'print', parent: 4 },
      { line: 94 },
      { line: 100, control: 6 },
      { line: 59, method: 'print', parent: 7 },
      { line: 63, method: 'print', parent: 7 },
    ]);
    const field = (owner: string, name: string, value: string) =>
      ({ kind: 'field', owner, name, value }) as const;
    view.step(at(1))!.writes.push(field('demo.Printer@1', 'paper', '50'));
    view.step(at(2))!.writes.push(field('demo.Printer@2', 'paper', '40'));
    view.step(at(5))!.writes.push(field('demo.Printer@2', 'pages', '12'));
    view.step(at(8))!.writes.push(field('demo.Printer@1', 'paper', '20'));
    view.step(at(9))!.reads.push(field('demo.Printer@1', 'pages', '0'));
    const recommender = new FeedbackRecommender(view, at(9));
    const first = recommender.feedback(at(9), 'wrong-value', 0);
    assert.deepEqual(first.step, at(4), 'the call that updated color’s pages instead');
    const guard = recommender.feedback(at(4), 'wrong-path');
    assert.deepEqual(guard.step, at(3));
    const end = recommender.feedback(at(3), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(3), true]);
  });

  it('asks the loop runs guarding the variable’s assignment in another invocation', () => {
    /*
     *  run 1 (capacity 2):  1 new best (line 41)  2 loop w=2 (line 45)  3 best[2] = 7 (line 48)
     *                       4 loop ends (45)       5 return best[2] (line 53)
     *  run 2 (capacity 1):  6 new best (41)        7 item 1: loop ends at once (45), as it should
     *                       8 item 2: loop ends at once (45) <- bug: w > 1 where w >= 1 was meant
     *                       9 return best[1] (53)  reads the default 0
     */
    const view = trace([
      { line: 41, method: 'pack', parent: 20, writes: [['best', 'int[]@1']] },
      { line: 45, method: 'pack', parent: 20, reads: [['w', '2']] },
      { line: 48, method: 'pack', parent: 20, control: 2, reads: [['best', 'int[]@1', 1]] },
      { line: 45, method: 'pack', parent: 20, control: 2, reads: [['w', '1']] },
      { line: 53, method: 'pack', parent: 20, reads: [['best', 'int[]@1', 1]] },
      { line: 41, method: 'pack', parent: 30, writes: [['best', 'int[]@2']] },
      { line: 45, method: 'pack', parent: 30, reads: [['w', '1']] },
      { line: 45, method: 'pack', parent: 30, reads: [['w', '1']] },
      { line: 53, method: 'pack', parent: 30, reads: [['best', 'int[]@2', 6]] },
    ]);
    view.step(at(3))!.writes.push({ kind: 'array', name: '[2]', owner: 'int[]@1', value: '7' });
    view
      .step(at(9))!
      .reads.push({ kind: 'array', name: '[1]', owner: 'int[]@2', value: '0', writer: at(6) });
    const recommender = new FeedbackRecommender(view, at(9));
    assert.deepEqual(recommender.feedback(at(9), 'wrong-value', 1).step, at(6));
    const candidate = recommender.feedback(at(6), 'missing-update');
    assert.deepEqual(candidate.step, at(8), 'the last run of the loop that guards best[w] = ...');
    const end = recommender.feedback(at(8), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(8), true]);
  });

  it('asks the other rounds of the loop whose right write went stale only after other lines', () => {
    const seats = 'char[16]@7';
    const specs: StepSpec[] = [{ line: 12, writes: [['seats', seats]] }];
    for (let i = 0; i < 11; i++) specs.push({ line: 14 }); // seats[i + 3] = '.'
    specs.push({ line: 22 }); // seats[r * ROWS + c] = 'X': the wrong element
    specs.push({ line: 30 }); // reads seats[3]
    const view = trace(specs);
    for (let i = 0; i < 11; i++) {
      view
        .step(at(2 + i))!
        .writes.push({ kind: 'array', name: `[${i + 3}]`, owner: seats, value: '.' });
    }
    view.step(at(13))!.writes.push({ kind: 'array', name: '[9]', owner: seats, value: 'X' });
    view
      .step(at(14))!
      .reads.push({ kind: 'array', name: '[3]', owner: seats, value: '.', writer: at(2) });
    const recommender = new FeedbackRecommender(view, at(14));
    assert.deepEqual(recommender.feedback(at(14), 'wrong-value', 0).step, at(2));
    const first = recommender.feedback(at(2), 'missing-update');
    assert.deepEqual(first.step, at(13), 'line 22 before the ten rounds like the one judged right');
    assert.match(first.reason, /candidate 1 of 11/);
    assert.deepEqual(recommender.feedback(at(13), 'missing-update').step, at(3));
  });

  it('asks the latest update of another field of the object first when a field went stale', () => {
    const rx = 'demo.Prescription@4';
    const view = trace([
      { line: 30, method: '<init>', parent: 9 }, // this.lastFilled = -1
      { line: 31, method: '<init>', parent: 9 }, // this.refillsLeft = 3
      { line: 50 }, // a step in between
      { line: 114 }, // rx.refillsLeft--; (rx.lastFilled = day; is missing)
      { line: 50 },
      { line: 114 }, // rx.refillsLeft-- again
      { line: 41 }, // reads rx.lastFilled: stale
    ]);
    const field = (name: string, value: string): TraceAccess => ({
      kind: 'field',
      name,
      owner: rx,
      value,
    });
    view.step(at(1))!.writes.push(field('lastFilled', '-1'));
    view.step(at(2))!.writes.push(field('refillsLeft', '3'));
    view.step(at(4))!.writes.push(field('refillsLeft', '2'));
    view.step(at(6))!.writes.push(field('refillsLeft', '1'));
    view.step(at(7))!.reads.push({ ...field('lastFilled', '-1'), writer: at(1) });
    const recommender = new FeedbackRecommender(view, at(7));
    assert.deepEqual(recommender.feedback(at(7), 'wrong-value', 0).step, at(1));
    const asked = recommender.feedback(at(1), 'missing-update');
    assert.deepEqual(asked.step, at(6), 'the last refillsLeft-- before the stale read');
    assert.deepEqual(recommender.feedback(at(6), 'missing-update').step, at(4));
  });

  it('asks the part of a line that finishes it, after the call the line made', () => {
    const hive = 'demo.Hive@4';
    const view = trace([
      { line: 22, method: '<init>', parent: 9 }, // this.rate = 0.42
      { line: 35, method: 'update', parent: 9 }, // double rate = base * factor(day): calls
      { line: 26, method: 'factor', parent: 2 },
      { line: 35, method: 'update', parent: 9, writes: [['rate', '0.231']] }, // a local
      { line: 40, method: 'live', parent: 9 }, // reads this.rate: stale
    ]);
    view.step(at(1))!.writes.push({ kind: 'field', name: 'rate', owner: hive, value: '0.42' });
    view
      .step(at(5))!
      .reads.push({ kind: 'field', name: 'rate', owner: hive, value: '0.42', writer: at(1) });
    const recommender = new FeedbackRecommender(view, at(5));
    assert.deepEqual(recommender.feedback(at(5), 'wrong-value', 0).step, at(1));
    const asked = [recommender.feedback(at(1), 'missing-update').step];
    asked.push(recommender.feedback(asked[0], 'missing-update').step);
    assert.ok(
      asked.some((step) => step.order === 4) && !asked.some((step) => step.order === 2),
      `asked ${asked.map((step) => step.order).join(', ')}`,
    );
  });

  it('ends the search where the answers close a circle instead of asking round it again', () => {
    const view = trace([
      { line: 20, method: '<init>', parent: 9, writes: [['name', 'Ana']] },
      { line: 59, reads: [['answer', '1', 4]], writes: [['order', 'o1']] }, // sort: asks compare
      { line: 60 },
      { line: 28, method: 'compare', parent: 2, reads: [['name', 'Ana', 1]] },
      { line: 96, reads: [['order', 'o1', 2]] },
    ]);
    const recommender = new FeedbackRecommender(view, at(5));
    assert.deepEqual(recommender.feedback(at(5), 'wrong-value', 0).step, at(2));
    assert.deepEqual(recommender.feedback(at(2), 'wrong-value', 0).step, at(4));
    assert.deepEqual(recommender.feedback(at(4), 'wrong-value', 0).step, at(1));
    assert.deepEqual(recommender.feedback(at(1), 'missing-update').step, at(2), 'a candidate');
    const end = recommender.feedback(at(2), 'wrong-value', 0);
    assert.deepEqual([end.step, end.rootCause], [at(2), true]);
    assert.match(end.reason, /circle/);
    // Judging a step again of one's own accord is not a circle.
    const person = new FeedbackRecommender(view, at(5));
    person.feedback(at(5), 'wrong-value', 0);
    assert.equal(person.feedback(at(5), 'wrong-value', 0).rootCause, false);
  });

  it('says a handler is at fault when the exception it caught was thrown rightly', () => {
    /*
     *  1  call():  throw new PermanentError()     line 47 (callee)
     *  2  catch (ServiceError e)                 line 62 <- bug: should catch TransientError only
     *  3  log.add(e)                             line 63
     */
    const view = trace([
      { line: 47, method: 'call' },
      { line: 62, control: 1, writes: [['e', 'PermanentError@4']] },
      { line: 63, control: 2, reads: [['e', 'PermanentError@4', 2]] },
    ]);
    view.step(at(2))!.caught = 'PermanentError@4';
    const recommender = new FeedbackRecommender(view, at(3));
    assert.deepEqual(recommender.feedback(at(3), 'wrong-path').step, at(2));
    assert.deepEqual(recommender.feedback(at(2), 'wrong-path').step, at(1));
    const end = recommender.feedback(at(1), 'correct');
    assert.deepEqual([end.step, end.rootCause], [at(2), true]);
    assert.match(end.reason, /catch clause/);
  });
});

describe('feedback recommender: undo', () => {
  it('takes back the last judgement and replays the rest', () => {
    const recommender = new FeedbackRecommender(straightLine(), at(6));
    recommender.feedback(at(6), 'wrong-value', 0);
    const wrongTurn = recommender.feedback(at(5), 'correct');
    assert.equal(wrongTurn.rootCause, true);
    const back = recommender.undo();
    assert.deepEqual(back.step, at(5));
    assert.equal(back.rootCause, false);
    assert.equal(recommender.history().length, 1);
    assert.deepEqual(recommender.feedback(at(5), 'wrong-path').step, at(4));
    recommender.undo();
    recommender.undo();
    assert.deepEqual(recommender.current().step, at(6));
    assert.equal(recommender.history().length, 0);
    assert.deepEqual(recommender.undo().step, at(6), 'undo with no history stays at the start');
  });
});

// ---- library flows ---------------------------------------------------------------------------

function rawStep(order: number, reads: JvmVarAccess[], writes: JvmVarAccess[]): JvmStep {
  return {
    seq: order - 1,
    threadId: 1,
    thread: 'main',
    order,
    className: 'demo.Main',
    method: 'main',
    methodDescriptor: '([Ljava/lang/String;)V',
    methodId: 1,
    line: order + 10,
    lineIndex: order,
    reads,
    writes,
    frameId: 1,
    depth: 1,
    callerOrder: 0,
    branches: [],
  };
}

const local = (name: string, value: string): JvmVarAccess => ({
  kind: 'local',
  name,
  value,
  key: `L1:${name}`,
});

/** Runs the tracker over raw steps with the given source lines (line = order + 10). */
function withLibraryFlows(raw: JvmStep[], source: string[]): TraceStep[] {
  const tracker = new LibraryFlowTracker(new Set(['demo.Main']), (_, line) => source[line - 11]);
  return raw.map((r) => {
    const step: TraceStep = {
      threadId: 1,
      order: r.order,
      seq: r.seq,
      className: r.className,
      method: r.method,
      line: r.line,
      reads: r.reads.map((a): TraceAccess => ({ kind: a.kind, name: a.name, value: a.value })),
      writes: [],
    };
    tracker.visit(step, r);
    return step;
  });
}

describe('library flows (beyond Microbat)', () => {
  it('keeps what the line does to an object, and the settings it was made with, in its state', () => {
    const state = (source: string[]) => {
      const map = 'java.util.LinkedHashMap@4';
      const steps = withLibraryFlows(
        [rawStep(1, [], [local('m', map)]), rawStep(2, [local('m', map)], [])],
        source,
      );
      return steps.map((s) => s.writes.find((w) => w.kind === 'library')?.value);
    };
    const accessOrder = state(['m = new LinkedHashMap<>(16, 0.75f, true);', 'm.clear();']);
    const insertionOrder = state(['m = new LinkedHashMap<>(16, 0.75f, false);', 'm.clear();']);
    assert.equal(accessOrder[0], '(as created with 16, 0.75f, true)');
    assert.notEqual(accessOrder[0], insertionOrder[0], 'the constructor flag tells them apart');
    // No value goes into either change, but the method called differs.
    const cleared = state(['m = new LinkedHashMap<>();', 'm.clear();']);
    const trimmed = state(['m = new LinkedHashMap<>();', 'm.remove(0);']);
    assert.notEqual(cleared[1], trimmed[1]);
  });

  it('remembers which of the program’s objects went into a list, in order, besides their types', () => {
    const list = 'java.util.ArrayList@5';
    const steps = withLibraryFlows(
      [
        rawStep(1, [], [local('loads', list)]),
        rawStep(2, [local('loads', list), local('current', 'demo.Load@7')], []),
        rawStep(3, [local('loads', list), local('current', 'demo.Load@8')], []),
        rawStep(4, [local('loads', list)], [local('n', '2')]),
      ],
      [
        'List<Load> loads = new ArrayList<>();',
        'loads.add(current);',
        'loads.add(current);',
        'int n = loads.size();',
      ],
    );
    const written = steps[2].writes.find((w) => w.kind === 'library');
    assert.deepEqual(written?.objectInputs, ['demo.Load@7', 'demo.Load@8']);
    const read = steps[3].reads.find((r) => r.kind === 'library');
    assert.deepEqual(read?.objectInputs, ['demo.Load@7', 'demo.Load@8']);
    assert.deepEqual(
      steps[1].writes.find((w) => w.kind === 'library')?.objectInputs,
      ['demo.Load@7'],
      'an earlier state keeps what it had',
    );
  });

  it('links a value read back from a collection to the call that put it there', () => {
    const list = 'java.util.ArrayList@5';
    const steps = withLibraryFlows(
      [
        rawStep(1, [], [local('list', list)]),
        rawStep(2, [local('list', list), local('x', '4')], []),
        rawStep(3, [local('list', list)], [local('n', '1')]),
        rawStep(4, [local('list', list)], [local('y', '4')]),
      ],
      [
        'List<Integer> list = new ArrayList<>();',
        'list.add(x);',
        'int n = list.size();',
        'int y = list.get(0);',
      ],
    );
    const hidden = steps[3].reads.find((r) => r.kind === 'library');
    assert.equal(hidden?.name, 'contents of list');
    assert.deepEqual(hidden?.writer, at(2), 'size() only looks; add() is the last change');
    assert.deepEqual(steps[1].reads.find((r) => r.kind === 'library')?.writer, at(1));
  });

  it('puts what another library object held into the state of the one it changes', () => {
    const stateAfterAdd = (appended: string) => {
      const builder = 'java.lang.StringBuilder@9';
      const list = 'java.util.ArrayList@5';
      const steps = withLibraryFlows(
        [
          rawStep(1, [], [local('text', builder)]),
          rawStep(2, [], [local('messages', list)]),
          rawStep(3, [local('text', builder), local('c', appended)], []),
          rawStep(4, [local('messages', list), local('text', builder)], []),
        ],
        [
          'StringBuilder text = new StringBuilder();',
          'List<String> messages = new ArrayList<>();',
          'text.append(c);',
          'messages.add("#" + text);',
        ],
      );
      return steps[3].writes.find((w) => w.name === 'contents of messages')?.value;
    };
    assert.ok(stateAfterAdd("'a'"), 'add() changes the list');
    assert.notEqual(stateAfterAdd("'a'"), stateAfterAdd("'b'"), 'what the builder held differs');
  });

  it('gives an object fetched again from a library object the state its source has now', () => {
    // A map's entries are its own nodes: the same entry object comes back from a later
    // iteration, after the map changed.
    const map = 'java.util.HashMap@3';
    const iterator = (n: number) => `java.util.HashMap$EntryIterator@${n}`;
    const entry = 'java.util.HashMap$Node@7';
    const steps = withLibraryFlows(
      [
        rawStep(1, [], [local('units', map)]),
        rawStep(2, [local('units', map), local('it', iterator(5))], [local('e', entry)]),
        rawStep(3, [local('units', map), local('x', '2.5')], []),
        rawStep(4, [local('units', map), local('it', iterator(6))], [local('e', entry)]),
      ],
      [
        'Map<String, Double> units = new HashMap<>();',
        'for (Map.Entry<String, Double> e : units.entrySet()) {',
        'units.put("gold", x);',
        'for (Map.Entry<String, Double> e : units.entrySet()) {',
      ],
    );
    const state = (step: TraceStep) => step.writes.find((w) => w.name === 'contents of e')?.value;
    assert.ok(state(steps[1]) && state(steps[3]), 'both fetches give the entry a state');
    assert.notEqual(state(steps[1]), state(steps[3]), 'the map changed in between');
  });

  it('keeps the history of a library object a traced callee hands back', () => {
    const list = 'java.util.ArrayList@5';
    const source = [
      'List<String> groups = new ArrayList<>();',
      'groups.add(p);',
      'List<String> groups = group(phrases);',
    ];
    const stateStored = (handedBack: boolean) => {
      const tracker = new LibraryFlowTracker(
        new Set(['demo.Main']),
        (_, line) => source[line - 11],
      );
      const raw = [
        rawStep(1, [], [local('groups', list)]),
        rawStep(2, [local('groups', list), local('p', '"a"')], []),
        rawStep(3, [local('names', 'java.util.TreeSet@8')], [local('groups', list)]),
      ];
      const steps = raw.map((r) => {
        const step: TraceStep = { ...r, reads: [], writes: [], controlDominator: undefined };
        step.reads = r.reads.map((a): TraceAccess => ({
          kind: a.kind,
          name: a.name,
          value: a.value,
        }));
        if (r.order === 3 && handedBack) {
          step.reads.push({ kind: 'return', name: 'group() returned', value: list });
        }
        tracker.visit(step, r);
        return step;
      });
      return steps[2].writes.find((w) => w.name === 'contents of groups')?.value;
    };
    // Read next to another library object, the list would look fetched from it, and lose the
    // change it went through; handed back by group(), it keeps it.
    assert.ok(stateStored(false), 'a fetch gives it a new state');
    assert.equal(stateStored(true), undefined, 'handed back: no new state');
  });

  it('guesses without source: a use of the object that stores no result may change it', () => {
    const builder = 'java.lang.StringBuilder@9';
    const tracker = new LibraryFlowTracker(new Set(['demo.Main']));
    const raw = [
      rawStep(1, [], [local('sb', builder)]),
      rawStep(2, [local('sb', builder), local('x', '"a"')], []),
      rawStep(3, [local('sb', builder)], [local('s', '"a"')]),
    ];
    const steps = raw.map((r) => {
      const step: TraceStep = { ...r, reads: [], writes: [], controlDominator: undefined };
      step.reads = r.reads.map((a) => ({ kind: a.kind, name: a.name, value: a.value }));
      tracker.visit(step, r);
      return step;
    });
    assert.deepEqual(steps[2].reads.find((r) => r.kind === 'library')?.writer, at(2));
  });

  it('counts an element removed through an iterator as a change of the list it walks', () => {
    const list = 'java.util.ArrayList@4';
    const iterator = 'java.util.ArrayList$Itr@5';
    const steps = withLibraryFlows(
      [
        rawStep(1, [], [local('pending', list)]),
        rawStep(2, [local('pending', list), local('x', '"a"')], []),
        rawStep(3, [local('pending', list)], [local('it', iterator)]),
        rawStep(4, [local('it', iterator)], [local('p', '"a"')]),
        rawStep(5, [local('it', iterator)], []),
        rawStep(6, [local('pending', list)], [local('n', '0')]),
      ],
      [
        'List<String> pending = new ArrayList<>();',
        'pending.add(x);',
        'Iterator<String> it = pending.iterator();',
        'String p = it.next();',
        'it.remove();',
        'int n = pending.size();',
      ],
    );
    const changesPending = (order: number) =>
      steps[order - 1].writes.some((w) => w.name === 'contents of pending');
    assert.equal(changesPending(4), false, 'next() moves the iterator only');
    assert.equal(changesPending(5), true, 'remove() takes the element out of the list');
    const read = steps[5].reads.find((r) => r.name === 'contents of pending');
    assert.deepEqual(read?.writer, at(5));
  });

  it('knows elements a JDK call rewrote only by what went into the call, arguments included', () => {
    const array = 'java.lang.String[4]@3';
    const search = (sortedUpTo: string) => {
      const element: JvmVarAccess = {
        kind: 'array',
        name: '[0]',
        owner: array,
        value: '"b"',
        key: 'A3[0]',
        ownerId: 3,
      };
      const passed: JvmVarAccess = {
        kind: 'local',
        name: 'Arrays.sort(…) argument 3',
        value: sortedUpTo,
        key: 'L1:sort3',
      };
      const words = local('words', array);
      return withLibraryFlows(
        [
          rawStep(1, [], [words]),
          rawStep(2, [words], [element]),
          rawStep(3, [words, local('n', '3')], [passed]),
          rawStep(4, [words, local('n', '3'), local('w', '"b"')], [local('at', '0')]),
          rawStep(5, [words, local('n', '3'), local('w', '"b"')], [local('again', '0')]),
        ],
        [
          'String[] words = new String[4];',
          'words[0] = "b";',
          'Arrays.sort(words, 0, n - 1);',
          'int at = Arrays.binarySearch(words, 0, n, w);',
          'int again = Arrays.binarySearch(words, 0, n, w);',
        ],
      );
    };
    const steps = search('2');
    const elementRead = (order: number) =>
      steps[order - 1].reads.find((r) => r.kind === 'array' && r.name === '[0]');
    assert.deepEqual(elementRead(4)?.writer, at(3), 'the sort rewrote it');
    assert.match(elementRead(4)!.value, /^\(after a library call, inputs #[0-9a-f]{8}\)$/);
    assert.deepEqual(elementRead(5)?.writer, at(3), 'a binary search only reads');
    const other = search('3');
    assert.notEqual(
      other[3].reads.find((r) => r.name === '[0]')?.value,
      elementRead(4)!.value,
      'another range sorted: another state, though every read agrees',
    );
  });

  it('makes an array element read depend on a later bulk write of the whole array', () => {
    const array = 'int[]@3';
    const element = (value: string): JvmVarAccess => ({
      kind: 'array',
      name: '[0]',
      owner: array,
      value,
      key: 'A3[0]',
      ownerId: 3,
    });
    const source = [
      'int[] arr = new int[4];',
      'arr[0] = 1;',
      'Arrays.fill(arr, 7);',
      'int v = arr[0];',
    ];
    const raw = [
      rawStep(1, [], [local('arr', array)]),
      rawStep(2, [local('arr', array)], [element('1')]),
      rawStep(3, [local('arr', array)], []),
      rawStep(4, [local('arr', array), element('7')], [local('v', '7')]),
    ];
    const tracker = new LibraryFlowTracker(new Set(['demo.Main']), (_, line) => source[line - 11]);
    const linked = raw.map((r) => {
      const step: TraceStep = { ...r, reads: [], writes: [] };
      step.reads = r.reads.map((a) => ({
        kind: a.kind,
        name: a.name,
        owner: a.owner,
        value: a.value,
      }));
      // As memoryTrace.ts would have it: the recorded last writer of arr[0] is step 2.
      if (r.order === 4) step.reads[1].writer = at(2);
      tracker.visit(step, r);
      return step;
    });
    // fill() at step 3 overwrote arr[0] without a recorded write.
    assert.deepEqual(linked[3].reads[1].writer, at(3));
    assert.equal(
      linked[2].reads.some((r) => r.kind === 'library'),
      false,
      'arrays get no hidden state',
    );
  });
  it('counts a change made through an element a lookup handed out as a change of the container', () => {
    const map = 'java.util.HashMap@4';
    const steps = withLibraryFlows(
      [
        rawStep(1, [], [local('groups', map)]),
        rawStep(2, [local('groups', map), local('key', '"a"'), local('word', '"ant"')], []),
      ],
      ['Map<String, List<String>> groups = new HashMap<>();', 'groups.get(key).add(word);'],
    );
    assert.equal(steps[1].writes[0]?.name, 'contents of groups');
    const nested = withLibraryFlows(
      [
        rawStep(1, [], [local('sections', map)]),
        rawStep(2, [local('sections', map), local('m', 'demo.Musician@9')], []),
      ],
      [
        'List<List<Musician>> sections = new ArrayList<>();',
        'sections.get(familyOf(m.instrument)).add(m);',
      ],
    );
    assert.equal(
      nested[1].writes[0]?.name,
      'contents of sections',
      'the lookup’s key computed by a call',
    );
    const looked = withLibraryFlows(
      [
        rawStep(1, [], [local('groups', map)]),
        rawStep(2, [local('groups', map), local('key', '"a"')], [local('n', '1')]),
      ],
      ['Map<String, List<String>> groups = new HashMap<>();', 'int n = groups.get(key).size();'],
    );
    assert.equal(looked[1].writes.length, 0, 'a lookup followed by a query changes nothing');
  });

  it('gives an object fetched from a collection a state made from where it came from', () => {
    const fetch = (word: string) => {
      const list = 'java.util.ArrayList@5';
      const item = 'java.util.ArrayList@6';
      const iterator = 'java.util.ArrayList$Itr@7';
      const steps = withLibraryFlows(
        [
          rawStep(1, [], [local('list', list)]),
          rawStep(2, [local('list', list), local('w', word)], []),
          rawStep(3, [local('list', list)], [local('it', iterator)]),
          rawStep(4, [local('it', iterator)], [local('item', item)]),
          rawStep(5, [local('item', item)], []),
        ],
        [
          'List<List<String>> list = new ArrayList<>();',
          'list.add(List.of(w));',
          'Iterator<List<String>> it = list.iterator();',
          'List<String> item = it.next();',
          'print(item);',
        ],
      );
      return steps[4].reads.find((r) => r.name === 'contents of item');
    };
    const ant = fetch('"ant"');
    assert.deepEqual(ant?.writer, at(4), 'the fetch made its known state');
    assert.match(ant?.value ?? '', /^\(as made, inputs #/);
    assert.notEqual(fetch('"bee"')?.value, ant?.value, 'what went into the list tells them apart');
    assert.equal(fetch('"ant"')?.value, ant?.value);
  });

  it('leaves an object received as a callback argument from library code unknown', () => {
    const item = 'java.util.ArrayList@6';
    const tracker = new LibraryFlowTracker(
      new Set(['demo.Main']),
      () => 'list.sort(comparingInt((List<String> g) -> g.size()));',
    );
    const raw = rawStep(1, [], [local('g', item)]);
    const step: TraceStep = {
      threadId: 1,
      order: 1,
      seq: 0,
      className: 'demo.Main',
      method: 'lambda$main$0',
      line: 11,
      reads: [{ kind: 'local', name: 'g (argument)', value: item }],
      writes: [],
    };
    tracker.visit(step, raw);
    assert.equal(step.writes.length, 0, 'no state is invented for it');
  });

  it('folds what a callback answered during a sort into the sorted list’s state', () => {
    const list = 'java.util.ArrayList@5';
    const sortWith = (answer: string) => {
      const tracker = new LibraryFlowTracker(new Set(['demo.Main']), (_, line) =>
        line === 11 ? 'table.sort(new Order());' : 'return Integer.compare(a, b);',
      );
      const sortStep: TraceStep = {
        threadId: 1,
        order: 1,
        seq: 0,
        className: 'demo.Main',
        method: 'main',
        line: 11,
        reads: [{ kind: 'local', name: 'table', value: list }],
        writes: [],
      };
      const created: TraceStep = { ...sortStep, order: 0, seq: -1, reads: [], writes: [] };
      tracker.visit(created, { ...rawStep(0, [], [local('table', list)]), line: 10 });
      const sortRaw = rawStep(1, [local('table', list)], []);
      tracker.visit(sortStep, sortRaw, {
        tracedCalls: new Set(['compare']),
        continuesAfterCall: false,
        carriedReads: [],
        earlierParts: [],
      });
      const compareRaw = {
        ...rawStep(2, [], []),
        method: 'compare',
        line: 20,
        returnValue: answer,
      };
      const compareStep: TraceStep = {
        threadId: 1,
        order: 2,
        seq: 1,
        className: 'demo.Main',
        method: 'compare',
        line: 20,
        reads: [],
        writes: [],
        invocationParent: at(1),
      };
      tracker.visit(compareStep, compareRaw);
      return sortStep;
    };
    const ascending = sortWith('-1');
    const descending = sortWith('1');
    assert.notEqual(ascending.writes[0].value, descending.writes[0].value);
    const answered = ascending.reads.find((r) => r.name === 'compare() answered');
    assert.deepEqual([answered?.value, answered?.writer], ['-1', at(2)]);
  });
  it('makes what callbacks answered part of the object a later part of the line returns', () => {
    const readings = 'java.util.ArrayList@5';
    const made = 'java.util.TreeMap@9';
    const collectWith = (answer: string) => {
      const tracker = new LibraryFlowTracker(new Set(['demo.Main']), (_, line) =>
        line === 42 ? 'return rs.stream().collect(groupingBy(r -> band(r)));' : 'list.add(r);',
      );
      const step = (order: number, method: string, reads: TraceAccess[]): TraceStep => ({
        threadId: 1,
        order,
        seq: order,
        className: 'demo.Main',
        method,
        line: 42,
        reads,
        writes: [],
      });
      const raw = (order: number, method: string, returnValue?: string): JvmStep => ({
        ...rawStep(order, [], []),
        method,
        line: 42,
        ...(returnValue === undefined ? {} : { returnValue }),
      });
      tracker.visit(step(0, 'main', []), { ...rawStep(0, [], [local('rs', readings)]), line: 10 });
      const calls = new Set(['lambda$histogram$0']);
      const first = step(1, 'histogram', [{ kind: 'local', name: 'rs', value: readings }]);
      tracker.visit(
        first,
        { ...raw(1, 'histogram'), reads: [local('rs', readings)] },
        {
          tracedCalls: calls,
          continuesAfterCall: true,
          carriedReads: [],
          earlierParts: [],
        },
      );
      const callback = { ...step(2, 'lambda$histogram$0', []), invocationParent: at(1) };
      tracker.visit(callback, raw(2, 'lambda$histogram$0', answer));
      const resumed = step(3, 'histogram', []);
      tracker.visit(resumed, raw(3, 'histogram', made), {
        tracedCalls: calls,
        continuesAfterCall: false,
        carriedReads: [local('rs', readings)],
        earlierParts: [at(1)],
      });
      return resumed;
    };
    const right = collectWith('-1');
    const wrong = collectWith('0');
    const state = (s: TraceStep) =>
      s.writes.find((w) => w.name === 'contents of histogram() result');
    assert.ok(state(right), 'the returned map gets a state where the line made it');
    assert.notEqual(state(right)!.value, state(wrong)!.value, 'a wrong answer, another state');
    const answered = right.reads.find((r) => r.name === 'lambda$histogram$0() answered');
    assert.deepEqual([answered?.value, answered?.writer], ['-1', at(2)]);
  });
  it('keeps no hidden state for a lambda, and compares its class without the run’s address', () => {
    const lambda = 'demo.Main$$Lambda$40/0x00007f1b5c021400@73';
    const steps = withLibraryFlows(
      [rawStep(1, [local('f', lambda), local('x', '1')], [])],
      ['out[x] = f.applyAsInt(x);'],
    );
    assert.equal(
      steps[0].writes.length + steps[0].reads.filter((r) => r.kind === 'library').length,
      0,
    );
    assert.equal(
      comparableValue(lambda),
      comparableValue('demo.Main$$Lambda$40/0x00007f8480021400@12'),
    );
    assert.notEqual(comparableValue('demo.Task@1'), comparableValue('demo.Order@1'));
    assert.equal(comparableValue('"a@1"'), '"a@1"', 'strings are compared as they are');
  });
  it('reads the contents of a library object a traced callee returned', () => {
    const list = 'java.util.ArrayList@8';
    const tracker = new LibraryFlowTracker(
      new Set(['demo.Main']),
      () => 'for (String line : settle()) {',
    );
    const maker: TraceStep = {
      threadId: 1,
      order: 1,
      seq: 0,
      className: 'demo.Main',
      method: 'settle',
      line: 11,
      reads: [],
      writes: [],
    };
    tracker.visit(maker, rawStep(1, [], [local('lines', list)]));
    const user: TraceStep = {
      ...maker,
      order: 2,
      seq: 1,
      method: 'main',
      line: 12,
      reads: [{ kind: 'return', name: 'settle() returned', value: list, writer: at(1) }],
    };
    tracker.visit(user, rawStep(2, [], []));
    const hidden = user.reads.find((r) => r.kind === 'library');
    assert.deepEqual([hidden?.name, hidden?.writer], ['contents of settle() result', at(1)]);
  });
  it('matches a static field in the source by its simple name', () => {
    const map = 'java.util.HashMap@4';
    const table: JvmVarAccess = { kind: 'static', name: 'demo.Main.TABLE', value: map, key: 'S1' };
    const steps = withLibraryFlows(
      [rawStep(1, [table, local('k', '"ft"')], []), rawStep(2, [table], [local('f', '0.3')])],
      ['TABLE.put(k, 0.3);', 'double f = TABLE.get("ft");'],
    );
    assert.equal(steps[0].writes[0]?.name, 'contents of demo.Main.TABLE', 'put() changes it');
    const hidden = steps[1].reads.find((r) => r.kind === 'library');
    assert.deepEqual(hidden?.writer, at(1));
  });
});
