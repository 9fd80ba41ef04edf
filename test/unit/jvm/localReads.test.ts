// Local reads recorded without their value (READ_LOCAL_AS_WRITTEN): both decoders fill the value
// in from the frame's last write of the variable, and the agent leaves a value out only where
// that gives the value the program read. The agent's check: the same program recorded with every
// local read valued (`localReadValues=all`) must decode to the same steps and values.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteWriter } from '../../../src/extension/jvm/chunkCodec';
import type { JvmStep } from '../../../src/extension/jvm/decoder';
import {
  Chunk,
  Decl,
  FORMAT_VERSION,
  MAGIC,
  METHOD_STATIC,
  Tag,
  UNKNOWN_LOCAL_VALUE,
  WellKnownType,
} from '../../../src/extension/jvm/format';
import { decodeBoth, type PlainStep } from './bothDecoders';
import {
  compileFixtures,
  ensureAgentBuilt,
  FIXTURE_PROGRAMS,
  FIXTURES_DIR,
  javaBin,
  JDK17,
  JDK25,
  runWithAgent,
} from './harness';

// ---- a hand-written stream --------------------------------------------------------------------

const METHOD = 1;
/** Variables of the method: x (I), name (String), d (D), fillers, and far (J) at index 33. */
const VARIABLES: [string, string][] = [
  ['x', 'I'],
  ['name', 'Ljava/lang/String;'],
  ['d', 'D'],
  ...Array.from({ length: 30 }, (_, k): [string, string] => [`filler${k}`, 'I']),
  ['far', 'J'],
];
const FAR = VARIABLES.length - 1;

/** A stream of one thread running `count` (static, lines 10-12) with the given events. */
function stream(events: (e: ByteWriter) => void, version = FORMAT_VERSION): Uint8Array {
  const out = new ByteWriter();
  for (const b of MAGIC) out.u8(b);
  out.u8(version);
  const d = new ByteWriter();
  d.u8(Decl.Class);
  d.varint(1);
  d.string('demo.Reads');
  d.string('Reads.java');
  d.u8(Decl.Method);
  d.varint(METHOD);
  d.varint(1);
  d.string('count');
  d.string('(I)I');
  d.varint(METHOD_STATIC);
  d.varint(3);
  for (const line of [10, 11, 12]) d.varint(line);
  d.varint(VARIABLES.length);
  for (const [name, descriptor] of VARIABLES) {
    d.string(name);
    d.string(descriptor);
  }
  d.varint(0); // no branches
  d.u8(Decl.Thread);
  d.varint(1);
  d.string('main');
  d.u8(1);
  d.string('run/1');
  chunk(out, Chunk.Declarations, d);
  const e = new ByteWriter();
  e.varint(1); // thread
  e.u8(0); // flags
  events(e);
  chunk(out, Chunk.Events, e);
  const end = new ByteWriter();
  end.varint(0);
  chunk(out, Chunk.End, end);
  return out.view().slice();
}

function chunk(out: ByteWriter, kind: number, payload: ByteWriter): void {
  out.u8(kind);
  out.varint(payload.length);
  out.append(payload.view());
}

const line = (e: ByteWriter, index: number) => e.u8(Tag.Line + index);
const writeInt = (e: ByteWriter, variable: number, value: number) => {
  e.u8(Tag.WriteLocal | variable);
  e.zigzag(value);
};
const readAsWritten = (e: ByteWriter, variable: number) => {
  if (variable < 32) {
    e.u8(Tag.ReadLocalAsWritten | variable);
  } else {
    e.u8(Tag.ReadLocalAsWrittenExt);
    e.varint(variable);
  }
};
const returnInt = (e: ByteWriter, value: number) => {
  e.u8(Tag.Return);
  e.zigzag(value);
};

/** Both decoders give the same steps and no errors; returns the steps. */
function decodeAgreeing(bytes: Uint8Array): PlainStep[] {
  const decoded = decodeBoth([bytes]);
  assert.deepEqual(decoded.new, decoded.old);
  assert.deepEqual(decoded.newErrors, decoded.oldErrors);
  return decoded.old;
}

const local = (name: string, value: string) => `local ${name} - = ${value}`;

// ---- real programs -----------------------------------------------------------------------------

/**
 * Object ids depend on identity hashes, so they differ from run to run: numbered by first use.
 * Names of hidden classes (lambdas) carry an address: left out.
 */
function withObjectsNumberedByFirstUse(steps: JvmStep[]): string[] {
  const numbers = new Map<string, number>();
  const number = (id: string) => {
    if (!numbers.has(id)) numbers.set(id, numbers.size + 1);
    return `#${numbers.get(id)}`;
  };
  return steps.map((step) =>
    JSON.stringify(step)
      .replace(/\/0x[0-9a-f]+@/g, '/0x@')
      .replace(/@(\d+)/g, (_, id: string) => `@${number(id)}`)
      .replace(/"(A|F)(\d+)([.[])/g, (_, kind: string, id: string, next: string) => {
        return `"${kind}${number(id)}${next}`;
      })
      .replace(/"ownerId":(\d+)/g, (_, id: string) => `"ownerId":"${number(id)}"`),
  );
}

/**
 * Records the program twice, with the agent's default (reads it proves known go without value)
 * and with every local read valued; the decoded steps must be equal, and the default smaller.
 */
function assertSameAsAllValued(classPath: string, mainClass: string, jdk = JDK17): JvmStep[] {
  const proved = runWithAgent({ jdk, classPath, mainClass });
  const valued = runWithAgent({ jdk, classPath, mainClass, agentOptions: 'localReadValues=all' });
  for (const run of [proved, valued]) {
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.batch.errors, []);
    assert.ok(run.batch.ended);
  }
  assert.equal(proved.stdout, valued.stdout);
  assert.ok(proved.steps.length > 10, `${proved.steps.length} steps`);
  assert.deepEqual(
    withObjectsNumberedByFirstUse(proved.steps),
    withObjectsNumberedByFirstUse(valued.steps),
  );
  assert.ok(
    proved.bytes < valued.bytes,
    `reads went without value: ${proved.bytes} < ${valued.bytes} bytes`,
  );
  return proved.steps;
}

/** Compiles LocalSlots alone with the given javac debug option (e.g. no LocalVariableTable). */
function compileLocalSlots(jdk: string, release: number, debug: string): string {
  const out = mkdtempSync(join(tmpdir(), 'bathy-local-slots-'));
  const source = join(FIXTURES_DIR, 'fixtures/LocalSlots.java');
  const result = spawnSync(
    javaBin(jdk, 'javac'),
    [debug, '--release', String(release), '-d', out, source],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`javac failed:\n${result.stderr}`);
  return out;
}

const ASM_JAR = '/usr/share/java/asm.jar';

/** Compiles and runs SlotShapesGenerator; returns the directory holding SlotShapes.class. */
function generateSlotShapes(): string {
  const out = mkdtempSync(join(tmpdir(), 'bathy-slot-shapes-'));
  const source = join(FIXTURES_DIR, 'slots/SlotShapesGenerator.java');
  const steps: [string, string[]][] = [
    ['javac', ['-cp', ASM_JAR, '-d', out, source]],
    ['java', ['-cp', `${out}:${ASM_JAR}`, 'SlotShapesGenerator', out]],
  ];
  for (const [tool, args] of steps) {
    const result = spawnSync(javaBin(JDK17, tool), args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${tool} failed:\n${result.stderr}`);
  }
  return out;
}

function readsIn(steps: JvmStep[], method: string, line: number, name: string): string[] {
  return steps
    .filter((s) => s.method === method && s.line === line)
    .flatMap((s) => s.reads.filter((r) => r.kind === 'local' && r.name === name))
    .map((r) => r.value);
}

describe('JVM local reads without values', function () {
  this.timeout(120_000);

  describe('decoders', () => {
    it('fill a read in from the last write of the variable in its own frame', () => {
      const steps = decodeAgreeing(
        stream((e) => {
          e.u8(Tag.Enter);
          e.varint(METHOD);
          writeInt(e, 0, 5); // the argument
          line(e, 0);
          readAsWritten(e, 0);
          e.u8(Tag.WriteLocal | 1);
          e.varint(7 * 2 + 1); // first use of object 7, a string
          e.varint(WellKnownType.String);
          e.varint(2);
          e.string('hi');
          e.u8(Tag.WriteLocal | 2);
          for (const byte of new Uint8Array(new Float64Array([1.5]).buffer)) e.u8(byte);
          e.u8(Tag.WriteLocalExt);
          e.varint(FAR);
          e.varint(5); // zigzag(-3) as a long
          line(e, 1);
          readAsWritten(e, 1);
          readAsWritten(e, 2);
          readAsWritten(e, FAR);
          e.u8(Tag.Enter); // a recursive call has an x of its own
          e.varint(METHOD);
          writeInt(e, 0, 6);
          line(e, 0);
          readAsWritten(e, 0);
          returnInt(e, 6);
          line(e, 2);
          readAsWritten(e, 0);
          writeInt(e, 0, 8);
          readAsWritten(e, 0);
          returnInt(e, 8);
        }),
      );
      assert.deepEqual(
        steps.map((s) => [s.line, s.reads]),
        [
          [10, [local('x', '5')]],
          [11, [local('name', '"hi"'), local('d', '1.5'), local('far', '-3')]],
          [10, [local('x', '6')]],
          [12, [local('x', '5'), local('x', '8')]],
        ],
      );
    });

    it(`after a GAP, a variable not written since reads as ${UNKNOWN_LOCAL_VALUE}`, () => {
      const steps = decodeAgreeing(
        stream((e) => {
          e.u8(Tag.Enter);
          e.varint(METHOD);
          writeInt(e, 0, 5);
          line(e, 0);
          e.u8(Tag.Gap); // the frame's write of x was in the lost events
          e.varint(1);
          e.varint(1);
          e.varint(METHOD);
          line(e, 1);
          readAsWritten(e, 0);
          writeInt(e, 0, 9);
          line(e, 2);
          readAsWritten(e, 0);
          returnInt(e, 9);
        }),
      );
      assert.deepEqual(
        steps.map((s) => [s.line, s.reads]),
        [
          [10, []],
          [11, [local('x', UNKNOWN_LOCAL_VALUE)]],
          [12, [local('x', '9')]],
        ],
      );
    });

    it('refuse a stream of another format version as a whole, saying which they read', () => {
      const decoded = decodeBoth([stream((e) => line(e, 0), 1)]);
      assert.deepEqual(decoded.old, []);
      assert.deepEqual(decoded.new, []);
      for (const errors of [decoded.oldErrors, decoded.newErrors]) {
        assert.equal(errors.length, 1);
        assert.ok(
          errors[0].startsWith(
            `unsupported-version format version 1: only version ${FORMAT_VERSION} is read`,
          ),
          errors[0],
        );
      }
    });
  });

  describe('agent: the same steps and values as with every local read valued', () => {
    before(function () {
      this.timeout(300_000);
      ensureAgentBuilt();
    });

    it('LocalSlots: slot reuse, parameters, iinc, loops, catch variables, switch arms', () => {
      const steps = assertSameAsAllValued(compileFixtures(), 'fixtures.LocalSlots');
      // handler(): attempts++ ran inside the try before the exception; the catch block reads 1.
      assert.deepEqual(readsIn(steps, 'handler', 64, 'attempts'), ['1']);
      assert.deepEqual(readsIn(steps, 'handler', 64, 'message'), [
        '"Index 3 out of bounds for length 2"',
      ]);
      // sumTo(5): `total += i` reads the running total and the loop variable.
      assert.deepEqual(readsIn(steps, 'sumTo', 31, 'i'), ['1', '2', '3', '4', '5']);
      assert.deepEqual(readsIn(steps, 'sumTo', 31, 'total'), ['0', '1', '3', '6', '10']);
      // scopes(7): the slot of `a` holds a double `b` and then a String `c`.
      assert.deepEqual(readsIn(steps, 'scopes', 44, 'b'), ['1.75']);
      assert.deepEqual(readsIn(steps, 'scopes', 48, 'c'), ['"s7"']);
      assert.deepEqual(readsIn(steps, 'scopes', 51, 'seed'), ['8']);
      // Doubled(20): x was doubled before super(), where the write is not recorded.
      assert.deepEqual(readsIn(steps, '<init>', 24, 'x'), ['40']);
    });

    it('a slot renamed without a store (bytecode javac never emits)', () => {
      const steps = assertSameAsAllValued(generateSlotShapes(), 'SlotShapes');
      assert.deepEqual(readsIn(steps, 'renamed', 11, 'a'), ['5']);
      assert.deepEqual(readsIn(steps, 'renamed', 12, 'b'), ['5']);
      assert.deepEqual(readsIn(steps, 'merged', 23, 'x'), ['1', '2']);
    });

    it('LocalSlots compiled without local variable tables (slotN names)', () => {
      assertSameAsAllValued(compileLocalSlots(JDK17, 17, '-g:source,lines'), 'fixtures.LocalSlots');
    });

    // Threads interleave differently from run to run: its two recordings are not comparable.
    for (const fixture of FIXTURE_PROGRAMS.filter((name) => name !== 'Threads')) {
      it(fixture, () => assertSameAsAllValued(compileFixtures(), `fixtures.${fixture}`));
    }

    describe('Temurin 25, classes compiled for 25', function () {
      before(function () {
        if (!existsSync(JDK25)) this.skip();
      });
      it('LocalSlots', () => {
        assertSameAsAllValued(compileFixtures(JDK25, 25), 'fixtures.LocalSlots', JDK25);
      });
      it('Exceptions', () => {
        assertSameAsAllValued(compileFixtures(JDK25, 25), 'fixtures.Exceptions', JDK25);
      });
    });
  });
});
