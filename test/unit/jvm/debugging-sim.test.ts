// debug-sim end to end on a few corpus programs: real JVM runs of both versions, alignment,
// simulated feedback. One per improvement over Microbat that it exercises.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ProgramRunError,
  simulateDebugging,
  TraceTooLongError,
  type SimulationResult,
} from '../../../src/extension/jvm/debugging/simulation';
import { AGENT_JAR, ensureAgentBuilt, FIXTURES_DIR } from './harness';

const CORPUS = join(FIXTURES_DIR, 'bugs');

describe('debug-sim on the seeded-bug corpus (real JVM)', function () {
  this.timeout(120_000);
  let classes = '';

  before(() => {
    ensureAgentBuilt();
    classes = mkdtempSync(join(tmpdir(), 'bathy-bugs-test-'));
    const build = spawnSync('bash', [join(CORPUS, 'build.sh'), classes], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
  });

  const simulate = (name: string, withoutLibraryFlows = false): SimulationResult =>
    simulateDebugging({
      buggy: { classPath: join(classes, 'buggy'), sourceRoots: [join(CORPUS, name, 'buggy')] },
      fixed: { classPath: join(classes, 'fixed'), sourceRoots: [join(CORPUS, name, 'fixed')] },
      mainClass: `${name}.Main`,
      agentJar: AGENT_JAR,
      withoutLibraryFlows,
    });

  it('follows a wrong return value into the callee (average)', () => {
    const result = simulate('average');
    assert.notEqual(result.output.buggy, result.output.fixed);
    assert.equal(result.located, true);
    assert.deepEqual(result.rootCause, { class: 'average.Main', method: 'average', line: 15 });
    assert.ok(result.feedbacks <= 4, `${result.feedbacks} feedbacks`);
    assert.deepEqual(
      result.path.map((p) => p.feedback),
      ['wrong-value', 'wrong-value', 'correct'],
    );
  });

  it('reaches a bug written into a java.util list only through the library-flow links', () => {
    const withFlows = simulate('doubler');
    assert.equal(withFlows.located, true);
    assert.equal(withFlows.rootCause?.line, 10);
    assert.ok(
      withFlows.path.some(
        (p) => p.variable === 'contents of values' || p.variable === 'contents of out',
      ),
    );
    const plain = simulate('doubler', true);
    assert.equal(plain.located, false, 'plain dependencies stop at values.get(i)');
  });

  it('finds a loop that stopped early through the missing-update judgement (sumrange)', () => {
    const result = simulate('sumrange');
    assert.equal(result.located, true);
    assert.equal(result.rootCause?.line, 6);
    assert.ok(result.path.some((p) => p.feedback === 'missing-update'));
  });

  it('compares a StringBuilder by what was fed to it, and a callee by what it returned (joiner)', () => {
    const result = simulate('joiner');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['main', 17]);
    assert.ok(result.path.some((p) => p.variable === 'contents of sb'));
  });

  it('tries the writes of other elements when an array element missed its update (histogram)', () => {
    const result = simulate('histogram');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['bucketOf', 5]);
  });

  it('judges a read of the wrong array element as the step’s own fault (matrix)', () => {
    const result = simulate('matrix');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['multiply', 11]);
  });

  it('aligns loop iterations one to one, so the oracle judges the right partner (bubblesort)', () => {
    const result = simulate('bubblesort');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['sort', 7]);
    // A flat match of the loop's lines paired swaps of different iterations: the search then
    // blamed the loop counter `j`, which has the same values in both versions.
    assert.ok(!result.path.some((p) => p.variable === 'j'), JSON.stringify(result.path));
  });

  it('walks the code run between a right write and a stale read (selection, discount)', () => {
    const selection = simulate('selection');
    assert.equal(selection.located, true);
    // `minIndex = j` is missing after `min = a[j]`: the fixed run did more right after it.
    assert.deepEqual([selection.rootCause?.method, selection.rootCause?.line], ['sort', 10]);
    const discount = simulate('discount');
    assert.equal(discount.located, true);
    // A whole `if` is missing before `return discount`: no step that ran was meant to update
    // it, so the search ends at the stale read.
    assert.deepEqual(
      [discount.rootCause?.method, discount.rootCause?.line],
      ['discountPercent', 9],
    );
    assert.equal(discount.path.at(-1)?.feedback, 'missing-update');
  });

  it('gives a library call the result of the traced call it wraps (grades)', () => {
    const result = simulate('grades');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['grade', 5]);
    assert.ok(result.path.some((p) => p.variable === 'grade() returned'));
  });

  it('follows a wrong path out of a catch block to the throw and its condition (validate)', () => {
    const result = simulate('validate');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['parseAge', 6]);
    // The handler's steps depend on the exception: wrong path leads to the `throw` in the callee.
    assert.deepEqual(
      result.path.map((p) => [p.method, p.line, p.feedback]),
      [
        ['main', 21, 'wrong-path'],
        ['main', 20, 'wrong-path'],
        ['parseAge', 7, 'wrong-path'],
        ['parseAge', 6, 'correct'],
      ],
    );
  });

  it('asks the decisions guarding a variable’s updates when one went missing (vowels)', () => {
    const result = simulate('vowels');
    assert.equal(result.located, true);
    assert.equal(result.rootCause?.line, 8);
  });

  it('offers the run of a decision that skipped an update, not the one that made it (leapyear)', () => {
    const result = simulate('leapyear');
    assert.equal(result.located, true);
    assert.deepEqual(result.rootCause, { class: 'leapyear.Main', method: 'isLeap', line: 8 });
    const skipped = result.path.findIndex((p) => p.line === 17 && p.feedback === 'wrong-value');
    assert.ok(skipped > 0, 'the year whose decision skipped the count was asked about');
    assert.equal(result.path[skipped].variable, 'isLeap() returned');
  });

  it('searches for a missing update when a loop bisection ends on a right value (runlength)', () => {
    const result = simulate('runlength');
    assert.equal(result.located, true);
    assert.deepEqual(result.rootCause, { class: 'runlength.Main', method: 'encode', line: 14 });
  });

  it('tells enum constants apart by where they were made (trafficlight)', () => {
    const result = simulate('trafficlight');
    assert.equal(result.located, true);
    assert.equal(result.rootCause?.line, 32);
  });

  it('gives a statement split over lines the reads of its parts, and asks a nested catch (csvsum)', () => {
    const result = simulate('csvsum');
    assert.equal(result.located, true);
    assert.deepEqual(result.rootCause, { class: 'csvsum.Main', method: 'sumColumn', line: 62 });
  });

  it('walks a callee run between the write and the read, and judges a wrong field written (stock)', () => {
    const result = simulate('stock');
    assert.equal(result.located, true);
    assert.deepEqual(result.rootCause, {
      class: 'stock.Main$Item',
      method: 'restock',
      line: 13,
    });
    assert.equal(result.path.at(-1)?.feedback, 'correct');
  });
  it('follows a container’s state through the objects fetched from it, round a two-line loop (anagrams)', () => {
    const result = simulate('anagrams');
    assert.equal(result.located, true);
    assert.deepEqual(result.rootCause, { class: 'anagrams.Main', method: 'group', line: 29 });
    // The list a loop fetched from the sorted copy carries the map's wrong state.
    assert.ok(result.path.some((p) => p.variable === 'contents of members'));
    assert.ok(result.feedbacks <= 16, `${result.feedbacks} feedbacks`);
  });

  it('judges a call that leaves a collection unchanged where the fix changes it (reconcile)', () => {
    const result = simulate('reconcile');
    assert.equal(result.located, true);
    assert.equal(result.rootCause?.line, 40);
    assert.equal(result.path.at(-1)?.feedback, 'correct');
  });

  it('reads a comparator’s answers into the sort that asked for them (tournament)', () => {
    const result = simulate('tournament');
    assert.equal(result.located, true);
    assert.deepEqual(result.rootCause?.line, 50);
    assert.ok(result.path.some((p) => p.variable === 'compare() answered'));
  });

  it('ends on a catch clause that caught an exception meant for another handler (retry)', () => {
    const result = simulate('retry');
    assert.equal(result.located, true);
    assert.deepEqual(result.rootCause, { class: 'retry.Main$Retrier', method: 'run', line: 62 });
    assert.ok(result.path.some((p) => p.variable === 'exception caught'));
  });

  it('searches for the write an array element never got (editdistance)', () => {
    const result = simulate('editdistance');
    assert.equal(result.located, true);
    assert.deepEqual(result.rootCause, {
      class: 'editdistance.Main',
      method: 'distance',
      line: 26,
    });
  });

  it('asks the runs of a loop that guards an assignment made only in other calls (knapsack)', () => {
    const result = simulate('knapsack');
    assert.equal(result.located, true);
    assert.deepEqual(result.rootCause, { class: 'knapsack.Main', method: 'pack', line: 45 });
  });

  it('compares lambdas across runs without the address in their class names (brightness)', () => {
    const result = simulate('brightness');
    assert.equal(result.located, true);
    assert.deepEqual(result.rootCause?.line, 54);
    assert.ok(!result.path.some((p) => p.variable === 'f' || p.variable === 'contents of f'));
  });

  it('follows a list a callee returned, and pairs statements the fix swapped (auction)', () => {
    const result = simulate('auction');
    assert.equal(result.located, true);
    assert.equal(result.rootCause?.method, 'offer');
    assert.ok(result.path.some((p) => p.variable === 'contents of settle() result'));
    assert.ok(!result.path.some((p) => p.feedback === 'wrong-path'), 'the moved line ran in both');
  });

  it('carries a builder’s contents into the list, halves a loop’s extra rounds, and asks a catch block (telemetry)', () => {
    const result = simulate('telemetry');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['accept', 85]);
    assert.ok(result.path.some((p) => p.variable === 'contents of text'));
    assert.ok(result.path.some((p) => /binary search for the first run/.test(p.reason)));
    assert.ok(result.feedbacks <= 30, `${result.feedbacks} feedbacks`);
  });

  it('judges a store into the wrong array element as the step’s own fault (friendships)', () => {
    const result = simulate('friendships');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['union', 43]);
    assert.equal(result.path.at(-1)?.feedback, 'correct');
  });

  it('follows list.add(...) split by two traced calls, and pairs a loop round a break moved (taxis)', () => {
    const result = simulate('taxis');
    // `log.add(r.time() + " " + r.rider() + ...)`: the part after the last call changes log.
    const log = result.path.find((p) => p.variable === 'contents of log');
    assert.ok(log, 'the log was judged');
    const next = result.path[result.path.indexOf(log) + 1];
    assert.equal(next.method, 'dispatch', 'the list was changed by dispatch, not only made');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['choose', 55]);
  });

  it('follows a map entry fetched again after the map changed, into a call that threw (portfolio)', () => {
    const result = simulate('portfolio');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['parseTargets', 54]);
    assert.ok(result.path.some((p) => p.variable === 'contents of e'));
    assert.ok(result.path.some((p) => /threw where it should not have/.test(p.reason)));
  });

  it('asks the run of a guard that wrote no element when an element missed its update (boxoffice)', () => {
    const result = simulate('boxoffice');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['<init>', 20]);
    assert.ok(result.feedbacks <= 15, `${result.feedbacks} feedbacks`);
  });

  it('leads from a static read before its initialiser ran to that initialiser (tariffs)', () => {
    const result = simulate('tariffs');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['<clinit>', 14]);
    assert.ok(result.path.some((p) => /did the write come too late/.test(p.reason)));
  });

  it('sees a split that dropped fields by the length of the array it made (census)', () => {
    const result = simulate('census');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['parse', 41]);
    assert.ok(result.feedbacks <= 12, `${result.feedbacks} feedbacks`);
  });

  it('compares BigDecimal values, so a rate made from a double is wrong where it is made (remittance)', () => {
    const result = simulate('remittance');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['addRate', 25]);
    assert.ok(
      result.path.some((p) => /0\.92149999/.test(p.reason)),
      'the value is shown',
    );
  });

  it('feeds what a collect’s callbacks answered into the map the line returns (glacier)', () => {
    const result = simulate('glacier');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['band', 19]);
    assert.ok(result.path.some((p) => p.variable === 'contents of histogram() result'));
  });

  it('walks back through a rightly called method to a statement missing its else (tollroad)', () => {
    const result = simulate('tollroad');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['perKmCents', 42]);
    assert.ok(result.path.some((p) => /rightly called perKmCents/.test(p.reason)));
  });

  it('sees the range handed to Arrays.sort and the elements the sort rewrote (spellcheck)', () => {
    const result = simulate('spellcheck');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['<init>', 19]);
    assert.ok(
      result.path.some((p) => /after a library call/.test(p.reason)),
      'an element read leads to the sort',
    );
  });

  it('asks the call that updated another object where a never-written field’s was meant (printer)', () => {
    const result = simulate('printer');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['main', 94]);
    assert.ok(result.feedbacks <= 6, `${result.feedbacks} feedbacks`);
  });

  it('pairs a loop round a break for a continue moved, and blames the break (dispatch)', () => {
    const result = simulate('dispatch');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['loadVans', 53]);
    assert.ok(result.feedbacks <= 6, `${result.feedbacks} feedbacks`);
  });

  it('asks the runs of the decisions that kept an update in the code from ever running (loom)', () => {
    const result = simulate('loom');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['edge', 42]);
    assert.ok(
      result.path.some((p) => p.line === 67 && p.method === 'selvedgeFaults'),
      'the `if (streak == 3)` that guards faults.add(...) is asked',
    );
    assert.ok(result.feedbacks <= 12, `${result.feedbacks} feedbacks`);
  });

  it('asks where other fields of a class were assigned when no object had one assigned (campsite)', () => {
    const result = simulate('campsite');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['book', 72]);
    assert.ok(result.feedbacks <= 8, `${result.feedbacks} feedbacks`);
  });

  it('counts a use of a changed constant javac inlined as the root cause (cooling)', () => {
    const result = simulate('cooling');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['rate', 45]);
    assert.deepEqual(result.expected.find((e) => e.class === 'cooling.Main')?.lines, [15, 45]);
  });

  it('counts a use of a constant made from Math.PI as the root cause (pendulum)', () => {
    const result = simulate('pendulum');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['<init>', 26]);
    assert.deepEqual(result.expected.find((e) => e.class === 'pendulum.Main')?.lines, [8, 26, 75]);
  });

  it('hears the comparator of a sort written over three lines (fencing)', () => {
    const result = simulate('fencing');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['tabulate', 50]);
    assert.ok(
      result.path.some(
        (p) => p.method === 'seeding' && p.line === 72 && p.variable?.endsWith('answered'),
      ),
      'the sort, on the statement’s first line, read a wrong answer of a comparator',
    );
    assert.ok(result.feedbacks <= 12, `${result.feedbacks} feedbacks`);
  });

  it('sees a variable that is the same map as another where the fixed run had a copy (transfers)', () => {
    const result = simulate('transfers');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['applyBatch', 36]);
    assert.ok(
      result.path.some((p) => p.line === 44 && p.variable === 'snapshot'),
      '`balances.putAll(snapshot)` reads a snapshot that is balances itself',
    );
  });

  it('blames a step after which its call returned where the fixed run went on (versions)', () => {
    const result = simulate('versions');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['compareTo', 36]);
    assert.ok(result.feedbacks <= 6, `${result.feedbacks} feedbacks`);
  });

  it('finds a missing break after the detour through the next case (turnstile)', () => {
    const result = simulate('turnstile');
    assert.equal(result.located, true);
    assert.equal(result.rootCause?.method, 'process');
    assert.deepEqual(
      [...(result.expected.find((e) => e.class === 'turnstile.Main')?.lines ?? [])].sort(),
      [56, 57, 58, 59, 60],
    );
    assert.ok(result.feedbacks <= 10, `${result.feedbacks} feedbacks`);
  });

  it('compares the elements of a whole array handed to StringBuilder.append by index (mazepath)', () => {
    const result = simulate('mazepath');
    assert.equal(result.located, true);
    assert.equal(result.rootCause?.method, 'explore');
    assert.ok(
      result.path.some((p) => p.method === 'render' && p.line === 57 && p.variable === '[4]'),
      'the row appended to the StringBuilder holds a cell the fixed run did not mark',
    );
  });

  it('follows what a line read before a constructor into the list it adds to after (snowplow)', () => {
    const result = simulate('snowplow');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['pickTruck', 38]);
    assert.ok(
      result.path.some((p) => p.line === 79 && p.variable === 'start'),
      '`routes.get(t).add(new Job(s, start, end))` changed routes with a wrong start',
    );
  });

  it('follows the result of the method a switch arm called in place of another (sprinkler)', () => {
    const result = simulate('sprinkler');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['flowLpm', 32]);
    assert.ok(
      result.path.some((p) => p.line === 31 && p.variable === 'sprayFlow() returned'),
      'the switch returned what sprayFlow gave, where the fixed run called rotorFlow',
    );
  });

  it('asks where the same field of another object was updated in between (granary)', () => {
    const result = simulate('granary');
    assert.equal(result.located, true);
    assert.equal(result.rootCause?.method, 'chooseSilo');
    assert.ok(result.feedbacks <= 20, `${result.feedbacks} feedbacks`);
  });

  it('tells a list given the wrong object apart, and sees swapped statements inside a branch (cannery)', () => {
    const result = simulate('cannery');
    assert.equal(result.located, true);
    assert.equal(result.rootCause?.method, 'buildLoads');
    assert.ok([62, 63].includes(result.rootCause?.line ?? 0), `line ${result.rootCause?.line}`);
    assert.ok(
      result.path.some((p) => p.line === 68 && p.feedback === 'wrong-value'),
      'the final add reads a list given other loads than the fixed run’s',
    );
  });

  it('blames the step a missing continue should have followed (mailroom)', () => {
    const result = simulate('mailroom');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['sort', 64]);
    assert.ok(result.feedbacks <= 10, `${result.feedbacks} feedbacks`);
  });

  it('gives what a stream’s callbacks answered to the statement’s last step, on its first line (tutoring)', () => {
    const result = simulate('tutoring');
    assert.equal(result.located, true);
    assert.deepEqual(
      [result.rootCause?.method, result.rootCause?.line],
      ['lambda$findTutor$0', 42],
    );
    assert.ok(
      result.path.some(
        (p) => p.method === 'findTutor' && p.line === 41 && /answered/.test(p.variable ?? ''),
      ),
      'the return line reads what the filter answered',
    );
  });

  it('pairs the parts of a moved statement split by a call, and leaves an iterator’s list unchanged (tram)', () => {
    const result = simulate('tram');
    assert.equal(result.located, true);
    assert.equal(result.rootCause?.method, 'run');
    assert.ok([86, 87].includes(result.rootCause?.line ?? 0), `line ${result.rootCause?.line}`);
    assert.ok(
      result.path.some(
        (p) => p.line === 86 && p.feedback === 'wrong-value' && p.variable === 'board() returned',
      ),
      'the part after the call reads what board returned, against the fixed run’s same part',
    );
    assert.ok(result.feedbacks <= 24, `${result.feedbacks} feedbacks`);
  });

  it('asks the decision that kept an updating call away, and trusts a map another line used rightly (loyalty)', () => {
    const result = simulate('loyalty');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['find', 72]);
    assert.ok(
      result.path.some((p) => p.method === 'post' && p.line === 77 && p.variable === 'm'),
      'the early return’s decision is asked, and reads a wrong member',
    );
    assert.equal(result.path.at(-1)?.feedback, 'correct');
    assert.ok(result.feedbacks <= 10, `${result.feedbacks} feedbacks`);
  });

  it('follows a call that returned where the fixed run’s threw, into a finally meant as a catch (foodbank)', () => {
    const result = simulate('foodbank');
    assert.equal(result.located, true);
    assert.equal(result.rootCause?.method, 'allocate');
    assert.ok(
      [67, 68, 69, 70].includes(result.rootCause?.line ?? 0),
      `line ${result.rootCause?.line}`,
    );
    assert.ok(
      result.path.some(
        (p) => p.method === 'reserve' && p.line === 34 && p.variable === 'available',
      ),
      'the reserve that did not throw read more stock than the fixed run’s',
    );
    assert.ok(result.feedbacks <= 40, `${result.feedbacks} feedbacks`);
  });

  it('pairs the rounds after a missing continue, which the fixed run nests under the if (stargazing)', () => {
    const result = simulate('stargazing');
    assert.equal(result.located, true);
    assert.equal(result.rootCause?.method, 'main');
    assert.ok([96, 97, 98].includes(result.rootCause?.line ?? 0), `line ${result.rootCause?.line}`);
    // Without a second chance past a long unpaired stretch, a few hundred steps paired.
    assert.ok(result.steps.aligned > 2000, `${result.steps.aligned} steps paired`);
  });

  it('asks the decision that kept an assignment in another method from running (icefield)', () => {
    const result = simulate('icefield');
    assert.equal(result.located, true);
    assert.deepEqual([result.rootCause?.method, result.rootCause?.line], ['ageLayers', 83]);
    assert.ok(result.feedbacks <= 25, `${result.feedbacks} feedbacks`);
  });

  it('asks, last, the assignment a right call made on another object than the stale one (chocolatier)', () => {
    const result = simulate('chocolatier');
    assert.equal(result.located, true);
    assert.equal(result.rootCause?.method, 'pickBatch');
    assert.ok(
      result.path.some((p) => p.method === 'fulfil' && p.line === 54 && p.variable === 'single'),
      'the batch fulfil took pieces from is another than the fixed run’s',
    );
  });

  it('refuses a run longer than the step limit with a clear error instead of running out of memory', () => {
    assert.throws(
      () =>
        simulateDebugging({
          buggy: { classPath: join(classes, 'buggy') },
          fixed: { classPath: join(classes, 'fixed') },
          mainClass: 'fibonacci.Main',
          agentJar: AGENT_JAR,
          maxSteps: 20,
        }),
      (error: Error) =>
        error instanceof TraceTooLongError &&
        /buggy run recorded more than 20 steps/.test(error.message),
    );
  });

  it('says why a version could not be run (no main class on its class path), in the JVM’s words', () => {
    assert.throws(
      () =>
        simulateDebugging({
          buggy: { classPath: join(classes, 'no-such-directory') },
          fixed: { classPath: join(classes, 'fixed') },
          mainClass: 'fibonacci.Main',
          agentJar: AGENT_JAR,
        }),
      (error: Error) =>
        error instanceof ProgramRunError &&
        /buggy run of fibonacci\.Main recorded no steps/.test(error.message) &&
        /Could not find or load main class fibonacci\.Main/.test(error.message) &&
        !/VM warning/.test(error.message),
    );
  });
});
