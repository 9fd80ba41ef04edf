// End-to-end tests of the JVM agent: the recorded step sequence must equal what the JDI
// reference stepper reports; values, control and data dominators are checked against what the
// fixture programs are known to compute.

import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import type { JvmStep, JvmVarAccess, Reader } from '../../../src/extension/jvm/decoder';
import { computeRelations } from '../../../src/extension/jvm/relations';
import { decodeTrace, JvmTraceDecoder } from '../../../src/extension/jvm/decoder';
import { Chunk } from '../../../src/extension/jvm/format';
import { readFileSync } from 'node:fs';
import {
  asJdiSeesIt,
  compileFixtures,
  ensureAgentBuilt,
  FIXTURE_PROGRAMS,
  JDK17,
  JDK25,
  runJdi,
  runWithAgent,
  stepsByThread,
} from './harness';

function assertSameStepsAsJdi(jdk: string, release: number, fixture: string): void {
  const classPath = compileFixtures(jdk, release);
  const mainClass = `fixtures.${fixture}`;
  const run = runWithAgent({ jdk, classPath, mainClass });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.batch.errors, []);
  assert.ok(run.batch.ended, 'trace has its end marker');
  const jdi = runJdi({ jdk, classPath, mainClass });
  const agent = stepsByThread(asJdiSeesIt(run.steps));
  assert.ok((jdi.get('main') ?? []).length > 3, 'JDI saw the main thread step');
  assert.deepEqual([...agent.keys()].sort(), [...jdi.keys()].sort(), 'same threads');
  for (const [thread, jdiSteps] of jdi) {
    assert.deepEqual(agent.get(thread), jdiSteps, `steps of thread ${thread}`);
  }
}

function find(steps: JvmStep[], method: string, line: number, nth = 0): JvmStep {
  const matches = steps.filter((s) => s.method === method && s.line === line);
  assert.ok(matches.length > nth, `step ${method}:${line} #${nth} exists`);
  return matches[nth];
}

function access(list: JvmVarAccess[], name: string): JvmVarAccess {
  const found = list.find((a) => a.name === name);
  assert.ok(found, `access to ${name} in ${JSON.stringify(list.map((a) => a.name))}`);
  return found;
}

/** The stream without the EVENTS chunks of one thread (declarations and other threads kept). */
function withoutEventsOf(bytes: Uint8Array, threadId: number): Uint8Array {
  const kept: Uint8Array[] = [bytes.subarray(0, 5)]; // magic and version
  for (let pos = 5; pos < bytes.length;) {
    const start = pos;
    const kind = bytes[pos++];
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[pos++];
      length += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    const end = pos + length;
    // An EVENTS payload starts with the thread id (a varint; ids here are below 128).
    if (kind !== Chunk.Events || bytes[pos] !== threadId) kept.push(bytes.subarray(start, end));
    pos = end;
  }
  return Buffer.concat(kept);
}

/** Counts, per object, the references to it and those that declared it (an odd `u`). */
class RefCountingDecoder extends JvmTraceDecoder {
  readonly counts = new Map<number, { uses: number; declarations: number }>();

  protected override readRefId(r: Reader): number {
    const declares = (r.bytes[r.pos] & 1) === 1; // the varint's lowest bit is in its first byte
    const id = super.readRefId(r);
    if (id === 0) return id;
    const count = this.counts.get(id) ?? { uses: 0, declarations: 0 };
    count.uses++;
    if (declares) count.declarations++;
    this.counts.set(id, count);
    return id;
  }
}

/** Decodes a stream; the references per object, keyed by how values show the object. */
function countRefs(bytes: Uint8Array): {
  steps: JvmStep[];
  uses: Map<string, { uses: number; declarations: number }>;
} {
  const decoder = new RefCountingDecoder();
  const steps = [...decoder.push(bytes).steps, ...decoder.end().steps];
  const uses = new Map([...decoder.counts].map(([id, count]) => [decoder.renderRef(id), count]));
  return { steps, uses };
}

const BOXES = 'fixtures.Boxes';

describe('JVM agent', function () {
  this.timeout(120_000);

  before(function () {
    this.timeout(300_000);
    ensureAgentBuilt();
  });

  describe('steps equal JDI line stepping (JDK 17)', () => {
    for (const fixture of FIXTURE_PROGRAMS) {
      it(fixture, () => assertSameStepsAsJdi(JDK17, 17, fixture));
    }
  });

  describe('steps equal JDI line stepping (Temurin 25, classes compiled for 25)', function () {
    before(function () {
      if (!existsSync(JDK25)) this.skip();
    });
    for (const fixture of [
      'Loops',
      'Exceptions',
      'Lambdas',
      'InnerClasses',
      'Threads',
      'Switches',
      'Boxes',
    ]) {
      it(fixture, () => assertSameStepsAsJdi(JDK25, 25, fixture));
    }
  });

  describe('reads, writes and values', () => {
    it('records locals, fields, statics and values of every kind', () => {
      const run = runWithAgent({ classPath: compileFixtures(), mainClass: 'fixtures.Values' });
      assert.equal(run.status, 0);
      // A line that calls a traced method has a second step after the call returns.
      const writes = (line: number) =>
        run.steps.filter((s) => s.method === 'main' && s.line === line).flatMap((s) => s.writes);
      assert.equal(access(writes(13), 'big').value, '1099511627776');
      assert.equal(access(writes(14), 'f').value, '1.5');
      assert.equal(access(writes(15), 'd').value, '0.30000000000000004');
      assert.equal(access(writes(16), 'c').value, 'x');
      assert.equal(access(writes(17), 'flag').value, 'true');
      assert.equal(access(writes(18), 's').value, '"hi\\n"');
      assert.equal(access(writes(19), 'b').value, '-3');
      assert.equal(access(writes(20), 'sh').value, '300');
      assert.equal(access(writes(21), 'tiny').value, '1.0E-5');
      const point = access(writes(22), 'p');
      assert.match(point.value, /^fixtures\.Values\$Point@\d+$/);
      const fieldX = access(writes(23), 'x');
      assert.deepEqual([fieldX.kind, fieldX.owner, fieldX.value], ['field', point.value, '5']);
      assert.equal(access(writes(24), 'y').value, '-7');
      const readX = access(find(run.steps, 'main', 25).reads, 'x');
      assert.deepEqual([readX.kind, readX.owner, readX.value], ['field', point.value, '5']);
      const counter = access(writes(26), 'fixtures.Values.counter');
      assert.deepEqual([counter.kind, counter.value], ['static', '7']);
      const increment = find(run.steps, 'main', 27);
      assert.equal(access(increment.reads, 'fixtures.Values.counter').value, '7');
      assert.equal(access(increment.writes, 'fixtures.Values.counter').value, '8');
      assert.equal(access(writes(28), 'nothing').value, 'null');
    });

    it('records array elements with array identity and index', () => {
      const run = runWithAgent({ classPath: compileFixtures(), mainClass: 'fixtures.Arrays' });
      assert.equal(run.status, 0);
      const numbers = access(find(run.steps, 'main', 6).writes, 'numbers').value;
      assert.match(numbers, /^int\[4\]@\d+$/, 'an array shows its length');
      const stores = run.steps
        .filter((s) => s.line === 8)
        .flatMap((s) => s.writes.filter((w) => w.kind === 'array'));
      assert.deepEqual(
        stores.map((w) => [w.owner, w.name, w.value]),
        [0, 1, 2, 3].map((i) => [numbers, `[${i}]`, String(i * 3)]),
      );
      const sumStep = find(run.steps, 'main', 10);
      assert.deepEqual(
        sumStep.reads.filter((r) => r.kind === 'array').map((r) => [r.name, r.value]),
        [
          ['[1]', '3'],
          ['[3]', '9'],
        ],
      );
      assert.equal(access(sumStep.writes, 'sum').value, '12');
      assert.equal(access(find(run.steps, 'main', 12).writes, '[1]').value, 'z');
      assert.equal(access(find(run.steps, 'main', 14).writes, '[0]').value, 'true');
      assert.equal(access(find(run.steps, 'main', 16).writes, '[0]').value, '2.5');
      assert.equal(access(find(run.steps, 'main', 18).writes, '[0]').value, '"w"');
      assert.equal(access(find(run.steps, 'main', 22).reads, '[0]').value, '1099511627776');
    });

    it('shows BigDecimal and BigInteger values and the lengths of arrays the JDK made', () => {
      const run = runWithAgent({ classPath: compileFixtures(), mainClass: 'fixtures.Decimals' });
      assert.equal(run.status, 0, 'no user toString was called');
      const main = run.steps.filter((s) => s.method === 'main');
      const written = (name: string) => {
        const all = main.flatMap((s) => s.writes).filter((w) => w.name === name);
        return all[all.length - 1].value;
      };
      assert.equal(written('exact'), '0.9215');
      assert.equal(written('binary'), '0.9214999999999999857891452847979962825775146484375');
      assert.equal(written('sum'), '2.0215');
      assert.equal(written('factorial'), '15511210043330985984000000');
      assert.equal(written('huge'), '(5001-bit integer)');
      assert.match(written('money'), /^fixtures\.Decimals\$Money@\d+$/, 'a subclass is an object');
      assert.match(written('parts'), /^java\.lang\.String\[2\]@\d+$/);
      assert.match(written('all'), /^java\.lang\.String\[4\]@\d+$/);
      assert.match(written('grid'), /^int\[3\]\[\]@\d+$/);
    });

    it('records values handed to the JDK that no recorded read shows', () => {
      const run = runWithAgent({
        classPath: compileFixtures(),
        mainClass: 'fixtures.LibraryCalls',
      });
      assert.equal(run.status, 0);
      const passed = (line: number) =>
        find(run.steps, 'main', line)
          .writes.filter((w) => w.name.includes('(…) argument'))
          .map((w) => `${w.name} = ${w.value}`);
      assert.deepEqual(
        passed(10),
        ['Arrays.sort(…) argument 2 = 0', 'Arrays.sort(…) argument 3 = 4'],
        'a constant and `count - 1`; the array is an object, left out',
      );
      assert.deepEqual(
        passed(13),
        ['StringBuilder.append(…) argument 1 = 67'],
        "'A' + row is an int",
      );
      assert.deepEqual(
        passed(14),
        ['StringBuilder.append(…) argument 1 = C'],
        'the cast makes a char',
      );
      assert.deepEqual(passed(16), [
        'String.substring(…) argument 1 = 1',
        'String.substring(…) argument 2 = 5',
      ]);
      assert.deepEqual(passed(17), [], '`count` is a local whose read is recorded already');
      assert.deepEqual(passed(18), ['Math.sqrt(…) argument 1 = 10.0']);
      assert.deepEqual(passed(19), [
        'PrintStream.println(…) argument 1 = "[1, 3, 5, 9, 7]67Carbour3.1622776601683795"',
      ]);
    });

    it('records arguments at entry, return values and exceptions', () => {
      const run = runWithAgent({ classPath: compileFixtures(), mainClass: 'fixtures.Recursion' });
      const entries = run.steps.filter((s) => s.method === 'factorial' && s.line === 6);
      assert.deepEqual(
        entries.map((s) => access(s.writes, 'n').value),
        ['5', '4', '3', '2', '1'],
      );
      const returns = run.steps.filter((s) => s.method === 'factorial' && s.returnValue);
      assert.deepEqual(
        returns.map((s) => s.returnValue),
        ['1', '2', '6', '24', '120'],
      );
      const fixture = runWithAgent({
        classPath: compileFixtures(),
        mainClass: 'fixtures.Exceptions',
      });
      const thrower = find(fixture.steps, 'depth3', 7);
      assert.match(thrower.thrown ?? '', /^java\.lang\.IllegalStateException@\d+$/);
      const handler = find(fixture.steps, 'catchIt', 30);
      assert.equal(handler.caught, thrower.thrown);
      assert.equal(access(handler.writes, 'e').value, thrower.thrown);
      assert.equal(access(find(fixture.steps, 'npe', 39).writes, 'e').kind, 'local');
    });

    it('names threads, marks main, and gives per-thread trace ids', () => {
      const run = runWithAgent({ classPath: compileFixtures(), mainClass: 'fixtures.Threads' });
      const threads = run.batch.threads;
      assert.deepEqual(threads.map((t) => t.name).sort(), [
        'main',
        'worker-0',
        'worker-1',
        'worker-2',
      ]);
      assert.deepEqual(
        threads.filter((t) => t.isMain).map((t) => t.name),
        ['main'],
      );
      assert.equal(new Set(threads.map((t) => t.traceId)).size, 4);
      assert.ok(threads.every((t) => t.traceId.startsWith(run.batch.run!.runId)));
      for (const worker of ['worker-0', 'worker-1', 'worker-2']) {
        const steps = run.steps.filter((s) => s.thread === worker);
        assert.deepEqual(
          steps.map((s) => s.order),
          steps.map((_, i) => i + 1),
        );
        const seed = Number(worker.slice(-1));
        const result = steps.find((s) => s.method === 'work' && s.returnValue !== undefined);
        assert.equal(result?.returnValue, String(((seed * 2 + 0) * 2 + 1) * 2 + 2));
      }
    });
  });

  describe('boxed primitives', () => {
    const jdks: [string, string, number][] = [
      ['JDK 17', JDK17, 17],
      ['Temurin 25, classes compiled for 25', JDK25, 25],
    ];
    for (const [title, jdk, release] of jdks) {
      it(`show the value they hold (${title})`, function () {
        if (!existsSync(jdk)) this.skip();
        const run = runWithAgent({
          jdk,
          classPath: compileFixtures(jdk, release),
          mainClass: BOXES,
        });
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(run.batch.errors, []);
        const main = run.steps.filter((s) => s.thread === 'main' && s.method === 'main');
        const written = (name: string) =>
          access(
            main.flatMap((s) => s.writes),
            name,
          ).value;
        assert.deepEqual(
          [
            'price',
            'count',
            'again',
            'doubled',
            'big',
            'least',
            'small',
            'tiny',
            'letter',
            'accented',
            'flag',
            'ratio',
            'negativeZero',
            'nothing',
          ].map((name) => [name, written(name)]),
          [
            ['price', '0.3408'], // a Double handed back by HashMap.get
            ['count', '1000'], // an Integer read back from a List
            ['again', '1000'],
            ['doubled', '2000'],
            ['big', '1099511627776'],
            ['least', '-9223372036854775808'],
            ['small', '-300'],
            ['tiny', '-3'],
            ['letter', 'x'],
            ['accented', '\u00e9'],
            ['flag', 'true'],
            ['ratio', '1.5'],
            ['negativeZero', '-0.0'],
            ['nothing', 'null'],
          ],
        );
        const twice = run.steps.find((s) => s.method === 'twice')!;
        assert.equal(access(twice.writes, 'n').value, '1000', 'a boxed argument');
        assert.equal(twice.returnValue, '2000', 'a boxed return value');
        const elements = main.flatMap((s) => s.writes).filter((w) => w.kind === 'array');
        assert.deepEqual(
          elements.map((w) => [w.name, w.value]),
          [
            ['[0]', 'y'],
            ['[1]', '2.5'],
            ['[2]', 'false'],
          ],
        );
        assert.equal(written('fixtures.Boxes.shared'), '1000', 'a boxed static field');
        const seen = run.steps.find((s) => s.thread === 'reader' && s.method === 'readShared')!;
        assert.equal(access(seen.writes, 'seen').value, '1000', 'the box, in another thread');
      });
    }

    it("travel at a thread's first use: each thread's stream carries the values it uses", () => {
      const run = runWithAgent({ classPath: compileFixtures(), mainClass: BOXES });
      const bytes = readFileSync(run.tracePath);
      const threadId = (name: string) => run.batch.threads.find((t) => t.name === name)!.id;
      const reader = countRefs(withoutEventsOf(bytes, threadId('main')));
      const seen = reader.steps.find((s) => s.method === 'readShared')!;
      assert.equal(access(seen.writes, 'seen').value, '1000', 'decoded without the main thread');
      const main = countRefs(withoutEventsOf(bytes, threadId('reader')));
      // The box `count` refers to: declared with its value in each thread, then known by id.
      for (const [thread, refs] of [
        ['main', main],
        ['reader', reader],
      ] as const) {
        const box = refs.uses.get('1000')!;
        assert.ok(box.declarations >= 1, `${thread} declares the box`);
        assert.ok(box.declarations < box.uses, `${thread}: ${JSON.stringify(box)}`);
      }
    });
  });

  describe('relations', () => {
    it('control and data dominators of Loops match the hand-worked example', () => {
      const run = runWithAgent({ classPath: compileFixtures(), mainClass: 'fixtures.Loops' });
      const { steps, decoder } = decodeTrace(readFileSync(run.tracePath));
      const relations = computeRelations(steps, decoder.methodTable());
      const line = (i: number) => (i < 0 ? -1 : steps[i].line);
      const at = (ln: number, nth: number) =>
        steps.indexOf(steps.filter((s) => s.line === ln)[nth]);
      // `continue` (line 9) runs because `if (i % 2 == 0)` (line 8) was true.
      assert.equal(line(relations.controlDominator[at(9, 0)]), 8);
      assert.equal(relations.controlDominator[at(9, 0)], at(8, 0));
      // `sum += i` (14) is controlled by `if (i > 7)` (11), itself by line 8, itself by the loop.
      assert.equal(relations.controlDominator[at(14, 0)], at(11, 0));
      assert.equal(relations.controlDominator[at(11, 0)], at(8, 1));
      assert.equal(line(relations.controlDominator[at(8, 1)]), 7);
      // `break` (12) is controlled by the last `if (i > 7)`; code after the loop by nothing.
      assert.equal(relations.controlDominator[at(12, 0)], at(11, 4));
      assert.equal(relations.controlDominator[at(16, 0)], -1);
      // The while condition (17) depends on its previous evaluation; `n--` (18) on it.
      assert.equal(relations.controlDominator[at(17, 1)], at(17, 0));
      assert.equal(relations.controlDominator[at(18, 1)], at(17, 1));
      // Data: first `sum += i` reads sum from line 6 and i from the update on line 7.
      assert.deepEqual([...relations.dataDominators[at(14, 0)]].map(line).sort(), [6, 7]);
      assert.ok(relations.dataDominators[at(14, 0)].includes(at(6, 0)));
      // Second `sum += i` reads sum from the first one.
      assert.ok(relations.dataDominators[at(14, 1)].includes(at(14, 0)));
      // The println (20) reads sum from the last `sum += i` and n from the last `n--`.
      const print = relations.dataDominators[at(20, 0)];
      assert.ok(print.includes(at(14, 3)) && print.includes(at(18, 2)));
    });

    it('a catch block depends on the exception that led there (Exceptions)', () => {
      const run = runWithAgent({ classPath: compileFixtures(), mainClass: 'fixtures.Exceptions' });
      const { steps, decoder } = decodeTrace(readFileSync(run.tracePath));
      const relations = computeRelations(steps, decoder.methodTable());
      const controller = (i: number) => steps[relations.controlDominator[i]];
      // catchIt(5): depth3 throws (line 7), withFinally's finally block catches it (line 22) and
      // rethrows it (javac puts the rethrow on the block's closing line, 23), catchIt's handler
      // (line 30) catches it.
      const finallyEntry = steps.findIndex((s) => s.method === 'withFinally' && s.caught);
      assert.deepEqual(
        [controller(finallyEntry).method, controller(finallyEntry).line],
        ['depth3', 7],
      );
      const handler = steps.findIndex((s) => s.method === 'catchIt' && s.caught);
      assert.equal(steps[handler].line, 30);
      assert.deepEqual([controller(handler).method, controller(handler).line], ['withFinally', 23]);
      assert.ok(controller(handler).thrown, 'the rethrow in the finally block');
      // The rest of the catch block is controlled by entering it.
      const message = steps.findIndex((s, i) => i > handler && s.line === 31);
      assert.equal(relations.controlDominator[message], handler);
      assert.equal(
        relations.controlDominator[steps.findIndex((s, i) => i > handler && s.line === 32)],
        handler,
      );
    });

    it('invocation parents and step-over links follow the call structure', () => {
      const run = runWithAgent({ classPath: compileFixtures(), mainClass: 'fixtures.Recursion' });
      const { steps, decoder } = decodeTrace(readFileSync(run.tracePath));
      const relations = computeRelations(steps, decoder.methodTable());
      const callSite = steps.findIndex((s) => s.method === 'main' && s.line === 17);
      const firstFactorial = callSite + 1;
      assert.equal(steps[firstFactorial].method, 'factorial');
      assert.equal(relations.invocationParent[firstFactorial], callSite);
      assert.equal(relations.stepInNext[callSite], firstFactorial);
      // Stepping over the call lands on the caller again (the assignment of f), then line 18.
      const over = relations.stepOverNext[callSite];
      assert.equal(steps[over].method, 'main');
      assert.equal(relations.stepOverPrevious[over], callSite);
      // Recursive frame: its parent is the `return n * factorial(n - 1)` step of the outer one.
      const inner = steps.findIndex(
        (s, i) => i > firstFactorial && s.method === 'factorial' && s.line === 6,
      );
      assert.equal(steps[relations.invocationParent[inner]].line, 9);
      assert.equal(steps[relations.invocationParent[inner]].depth, steps[inner].depth - 1);
    });
  });
});
