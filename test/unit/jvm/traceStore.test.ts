// JVM traces in session files: recording through the CLI as a real process, exporting, reading
// back with JvmTraceReader, several threads, cancellation, and chunk boundaries on a large
// synthetic trace. The in-memory relations pass (computeRelations) is the reference the stored
// relations must equal.

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeRelations } from '../../../src/extension/jvm/relations';
import { decodeTrace, type JvmStep } from '../../../src/extension/jvm/decoder';
import { CHUNK_STEPS } from '../../../src/extension/jvm/chunkCodec';
import { recordJavaProgram } from '../../../src/extension/jvm/record';
import { JvmTraceReader, type JvmStoredStep } from '../../../src/extension/jvm/traceReader';
import { JvmTraceWriter } from '../../../src/extension/jvm/traceWriter';
import { SessionStore } from '../../../src/extension/store/sessionStore';
import { CLI, ensureBuilt, runCli } from '../../support/cli';
import { compileFixtures, ensureAgentBuilt, javaBin, JDK17, REPO, runWithAgent } from './harness';
import type { JvmStepExportRecord } from '../../../src/extension/jvm/traceReader';
import { SyntheticTrace, syntheticDeclarations } from './syntheticTrace';

/** A line of `bathysphere export --format jsonl` for a JVM step. */
type StepLine = JvmStepExportRecord;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'bathy-jvm-store-'));
}

function exportSteps(session: string): StepLine[] {
  const result = runCli(['export', session, '--format', 'jsonl']);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as StepLine)
    .filter((record) => record.type === 'step');
}

function recordFixture(fixture: string, session: string, extra: string[] = []) {
  const classes = compileFixtures();
  return runCli(
    [
      'java',
      'record',
      '--out',
      session,
      ...extra,
      '--',
      javaBin(JDK17),
      '-cp',
      classes,
      `fixtures.${fixture}`,
    ],
    { timeoutMs: 90_000 },
  );
}

/** The exported steps must equal the file-sink trace decoded in memory with its relations. */
function compareWithReference(fixture: string, exported: StepLine[]): void {
  const reference = runWithAgent({
    classPath: compileFixtures(),
    mainClass: `fixtures.${fixture}`,
  });
  const { steps, decoder } = decodeTrace(readFileSync(reference.tracePath));
  const relations = computeRelations(steps, decoder.methodTable());
  const orderOf = (i: number) => (i < 0 ? null : steps[i].order);
  assert.equal(exported.length, steps.length, 'same number of steps');
  // Object ids are numbered by first use in each JVM: compare them by order of appearance.
  const canonicalRefs = () => {
    const seen = new Map<string, number>();
    return (text: string) =>
      text.replace(/@(\d+)$/, (_, id: string) => {
        if (!seen.has(id)) seen.set(id, seen.size + 1);
        return `@#${seen.get(id)}`;
      });
  };
  const canonicalExpected = canonicalRefs();
  const canonicalGot = canonicalRefs();
  const byKey = new Map(exported.map((s) => [`${s.thread}:${s.order}`, s]));
  steps.forEach((expected: JvmStep, i) => {
    const got = byKey.get(`${expected.thread}:${expected.order}`);
    assert.ok(got, `step ${expected.thread}:${expected.order} exported`);
    const where = `${fixture} ${expected.thread}:${expected.order}`;
    assert.equal(got.class, expected.className, where);
    assert.equal(got.method, expected.method, where);
    assert.equal(got.line, expected.line, where);
    const canonical = (list: StepLine['reads'], rename: (text: string) => string) =>
      list.map((a) => ({
        kind: a.kind,
        name: a.name,
        ...(a.owner ? { owner: rename(a.owner) } : {}),
        value: rename(a.value),
      }));
    const plain = (list: JvmStep['reads']) =>
      list.map((a) => ({
        kind: a.kind,
        name: a.name,
        ...(a.owner ? { owner: a.owner } : {}),
        value: a.value,
      }));
    assert.deepEqual(
      canonical(got.reads, canonicalGot),
      canonical(plain(expected.reads), canonicalExpected),
      `${where} reads`,
    );
    assert.deepEqual(
      canonical(got.writes, canonicalGot),
      canonical(plain(expected.writes), canonicalExpected),
      `${where} writes`,
    );
    const returned = (value: string | undefined, rename: (text: string) => string) =>
      value === undefined ? undefined : rename(value);
    assert.equal(
      returned(got.returnValue, canonicalGot),
      returned(expected.returnValue, canonicalExpected),
      `${where} return value`,
    );
    assert.equal(got.controlDominator, orderOf(relations.controlDominator[i]), `${where} control`);
    assert.equal(got.invocationParent, orderOf(relations.invocationParent[i]), `${where} parent`);
    const dominators = [...relations.dataDominators[i]].map(
      (d) => `${steps[d].thread}:${steps[d].order}`,
    );
    assert.deepEqual(
      got.dataDominators.map((d) => `${d.thread}:${d.order}`).sort(),
      dominators.sort(),
      `${where} data dominators`,
    );
  });
}

describe('JVM traces in sessions', function () {
  this.timeout(120_000);

  before(function () {
    this.timeout(300_000);
    ensureAgentBuilt();
    ensureBuilt();
  });

  describe('recorded through the CLI', () => {
    for (const fixture of ['Loops', 'Values', 'Calls', 'Recursion', 'Arrays', 'Exceptions']) {
      it(`${fixture}: exported steps, values and relations equal the in-memory reference`, () => {
        const session = join(tempDir(), 'run.bathy');
        const recorded = recordFixture(fixture, session);
        assert.equal(recorded.code, 0, recorded.stderr);
        assert.match(
          recorded.stdout,
          /recorded run 1 into .*: \d+ step\(s\), 1 thread\(s\); the program exited with code 0/,
        );
        compareWithReference(fixture, exportSteps(session));
      });
    }

    it('Values: primitives, strings, fields and statics print as Java prints them', () => {
      const session = join(tempDir(), 'values.bathy');
      assert.equal(recordFixture('Values', session).code, 0);
      const steps = exportSteps(session);
      const written = (name: string) =>
        steps.flatMap((s) => s.writes).find((w) => w.name === name)?.value;
      assert.equal(written('big'), String(2 ** 40));
      assert.equal(written('f'), '1.5');
      assert.equal(written('d'), '0.30000000000000004');
      assert.equal(written('c'), 'x');
      assert.equal(written('flag'), 'true');
      assert.equal(written('s'), '"hi\\n"');
      assert.equal(written('tiny'), '1.0E-5');
      assert.equal(written('nothing'), 'null');
      assert.match(written('p') ?? '', /^fixtures\.Values\$Point@\d+$/);
      const x = steps.flatMap((s) => s.writes).find((w) => w.kind === 'field' && w.name === 'x');
      assert.equal(x?.value, '5');
      assert.equal(x?.owner, written('p'));
      const statics = steps.flatMap((s) => s.writes).filter((w) => w.kind === 'static');
      assert.deepEqual(
        statics.map((w) => [w.name, w.value]),
        [
          ['fixtures.Values.counter', '7'],
          ['fixtures.Values.counter', '8'],
        ],
      );
    });

    it('Boxes: boxed primitives print as the value they hold, as String.valueOf prints them', () => {
      const session = join(tempDir(), 'boxes.bathy');
      const recorded = recordFixture('Boxes', session);
      assert.equal(recorded.code, 0, recorded.stderr);
      const steps = exportSteps(session);
      const written = (name: string) =>
        steps.flatMap((s) => s.writes).find((w) => w.name === name)?.value;
      assert.deepEqual(
        ['price', 'count', 'least', 'letter', 'accented', 'flag', 'ratio', 'nothing'].map(written),
        ['0.3408', '1000', '-9223372036854775808', 'x', '\u00e9', 'true', '1.5', 'null'],
      );
      const reader = steps.find((s) => s.thread === 'reader' && s.method === 'readShared');
      assert.equal(reader?.writes.find((w) => w.name === 'seen')?.value, '1000');
      compareWithReference('Boxes', steps);
    });

    it('several threads: one run, each thread with its own orders; info shows the counts', () => {
      const session = join(tempDir(), 'threads.bathy');
      const recorded = recordFixture('Threads', session);
      assert.equal(recorded.code, 0, recorded.stderr);
      assert.match(recorded.stdout, /4 thread\(s\)/);
      const steps = exportSteps(session);
      const threads = [...new Set(steps.map((s) => s.thread))].sort();
      assert.deepEqual(threads, ['main', 'worker-0', 'worker-1', 'worker-2']);
      for (const thread of threads) {
        const orders = steps.filter((s) => s.thread === thread).map((s) => s.order);
        assert.deepEqual(
          orders,
          orders.map((_, i) => i + 1),
          `orders of ${thread}`,
        );
      }
      for (let seed = 0; seed < 3; seed++) {
        const ret = steps.find(
          (s) => s.thread === `worker-${seed}` && s.method === 'work' && s.returnValue,
        );
        assert.equal(ret?.returnValue, String(((seed * 2 + 0) * 2 + 1) * 2 + 2));
      }
      const info = runCli(['info', session]);
      assert.match(info.stdout, new RegExp(`${steps.length} step\\(s\\) in 4 thread\\(s\\)`));
      const json = JSON.parse(runCli(['info', '--json', session]).stdout);
      assert.equal(json.runs[0].jvm.steps, steps.length);
    });

    it('reports the program exit code, keeps recording runs apart, and rejects bad usage', () => {
      const dir = tempDir();
      const source = join(dir, 'src/demo/Fails.java');
      mkdirSync(join(dir, 'src/demo'), { recursive: true });
      writeFileSync(
        source,
        'package demo;\npublic class Fails {\n  public static void main(String[] a) {\n    int x = 41;\n    System.exit(x + 1);\n  }\n}\n',
      );
      const classes = join(dir, 'classes');
      const javac = runProcess(javaBin(JDK17, 'javac'), ['-g', '-d', classes, source]);
      assert.equal(javac, 0);
      const session = join(dir, 'fails.bathy');
      for (const expectedRun of [1, 2]) {
        const result = runCli([
          'java',
          'record',
          '--out',
          session,
          '--',
          javaBin(JDK17),
          '-cp',
          classes,
          'demo.Fails',
        ]);
        assert.equal(result.code, 0, result.stderr);
        assert.match(
          result.stdout,
          new RegExp(`recorded run ${expectedRun} .*exited with code 42`),
        );
      }
      const runs = JSON.parse(runCli(['info', '--json', session]).stdout).runs;
      assert.equal(runs.length, 2);
      assert.equal(runs[1].metadata.exitCode, 42);
      assert.equal(runs[1].metadata.jvm.javaVersion.split('.')[0], '17');
      assert.equal(runCli(['java', 'record', '--', 'java', 'X']).code, 2, 'no --out');
      assert.equal(runCli(['java', 'record', '--out', session]).code, 2, 'no command');
      const bad = runCli([
        'java',
        'record',
        '--out',
        session,
        '--include',
        'a,b',
        '--',
        'java',
        'X',
      ]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /bad class glob/);
      const noJava = runCli(['java', 'record', '--out', session, '--', join(dir, 'no-java'), 'X']);
      assert.equal(noJava.code, 2);
      assert.match(noJava.stderr, /cannot run/);
    });

    it('--include limits what is recorded', () => {
      const session = join(tempDir(), 'include.bathy');
      const recorded = recordFixture('InnerClasses', session, [
        '--include',
        'fixtures.InnerClasses',
      ]);
      assert.equal(recorded.code, 0, recorded.stderr);
      const classes = new Set(exportSteps(session).map((s) => s.class));
      assert.deepEqual([...classes], ['fixtures.InnerClasses']);
    });
  });

  describe('cancellation', () => {
    let classes: string;
    before(() => {
      const dir = tempDir();
      const source = join(dir, 'demo/Forever.java');
      mkdirSync(join(dir, 'demo'), { recursive: true });
      writeFileSync(
        source,
        'package demo;\npublic class Forever {\n  public static void main(String[] a) throws Exception {\n    long i = 0;\n    while (true) {\n      i++;\n      if (i % 50000 == 0) Thread.sleep(5);\n    }\n  }\n}\n',
      );
      classes = join(dir, 'classes');
      assert.equal(runProcess(javaBin(JDK17, 'javac'), ['-g', '-d', classes, source]), 0);
    });

    it('aborting the signal kills the JVM and keeps what was recorded', async () => {
      const session = join(tempDir(), 'cancel.bathy');
      const abort = new AbortController();
      const result = await recordJavaProgram({
        javaCommand: [javaBin(JDK17), '-cp', classes, 'demo.Forever'],
        sessionFile: session,
        signal: abort.signal,
        agentBaseDir: REPO,
        stdio: 'ignore',
        onProgress: ({ steps }) => {
          if (steps > 200_000) abort.abort();
        },
      });
      assert.equal(result.cancelled, true);
      assert.equal(result.exitCode, null);
      assert.ok(result.steps > 200_000, `${result.steps} steps`);
      const store = await SessionStore.open(session);
      try {
        const reader = new JvmTraceReader(store, result.runId);
        const [main] = reader.threads();
        assert.equal(main.steps, result.steps);
        const last = reader.step(main.threadId, main.steps);
        assert.ok(last && last.method === 'main' && [6, 7, 8].includes(last.line));
        assert.ok(store.run(result.runId)?.endedAt, 'the run is ended');
        assert.equal(store.run(result.runId)?.metadata.cancelled, true);
      } finally {
        await store.close();
      }
    });

    it('Ctrl-C on the CLI stops the program, keeps the steps and exits 0', async () => {
      const session = join(tempDir(), 'sigint.bathy');
      const child = spawn(
        process.execPath,
        [
          CLI,
          'java',
          'record',
          '--out',
          session,
          '--',
          javaBin(JDK17),
          '-cp',
          classes,
          'demo.Forever',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      await new Promise((resolve) => setTimeout(resolve, 2500));
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      assert.equal(code, 0);
      assert.match(stdout, /stopped \(cancelled\)/);
      const steps = Number(/: (\d+) step/.exec(stdout)?.[1]);
      assert.ok(steps > 1000, stdout);
      const json = JSON.parse(runCli(['info', '--json', session]).stdout);
      assert.equal(json.runs[0].jvm.steps, steps);
    });
  });

  describe('a reopened session answers navigation queries', () => {
    it('Recursion: step by order, step over, next execution, parents, writes of a variable', async () => {
      const session = join(tempDir(), 'nav.bathy');
      assert.equal(recordFixture('Recursion', session).code, 0);
      const exported = exportSteps(session);
      const store = await SessionStore.open(session);
      try {
        const reader = new JvmTraceReader(store, 1);
        const main = reader.threads().find((t) => t.name === 'main')!;
        for (const line of exported.filter((s) => s.thread === 'main')) {
          const step = reader.step(main.threadId, line.order)!;
          assert.equal(step.line, line.line);
          assert.equal(step.invocationParent, line.invocationParent);
        }
        assert.equal(reader.step(main.threadId, 0), undefined);
        assert.equal(reader.step(main.threadId, main.steps + 1), undefined);
        const callSite = exported.find((s) => s.method === 'main' && s.line === 17)!;
        const over = reader.stepOver(main.threadId, callSite.order, 'next')!;
        assert.equal(reader.step(main.threadId, over)!.method, 'main');
        assert.equal(reader.stepOver(main.threadId, over, 'previous'), callSite.order);
        assert.equal(reader.step(main.threadId, callSite.order + 1)!.method, 'factorial');
        const factorialLines = exported.filter((s) => s.method === 'factorial' && s.line === 6);
        const locations = reader.locationsOfLine('fixtures.Recursion', 6);
        assert.ok(locations.length >= 1);
        let at = 0;
        const visited: number[] = [];
        for (;;) {
          const next = reader.nextExecution(main.threadId, at, locations, 'next');
          if (next === undefined) break;
          visited.push(next);
          at = next;
        }
        assert.deepEqual(
          visited,
          factorialLines.map((s) => s.order),
        );
        const last = visited[visited.length - 1];
        assert.equal(
          reader.nextExecution(main.threadId, last, locations, 'previous'),
          visited[visited.length - 2],
        );
        const inner = exported.find(
          (s) => s.method === 'factorial' && s.line === 6 && s.order > callSite.order + 1,
        )!;
        assert.equal(
          reader.step(main.threadId, reader.invocationParent(main.threadId, inner.order)!)!.line,
          9,
        );
        // Writes of `n` in the outermost factorial frame: the argument write only.
        const first = reader.step(main.threadId, callSite.order + 1)!;
        const n = first.writes.find((w) => w.name === 'n')!;
        assert.deepEqual(reader.writesOf(main.threadId, first.order, n), [
          { threadId: main.threadId, order: first.order },
        ]);
      } finally {
        await store.close();
      }
    });
  });

  describe('large synthetic trace', () => {
    it('chunk boundaries, partial chunks and cross-thread relations read back exactly', async () => {
      const dir = tempDir();
      const session = join(dir, 'synthetic.bathy');
      const stepsPerThread = 3 * CHUNK_STEPS + 1234;
      const reference: JvmStep[] = [];
      let store = await SessionStore.open(session, { create: true, flushIntervalMs: 0 });
      const run = store.addRun({ targetKind: 'jvm', target: 'demo.Synthetic' });
      const writer = new JvmTraceWriter(store, run.id, syntheticDeclarations);
      let batches = 0;
      for (const batch of new SyntheticTrace(3, stepsPerThread, 700).batches(5000)) {
        reference.push(...batch.steps);
        writer.addBatch(batch);
        if (++batches % 3 === 0) writer.sealOpenChunks(); // partial chunks mid-way
      }
      writer.finish();
      await store.close();

      store = await SessionStore.open(session);
      try {
        const reader = new JvmTraceReader(store, run.id);
        assert.deepEqual(
          reader.threads().map((t) => t.steps),
          [stepsPerThread, stepsPerThread, stepsPerThread],
        );
        const chunkSizes = store
          .query<{ step_count: number }>(
            'SELECT step_count FROM jvm_chunks WHERE thread_id = 1 ORDER BY first_order',
          )
          .map((r) => r.step_count);
        assert.ok(
          chunkSizes.some((n) => n < CHUNK_STEPS) && chunkSizes.some((n) => n === CHUNK_STEPS),
          String(chunkSizes),
        );
        const relations = computeRelations(reference, syntheticDeclarations.methodTable());
        const ref = (i: number) => (i < 0 ? null : reference[i].order);
        let checked = 0;
        for (let i = 0; i < reference.length; i++) {
          const expected = reference[i];
          const got = reader.step(expected.threadId, expected.order) as JvmStoredStep;
          assert.equal(got.line, expected.line);
          assert.equal(got.seq, expected.seq);
          assert.equal(got.depth, expected.depth);
          assert.deepEqual(
            got.reads.map((r) => [r.kind, r.name, r.owner, r.value]),
            expected.reads.map((r) => [r.kind, r.name, r.owner, r.value]),
          );
          assert.deepEqual(
            got.writes.map((r) => r.value),
            expected.writes.map((r) => r.value),
          );
          assert.equal(got.invocationParent, ref(relations.invocationParent[i]));
          assert.equal(got.controlDominator, ref(relations.controlDominator[i]));
          const dominators = reader
            .dataDominators(expected.threadId, expected.order)
            .map((d) => `${d.threadId}:${d.order}`);
          const expectedDominators = [...relations.dataDominators[i]].map(
            (d) => `${reference[d].threadId}:${reference[d].order}`,
          );
          assert.deepEqual(
            dominators.sort(),
            expectedDominators.sort(),
            `dominators of ${expected.threadId}:${expected.order}`,
          );
          const over = reader.stepOver(expected.threadId, expected.order, 'next');
          const expectedOver = relations.stepOverNext[i];
          if (expectedOver >= 0) assert.equal(over, reference[expectedOver].order);
          checked++;
        }
        assert.equal(checked, 3 * stepsPerThread);
        // The array element written at iteration k is rewritten at k + 700: its history walks back.
        const mainThread = reader.threads()[0].threadId;
        const lastWrite = reader.step(mainThread, stepsPerThread - (stepsPerThread % 6) - 2)!;
        const element = lastWrite.writes.find((w) => w.kind === 'array');
        if (element) {
          const history = reader.writesOf(mainThread, lastWrite.order, element);
          assert.ok(history.length >= 2);
          for (let k = 1; k < history.length; k++)
            assert.equal(history[k - 1].order - history[k].order, 700 * 6);
        }
        // Whole-thread iteration crosses every boundary in order.
        let expectedOrder = 1;
        for (const step of reader.threadSteps(2)) assert.equal(step.order, expectedOrder++);
        assert.equal(expectedOrder, stepsPerThread + 1);
      } finally {
        await store.close();
      }
    });
  });
});

function runProcess(command: string, args: string[]): number | null {
  return spawnSync(command, args, { encoding: 'utf8' }).status;
}
