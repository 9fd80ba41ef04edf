// The Trace view's outline on a real recording: loops grouped into iterations, nested loops
// inside them, a loop left by `break`, and the budget that keeps a long loop from being read
// whole.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordJavaProgram } from '../../../src/extension/jvm/record';
import {
  bodyIterations,
  outlineIteration,
  outlineSteps,
  type OutlineEntry,
  type OutlineLoop,
} from '../../../src/extension/jvm/traceOutline';
import { JvmTraceReader } from '../../../src/extension/jvm/traceReader';
import { SessionStore } from '../../../src/extension/store/sessionStore';
import { ensureAgentBuilt, javaBin, JDK17, REPO } from './harness';

const PROGRAM = [
  'package demo;', //                               1
  'public class Nested {', //                       2
  '  public static void main(String[] a) {', //     3
  '    int s = 0;', //                              4
  '    for (int i = 0; i < 3; i++) {', //           5
  '      for (int j = 0; j < 2; j++) {', //         6
  '        s += i * j;', //                         7
  '      }', //                                     8
  '    }', //                                       9
  '    int k = 0;', //                              10
  '    while (k < 10) {', //                        11
  '      k++;', //                                  12
  '      if (k == 4) break;', //                    13
  '    }', //                                       14
  '    System.out.println(s + k);', //              15
  '  }', //                                         16
  '}', //                                           17
].join('\n');

describe('trace outline (Trace view loops, real JVM)', function () {
  this.timeout(120_000);
  let store: SessionStore;
  let reader: JvmTraceReader;
  let threadId = 0;
  let dir = '';

  before(async () => {
    ensureAgentBuilt();
    dir = mkdtempSync(join(tmpdir(), 'bathy-outline-'));
    mkdirSync(join(dir, 'demo'), { recursive: true });
    writeFileSync(join(dir, 'demo/Nested.java'), PROGRAM);
    const classes = join(dir, 'classes');
    const javac = ['-g', '-d', classes, join(dir, 'demo/Nested.java')];
    const compiled = spawnSync(javaBin(JDK17, 'javac'), javac, { encoding: 'utf8' });
    assert.equal(compiled.status, 0, compiled.stderr);
    const session = join(dir, 'nested.bathy');
    const result = await recordJavaProgram({
      javaCommand: [javaBin(JDK17), '-cp', classes, 'demo.Nested'],
      sessionFile: session,
      agentBaseDir: REPO,
      stdio: 'ignore',
    });
    store = await SessionStore.open(session);
    reader = new JvmTraceReader(store, result.runId);
    threadId = reader.threads().find((t) => t.isMain)!.threadId;
  });

  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const lineOf = (order: number) => reader.step(threadId, order)!.line;
  const describe = (entry: OutlineEntry) =>
    entry.kind === 'step' ? `${lineOf(entry.order)}` : `loop@${lineOf(entry.heads[0])}`;

  it('groups each loop of a method into one entry, in order', () => {
    const page = outlineSteps(reader, threadId, 1);
    assert.deepEqual(page.entries.map(describe), ['4', 'loop@5', '10', 'loop@11', '15', '16']);
    assert.equal(page.next, undefined);
    const [, outer, , whileLoop] = page.entries as OutlineLoop[];
    assert.equal(outer.heads.length, 4, 'i = 0, 1, 2 and the test that ends the loop');
    assert.equal(bodyIterations(outer), 3);
    assert.equal(outer.complete, true);
    // `break` leaves in the fourth iteration: no final condition run.
    assert.equal(whileLoop.heads.length, 4);
    assert.equal(bodyIterations(whileLoop), 4);
  });

  it('lists an iteration as its condition step, then its body with nested loops grouped', () => {
    const outer = outlineSteps(reader, threadId, 1).entries[1] as OutlineLoop;
    const first = outlineIteration(reader, threadId, outer, 0);
    assert.deepEqual(first.entries.map(describe), ['5', 'loop@6']);
    const inner = first.entries[1] as OutlineLoop;
    assert.equal(bodyIterations(inner), 2);
    const innerFirst = outlineIteration(reader, threadId, inner, 0);
    assert.deepEqual(innerFirst.entries.map(describe), ['6', '7']);
    const exitTest = outlineIteration(reader, threadId, outer, 3);
    assert.deepEqual(exitTest.entries.map(describe), ['5']);
  });

  it('stops reading a loop at its budget and says so', () => {
    // Eight steps after the loop's first condition run reach into its second iteration.
    const page = outlineSteps(reader, threadId, 1, undefined, { page: 100, loopBudget: 8 });
    const outer = page.entries[1] as OutlineLoop;
    assert.equal(outer.kind, 'loop');
    assert.equal(outer.complete, false);
    assert.equal(outer.heads.length, 2);
    // The rest is still reachable: the page goes on right after what the loop read (the inner
    // loop's condition, in the outer loop's second iteration).
    assert.equal(describe(page.entries[2]), '6');
    assert.equal(lineOf(outer.last), 7);
  });
});
