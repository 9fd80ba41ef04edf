// Feedback on a run reopened from a session sees the same steps, dependencies and derived flows
// (arguments, returned values, library state) as debug-sim's freshly decoded trace of the same
// recording: the editor's search is not the weaker one.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTrace } from '../../../src/extension/jvm/decoder';
import { buildMemoryTrace } from '../../../src/extension/jvm/debugging/memoryTrace';
import { feedbackTraceView } from '../../../src/extension/jvm/debugging/sessionFlows';
import type { TraceStep, TraceView } from '../../../src/extension/jvm/debugging/traceView';
import { ingestTraceFile } from '../../../src/extension/jvm/record';
import { JvmTraceReader } from '../../../src/extension/jvm/traceReader';
import { SessionStore } from '../../../src/extension/store/sessionStore';
import { AGENT_JAR, ensureAgentBuilt, FIXTURES_DIR } from './harness';

const CORPUS = join(FIXTURES_DIR, 'bugs');

describe('feedback view of a stored run (real JVM)', function () {
  this.timeout(120_000);
  let classes = '';
  let dir = '';

  before(() => {
    ensureAgentBuilt();
    dir = mkdtempSync(join(tmpdir(), 'bathy-session-flows-'));
    classes = join(dir, 'classes');
    const build = spawnSync('bash', [join(CORPUS, 'build.sh'), classes], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
  });

  /** Records NAME's buggy version once to a trace file; both views are built from it. */
  const record = (name: string): string => {
    const traceFile = join(dir, `${name}.bstr`);
    const run = spawnSync(
      'java',
      [`-javaagent:${AGENT_JAR}=file=${traceFile}`, '-cp', join(classes, 'buggy'), `${name}.Main`],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    return traceFile;
  };

  const sourceLine = (name: string) => {
    const lines = readFileSync(join(CORPUS, name, 'buggy', name, 'Main.java'), 'utf8').split('\n');
    return (_: string, line: number) => lines[line - 1];
  };

  const comparable = (step: TraceStep) => ({
    at: `${step.className}.${step.method}:${step.line}`,
    reads: step.reads.map((r) => [r.kind, r.name, r.owner, r.value, r.writer?.order]),
    writes: step.writes.map((w) => [w.kind, w.name, w.owner, w.value]),
    control: step.controlDominator?.order,
    parent: step.invocationParent?.order,
  });

  for (const name of ['doubler', 'grades', 'csvsum', 'stock']) {
    it(`matches the decoded trace step for step (${name})`, async () => {
      const traceFile = record(name);
      const { steps, decoder } = decodeTrace(readFileSync(traceFile));
      const memory = buildMemoryTrace(steps, decoder.methodTable(), {
        sourceLine: sourceLine(name),
      });
      const store = await SessionStore.open(join(dir, `${name}.bathy`), {
        create: true,
        flushIntervalMs: 0,
      });
      try {
        const { runId } = await ingestTraceFile(store, traceFile, { target: `${name}.Main` });
        const stored = feedbackTraceView(new JvmTraceReader(store, runId), {
          sourceLine: sourceLine(name),
        });
        assert.equal(stored.withFlows, true);
        const derived = compareAll(memory.steps, stored.view, comparable);
        assert.ok(derived > 0, 'the run has derived flows to compare');
      } finally {
        await store.close();
      }
    });
  }

  it('sees the code behind the run as debug-sim does: lines, decisions and source (loom)', async () => {
    const traceFile = record('loom');
    const { steps, decoder } = decodeTrace(readFileSync(traceFile));
    const memory = buildMemoryTrace(steps, decoder.methodTable(), {
      sourceLine: sourceLine('loom'),
    });
    const store = await SessionStore.open(join(dir, 'loom.bathy'), {
      create: true,
      flushIntervalMs: 0,
    });
    try {
      const { runId } = await ingestTraceFile(store, traceFile, { target: 'loom.Main' });
      const stored = feedbackTraceView(new JvmTraceReader(store, runId), {
        sourceLine: sourceLine('loom'),
      }).view;
      const [mine, theirs] = [stored.code!, memory.code!];
      const lines = theirs.lines('loom.Main', 'selvedgeFaults');
      assert.ok(lines.length > 5);
      assert.deepEqual(mine.lines('loom.Main', 'selvedgeFaults'), lines);
      for (const line of lines) {
        assert.deepEqual(
          mine.guardsOfLine('loom.Main', 'selvedgeFaults', line),
          theirs.guardsOfLine('loom.Main', 'selvedgeFaults', line),
        );
      }
      // faults.add(...) runs only when `if (streak == 3)` on the line above lets it.
      assert.equal(mine.guardsOfLine('loom.Main', 'selvedgeFaults', 68)[0], 67);
      assert.match(mine.sourceLine('loom.Main', 68) ?? '', /faults\.add\(/);
    } finally {
      await store.close();
    }
  });

  it('leaves a run above the size bound to the stored dependencies', async () => {
    const traceFile = record('doubler');
    const store = await SessionStore.open(join(dir, 'bound.bathy'), {
      create: true,
      flushIntervalMs: 0,
    });
    try {
      const { runId } = await ingestTraceFile(store, traceFile, { target: 'doubler.Main' });
      const reader = new JvmTraceReader(store, runId);
      const { view, withFlows } = feedbackTraceView(reader, { maxSteps: 10 });
      assert.equal(withFlows, false);
      // The code behind the run is known all the same (from the session's declared methods).
      assert.ok((view.code?.lines('doubler.Main', 'main').length ?? 0) > 0, 'declared lines');
      const first = view.step({ threadId: reader.threads()[0].threadId, order: 1 });
      assert.ok(first && first.reads.every((r) => r.kind !== 'library'));
    } finally {
      await store.close();
    }
  });
});

/** Compares every step; returns how many reads were derived (library, return, arguments). */
function compareAll(
  expected: readonly TraceStep[],
  actual: TraceView,
  comparable: (step: TraceStep) => unknown,
): number {
  let derived = 0;
  for (const step of expected) {
    const got = actual.step(step);
    assert.ok(got, `step ${step.threadId}:${step.order} is missing`);
    assert.deepEqual(comparable(got), comparable(step), `step ${step.threadId}:${step.order}`);
    derived += step.reads.filter(
      (r) => r.kind === 'library' || r.kind === 'return' || r.name.endsWith('(argument)'),
    ).length;
  }
  return derived;
}
