// Simulated feedback (research mode), after Microbat's and Tregression's evaluations: record a
// buggy and a fixed version of a program, align their traces, and let the fixed run answer the
// recommender's questions the way a person who knows the right behaviour would:
//
//   a buggy step with no partner in the fixed run        -> wrong path
//   a read whose value differs from the partner's read   -> wrong value of that variable
//   otherwise                                            -> correct
//
// Only the oracle sees the fixed run. The root cause used for scoring (steps on lines the fix
// changed) is computed from a diff of the sources and looked at only after the search ended.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decodeTrace, type JvmMethodInfo, type JvmStep } from '../decoder';
import { referenceParts } from '../javaText';
import { alignTraces } from './alignment';
import { isStateKnownExactly } from './libraryFlows';
import { buildMemoryTrace } from './memoryTrace';
import { FeedbackRecommender, type FeedbackKind } from './recommender';
import { diffSources, type SourceDiff } from './sourceDiff';
import {
  comparableValue,
  identityMatters,
  locationOf,
  sameFrame,
  sameStep,
  stepId,
  type MemoryTraceView,
  type TraceAccess,
  type TraceStep,
} from './traceView';

/** Steps of an invocation searched for a statement the fix moved back before them. */
const REORDER_WINDOW = 8;

export interface ProgramVersion {
  classPath: string;
  /** Where the .java files are (package directories below); default: the class path. */
  sourceRoots?: string[];
  /** How messages name this version (`buggy`, `fixed`). */
  label?: string;
}

export interface SimulationOptions {
  buggy: ProgramVersion;
  fixed: ProgramVersion;
  mainClass: string;
  args?: string[];
  agentJar: string;
  java?: string;
  /** Give up after this many feedbacks. */
  maxFeedbacks?: number;
  /** Leave out the library-flow links (Microbat's plain dependencies), for comparison. */
  withoutLibraryFlows?: boolean;
  /** Refuse runs longer than this many steps (both traces are held in memory). */
  maxSteps?: number;
}

/**
 * Steps a simulated run may have by default: both traces, their enriched views and the
 * alignment are held in memory (about 2 KB a step in all), so a run of millions of steps would
 * exhaust the heap instead of answering.
 */
export const SIMULATION_STEP_LIMIT = 500_000;

/** A version of the program that could not be run and recorded: the JVM's own words say why. */
export class ProgramRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProgramRunError';
  }
}

/** The JVM's complaint, one line: the first lines of its standard error, or its exit status. */
function jvmComplaint(result: { status: number | null; stderr: string }): string {
  const said = result.stderr
    .split('\n')
    .filter((line) => line.trim() && !/VM warning/.test(line))
    .slice(0, 2)
    .join(' ')
    .slice(0, 400);
  const status = result.status === null ? 'was killed' : `exited with status ${result.status}`;
  return said ? `java ${status}: ${said}` : `java ${status}`;
}

/** A run recorded more steps than the simulation holds: say so instead of running out of memory. */
export class TraceTooLongError extends Error {
  constructor(
    readonly version: string,
    readonly limit: number,
  ) {
    super(
      `the ${version} run recorded more than ${limit.toLocaleString('en-US')} steps; debug-sim ` +
        `holds both traces in memory and stops there (raise it with --max-steps, or run the ` +
        `program on a smaller input)`,
    );
    this.name = 'TraceTooLongError';
  }
}

export interface StepLocation {
  class: string;
  method: string;
  line: number;
}

export interface FeedbackRecord extends StepLocation {
  order: number;
  feedback: FeedbackKind;
  variable?: string;
  reason: string;
}

export interface SimulationResult {
  /** The search ended on a step of a line the fix changed. */
  located: boolean;
  feedbacks: number;
  /** Where the search ended (undefined when it gave up). */
  rootCause?: StepLocation;
  /** Feedbacks until a root-cause step was first suggested (-1: never). */
  reachedAfter: number;
  /** Lines the fix changed, per source file, as scored. */
  expected: { class: string; lines: number[] }[];
  failureStep: StepLocation & { order: number; how: string };
  steps: { buggy: number; fixed: number; aligned: number };
  output: { buggy: string; fixed: string };
  path: FeedbackRecord[];
}

interface RecordedRun {
  steps: JvmStep[];
  methods: ReadonlyMap<number, JvmMethodInfo>;
  sourceFiles: Map<string, string>;
  stdout: string;
}

/** Runs the program with the agent's file sink and decodes the trace. */
export function recordRun(
  version: ProgramVersion,
  mainClass: string,
  args: string[],
  agentJar: string,
  java = 'java',
  maxSteps?: number,
): RecordedRun {
  const dir = mkdtempSync(path.join(tmpdir(), 'bathy-debug-sim-'));
  const traceFile = path.join(dir, 'trace.bstr');
  // The agent stops recording a little after the limit, so an over-long run costs no memory here.
  const limit = maxSteps === undefined ? '' : `,maxSteps=${maxSteps + 1}`;
  try {
    const result = spawnSync(
      java,
      [
        `-javaagent:${agentJar}=file=${traceFile}${limit}`,
        '-cp',
        version.classPath,
        mainClass,
        ...args,
      ],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const label = version.label ?? 'recorded';
    if (result.error) throw new ProgramRunError(`cannot run ${java}: ${result.error.message}`);
    if (!existsSync(traceFile)) {
      throw new ProgramRunError(
        `the ${label} run of ${mainClass} left no trace (${jvmComplaint(result)})`,
      );
    }
    const { steps, decoder, batch } = decodeTrace(readFileSync(traceFile));
    if (steps.length === 0 && batch.errors.length > 0) {
      // An agent of another trace format, or a damaged file: say which, not "no steps".
      throw new Error(`the trace of ${mainClass} could not be read: ${batch.errors[0].message}`);
    }
    if (steps.length === 0) {
      // A class path without the main class, or a crash before main: nothing to debug.
      throw new ProgramRunError(
        `the ${label} run of ${mainClass} recorded no steps (${jvmComplaint(result)}; class path ${version.classPath})`,
      );
    }
    if (maxSteps !== undefined && steps.length > maxSteps) {
      throw new TraceTooLongError(label, maxSteps);
    }
    const sourceFiles = new Map<string, string>();
    for (const { name, sourceFile } of decoder.classTable().values()) {
      sourceFiles.set(name, sourceFile);
    }
    return { steps, methods: decoder.methodTable(), sourceFiles, stdout: result.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Finds and caches source files of classes below a version's source roots. */
class SourceSet {
  private readonly texts = new Map<string, string | undefined>();

  constructor(
    private readonly roots: string[],
    private readonly sourceFiles: Map<string, string>,
  ) {}

  /** Path of the class's source file relative to a root, e.g. `demo/Main.java`. */
  relativePath(className: string): string {
    const packagePath = className.includes('.')
      ? className.slice(0, className.lastIndexOf('.')).replace(/\./g, '/') + '/'
      : '';
    const topLevel = className.slice(className.lastIndexOf('.') + 1).split('$')[0];
    return packagePath + (this.sourceFiles.get(className) || `${topLevel}.java`);
  }

  text(className: string): string | undefined {
    const relative = this.relativePath(className);
    if (!this.texts.has(relative)) {
      const file = this.roots
        .map((root) => path.join(root, relative))
        .find((candidate) => existsSync(candidate));
      this.texts.set(relative, file ? readFileSync(file, 'utf8') : undefined);
    }
    return this.texts.get(relative);
  }

  line(className: string, line: number): string | undefined {
    return this.text(className)?.split(/\r?\n/)[line - 1];
  }
}

export function simulateDebugging(options: SimulationOptions): SimulationResult {
  const args = options.args ?? [];
  const limit = options.maxSteps ?? SIMULATION_STEP_LIMIT;
  const buggyRun = recordRun(
    { label: 'buggy', ...options.buggy },
    options.mainClass,
    args,
    options.agentJar,
    options.java,
    limit,
  );
  const fixedRun = recordRun(
    { label: 'fixed', ...options.fixed },
    options.mainClass,
    args,
    options.agentJar,
    options.java,
    limit,
  );
  const buggySources = new SourceSet(rootsOf(options.buggy), buggyRun.sourceFiles);
  const fixedSources = new SourceSet(rootsOf(options.fixed), fixedRun.sourceFiles);
  const diffs = new Map<string, SourceDiff>();
  const diffOf = (className: string): SourceDiff | undefined => {
    const relative = buggySources.relativePath(className);
    if (!diffs.has(relative)) {
      const before = buggySources.text(className);
      const after = fixedSources.text(className);
      if (before === undefined || after === undefined) return undefined;
      diffs.set(relative, diffSources(before, after));
    }
    return diffs.get(relative);
  };
  const mapLine = (className: string, line: number) =>
    diffOf(className)?.buggyToFixed.get(line) ?? line;

  const sourceLine = (className: string, line: number) => buggySources.line(className, line);
  const buggyView = buildMemoryTrace(buggyRun.steps, buggyRun.methods, {
    sourceLine,
    withoutLibraryFlows: options.withoutLibraryFlows,
  });
  const fixedView = buildMemoryTrace(fixedRun.steps, fixedRun.methods, {
    sourceLine: (className, line) => fixedSources.line(className, line),
  });
  const matches = alignTraces(
    { steps: buggyRun.steps, view: buggyView },
    { steps: fixedRun.steps, view: fixedView },
    mapLine,
  );
  const decisions = new Set(buggyRun.steps.filter((s) => s.branches.length > 0).map((s) => s.seq));
  const keptLines = new Map<string, Set<number>>();
  /** A line of the fixed version that no buggy line became: the fix added it. */
  const addedByFix = (step: TraceStep) => {
    const diff = diffOf(step.className);
    if (!diff) return false;
    let kept = keptLines.get(step.className);
    if (!kept) keptLines.set(step.className, (kept = new Set(diff.buggyToFixed.values())));
    return !kept.has(step.line);
  };
  const oracle = new FixedRunOracle(
    buggyView,
    fixedView,
    matches,
    decisions,
    (step) => locationOf({ ...step, line: mapLine(step.className, step.line) }),
    addedByFix,
  );

  const failure = findFailureStep(buggyView, oracle, sourceLine, buggyRun.stdout, fixedRun.stdout);
  const isRootCause = (step: TraceStep) =>
    diffOf(step.className)?.rootCauseLines.has(step.line) ?? false;

  const recommender = new FeedbackRecommender(buggyView, failure.step);
  const pathTaken: FeedbackRecord[] = [];
  const maxFeedbacks = options.maxFeedbacks ?? 300;
  let suggestion = recommender.current();
  let reachedAfter = isRootCause(failure.step) ? 0 : -1;
  while (!suggestion.rootCause && pathTaken.length < maxFeedbacks) {
    const step = buggyView.step(suggestion.step)!;
    const judgement = oracle.judge(step, failure.step);
    pathTaken.push({
      ...locationRecord(step),
      order: step.order,
      feedback: judgement.kind,
      ...(judgement.readIndex === undefined
        ? {}
        : { variable: step.reads[judgement.readIndex].name }),
      reason: suggestion.reason,
    });
    suggestion = recommender.feedback(step, judgement.kind, judgement.readIndex);
    const next = buggyView.step(suggestion.step)!;
    if (reachedAfter < 0 && isRootCause(next)) reachedAfter = pathTaken.length;
  }
  const end = suggestion.rootCause ? buggyView.step(suggestion.step) : undefined;
  return {
    located: end !== undefined && isRootCause(end),
    feedbacks: pathTaken.length,
    ...(end ? { rootCause: locationRecord(end) } : {}),
    reachedAfter,
    expected: [...new Set(buggyRun.steps.map((s) => s.className))]
      .map((className) => ({
        class: className,
        lines: [...(diffOf(className)?.rootCauseLines ?? [])],
      }))
      .filter((entry) => entry.lines.length > 0),
    failureStep: { ...locationRecord(failure.step), order: failure.step.order, how: failure.how },
    steps: { buggy: buggyRun.steps.length, fixed: fixedRun.steps.length, aligned: matches.size },
    output: { buggy: buggyRun.stdout, fixed: fixedRun.stdout },
    path: pathTaken,
  };
}

function rootsOf(version: ProgramVersion): string[] {
  return version.sourceRoots ?? version.classPath.split(path.delimiter);
}

function locationRecord(step: TraceStep): StepLocation {
  return { class: step.className, method: step.method, line: step.line };
}

interface Judgement {
  kind: FeedbackKind;
  readIndex?: number;
}

/** How many statements a fix may add in one place for the oracle to see past them. */
const ADDED_STATEMENTS_LIMIT = 20;

/** Answers feedback questions about buggy steps from the aligned fixed run. */
export class FixedRunOracle {
  private readonly partnerBySeq = new Map<number, TraceStep>();
  /** Fixed steps that have a buggy partner (by seq). */
  private readonly fixedWithPartner = new Set<number>();

  /** What each step handed back to its caller (read by the caller as `return`), by step id. */
  private readonly buggyReturns: Map<string, string>;
  private readonly fixedReturns: Map<string, string>;

  /**
   * @param decisions seq of the buggy steps that took a branch (an `if`, a loop condition),
   *   whichever way it went
   * @param fixedLocationOf where a buggy step's statement is in the fixed sources
   *   (`Class.method:line` after the fix moved lines); without it, no reordered partners
   */
  constructor(
    private readonly buggy: MemoryTraceView,
    private readonly fixed: MemoryTraceView,
    matches: Map<number, number>,
    private readonly decisions: ReadonlySet<number>,
    private readonly fixedLocationOf?: (step: TraceStep) => string,
    /** Whether a fixed step runs a line the fix added (no buggy line became it). */
    private readonly addedByFix: (fixedStep: TraceStep) => boolean = () => false,
  ) {
    this.fixedByRegion = stepsByRegion(fixed);
    this.buggyByRegion = stepsByRegion(buggy);
    for (const [b, f] of matches) {
      this.partnerBySeq.set(buggy.steps[b].seq, fixed.steps[f]);
      this.fixedWithPartner.add(fixed.steps[f].seq);
    }
    this.buggyReturns = returnedValues(buggy);
    this.fixedReturns = returnedValues(fixed);
    ({ next: this.buggyNext, previous: this.buggyPrevious } = frameNeighbours(buggy));
    ({ next: this.fixedNext, previous: this.fixedPrevious } = frameNeighbours(fixed));
    this.readersOf = readersByWriter(buggy);
    this.buggyOrigins = originsOf(buggy);
    this.fixedOrigins = originsOf(fixed);
  }

  private readonly buggyOrigins: Map<string, TraceStep>;
  private readonly fixedOrigins: Map<string, TraceStep>;

  /**
   * Values agree: primitives and strings by value, references by type and, for the program's
   * objects and arrays, by where they were made: an object the buggy run made at a step whose
   * partner made another object is another object (the wrong task popped from a queue), even if
   * the field a step reads from it holds a value right for that object.
   */
  private readonly sameValue: SameValue = (buggyValue, fixedValue) => {
    if (comparableValue(buggyValue) !== comparableValue(fixedValue)) return false;
    const made = this.buggyOrigins.get(buggyValue);
    const partnerMade = this.fixedOrigins.get(fixedValue);
    const counterpart = made && this.partner(made);
    return !counterpart || !partnerMade || counterpart.seq === partnerMade.seq;
  };

  /** Per step id: the steps that read a value it wrote (argument, library state, variable). */
  private readonly readersOf: Map<string, TraceStep[]>;

  /**
   * An argument this call step passed was wrong: the callee read another value for it than its
   * partner did. Arguments leave no write in the calling step, so its writes cannot show it.
   */
  private passedWrongArgument(step: TraceStep): boolean {
    for (const callee of this.readersOf.get(stepId(step)) ?? []) {
      const partner = this.partner(callee);
      if (!partner || !sameStep(callee.invocationParent, step)) continue;
      for (const index of differences(callee.reads, partner.reads, this.sameValue)) {
        const read = callee.reads[index];
        if (read.kind === 'local' && sameStep(read.writer, step)) return true;
      }
    }
    return false;
  }

  /** Per step id: the next step of the same invocation (where execution went on). */
  private readonly buggyNext: Map<string, TraceStep>;
  private readonly fixedNext: Map<string, TraceStep>;
  /** Per step id: the previous step of the same invocation. */
  private readonly buggyPrevious: Map<string, TraceStep>;
  private readonly fixedPrevious: Map<string, TraceStep>;

  /**
   * A decision sent execution the wrong way: after it, execution went on elsewhere than after
   * its partner, and on at least one side into code the decision controls (a branch or loop
   * body). Where both sides leave the decision's region, it decided the same; what differs
   * comes after it.
   */
  private wentWrongWay(step: TraceStep, partner: TraceStep): boolean {
    const next = this.buggyNext.get(stepId(step));
    const partnerNext = this.fixedNext.get(stepId(partner));
    if (next && partnerNext && this.partner(next)?.seq === partnerNext.seq) return false;
    if (!next || !partnerNext) return next !== partnerNext;
    // The fixed run first ran statements the buggy run lacks, then went on where the buggy run
    // did: the decision chose alike, and what is missing comes after it.
    if (this.resumesAfterAdded(partnerNext, this.partner(next))) return false;
    const enteredHere = sameStep(next.controlDominator, step);
    const enteredThere = sameStep(partnerNext.controlDominator, partner);
    // Both entered the branch, where the buggy run ran the fixed run's first statement a little
    // later (statements the fix swapped): the decision chose alike.
    if (enteredHere && enteredThere && this.ranLaterInFrame(step, partnerNext)) return false;
    // A loop's condition that both runs left the loop at (one ran a `finally` block after it,
    // the other a `return`): it decided alike.
    if (this.bothLeftTheLoop(step, partner, next, partnerNext)) return false;
    return enteredHere || enteredThere;
  }

  /**
   * `step` is a loop's condition whose earlier runs entered a body, and after it each run went
   * on to a line of no body step of its own run: both left the loop.
   */
  private bothLeftTheLoop(
    step: TraceStep,
    partner: TraceStep,
    next: TraceStep,
    partnerNext: TraceStep,
  ): boolean {
    const mine = loopBodyLines(this.buggy, this.buggyByRegion, step);
    const theirs = loopBodyLines(this.fixed, this.fixedByRegion, partner);
    return (
      mine.size > 0 &&
      theirs.size > 0 &&
      next.line !== step.line &&
      partnerNext.line !== partner.line &&
      !mine.has(next.line) &&
      !theirs.has(partnerNext.line)
    );
  }

  /**
   * From `fixedStep` on, steps of lines the fix added lead, in the same invocation, to
   * `target` (lines the buggy version has too, left out here, were a branch it did not take).
   */
  private resumesAfterAdded(fixedStep: TraceStep, target: TraceStep | undefined): boolean {
    let step: TraceStep | undefined = fixedStep;
    for (let i = 0; step && i < ADDED_STATEMENTS_LIMIT; i++) {
      if (this.fixedWithPartner.has(step.seq))
        return target !== undefined && step.seq === target.seq;
      if (!this.addedByFix(step)) return false;
      step = this.fixedNext.get(stepId(step));
    }
    return false;
  }

  /**
   * Right after the partner the fixed run did something the buggy run never did (a statement
   * the fix added, or one the bug skipped): the step did not do all it should.
   */
  private followUpMissing(step: TraceStep, partner: TraceStep): boolean {
    const next = this.buggyNext.get(stepId(step));
    const partnerNext = this.fixedNext.get(stepId(partner));
    return (
      partnerNext !== undefined &&
      !this.fixedWithPartner.has(partnerNext.seq) &&
      !this.asksEnclosingDecisionAgain(partner, partnerNext) &&
      (next === undefined || this.partner(next)?.seq !== partnerNext.seq) &&
      !this.ranLaterInFrame(step, partnerNext)
    );
  }

  /**
   * The partner called a method that threw, and its invocation went on in the handler that
   * caught it: what followed the call was the callee's doing, not the calling line's.
   */
  private calleeThrewOnlyThere(partner: TraceStep): boolean {
    const partnerNext = this.fixedNext.get(stepId(partner));
    const callee = this.fixed.step({ threadId: partner.threadId, order: partner.order + 1 });
    return partnerNext?.caught !== undefined && sameStep(callee?.invocationParent, partner);
  }

  /**
   * The buggy run ran the statement of `partnerNext` a little later in the same invocation (two
   * statements the fix swapped): it is not missing after `step`, the one that ran in its place
   * is out of order.
   */
  private ranLaterInFrame(step: TraceStep, partnerNext: TraceStep): boolean {
    // In the step's own region (under the same decision run, or the step's branch when it is
    // the decision), not in a later round of a loop.
    const controllerOf = (s: TraceStep) => (s.controlDominator ? stepId(s.controlDominator) : '');
    const inRegion = (s: TraceStep) =>
      controllerOf(s) === controllerOf(step) || sameStep(s.controlDominator, step);
    let later = this.buggyNext.get(stepId(step));
    for (let i = 0; later && i < REORDER_WINDOW && inRegion(later); i++) {
      if (this.partner(later)?.seq === partnerNext.seq) return true;
      later = this.buggyNext.get(stepId(later));
    }
    return false;
  }

  /**
   * Execution went on from the step to a place both runs reached, but another one than after
   * the partner (`break` where `continue` was meant): the step itself sent it there. A buggy
   * step with no partner next (a statement the fix removed) says nothing about this one, nor
   * does a fixed run that went on to ask an enclosing loop's condition once more, unless the
   * step did nothing but move on (a `break`, a `continue`): then where it went is all it did.
   */
  private jumpedElsewhere(step: TraceStep, partner: TraceStep): boolean {
    const next = this.buggyNext.get(stepId(step));
    const partnerNext = this.fixedNext.get(stepId(partner));
    const nextPartner = next && this.partner(next);
    return (
      nextPartner !== undefined &&
      partnerNext !== undefined &&
      nextPartner.seq !== partnerNext.seq &&
      locationOf(nextPartner) !== locationOf(partnerNext) &&
      (onlyMovesOn(step) || !this.asksEnclosingDecisionAgain(partner, partnerNext)) &&
      !this.ranLaterInFrame(step, partnerNext)
    );
  }

  /**
   * After the partner the fixed run left the body (its next step asks an enclosing loop's
   * condition again, or is where the buggy run comes back to after a detour), while the buggy
   * run went on to a statement both versions have, which the fixed run did not run here: the
   * jump out (`continue`, `break`, `return`) the step should have been followed by is missing.
   * A next statement the fix deleted says nothing of the step.
   */
  private stayedWhereTheFixLeft(step: TraceStep, partner: TraceStep): boolean {
    const next = this.buggyNext.get(stepId(step));
    const partnerNext = this.fixedNext.get(stepId(partner));
    if (!next || !partnerNext || this.partner(next) || !this.fixedLocationOf) return false;
    const kept = !this.fixedLocationOf(next).endsWith(':0');
    return (
      kept &&
      (this.asksEnclosingDecisionAgain(partner, partnerNext) ||
        this.reachedAfterDetour(step, next, partnerNext))
    );
  }

  /**
   * From `from` on, the buggy run ran only steps the fixed run did not run here, all of them on
   * lines written between `step` and where it came to then: the partner of `partnerNext` (a
   * `case` without `break` runs the next case's statements, then leaves the `switch` where the
   * fixed run did at once).
   */
  private reachedAfterDetour(step: TraceStep, from: TraceStep, partnerNext: TraceStep): boolean {
    const detour: TraceStep[] = [];
    let at: TraceStep | undefined = from;
    for (let i = 0; at && i < REORDER_WINDOW; i++, at = this.buggyNext.get(stepId(at))) {
      const atPartner = this.partner(at);
      if (!atPartner) {
        detour.push(at);
        continue;
      }
      // Fell through statements written between the two (not round a loop once more).
      const meet = at;
      return (
        atPartner.seq === partnerNext.seq &&
        detour.every((d) => d.line > step.line && d.line < meet.line)
      );
    }
    return false;
  }

  /** The callee whose result `read` is was called by a part of the step's own line. */
  private calledOnItsOwnLine(step: TraceStep, read: TraceAccess): boolean {
    const returned = read.writer && this.buggy.step(read.writer);
    const call = returned?.invocationParent && this.buggy.step(returned.invocationParent);
    return call !== undefined && call.line === step.line && sameFrame(call, step);
  }

  /**
   * A decision that ended its invocation (a loop's last condition, then only the method's
   * closing brace) where the fixed run went on with a statement the buggy run does not have
   * (`lastTurnHour = hour;` after the loop): no later step of the call can take the blame for
   * the missing statement but the decision. Where a step follows, that step does
   * (precededByMissing).
   */
  private lastBeforeMissing(step: TraceStep, partner: TraceStep): boolean {
    const next = this.buggyNext.get(stepId(step));
    // A method's closing brace (its return, reading and writing nothing) is no such step.
    const nothingFollows =
      !next ||
      (next.reads.length === 0 && next.writes.length === 0 && !this.buggyNext.has(stepId(next)));
    return nothingFollows && this.followUpMissing(step, partner);
  }

  /**
   * Nothing of its invocation ran after the step, while the fixed run went on in the partner's
   * (`return c;` in a loop where `if (c != 0) return c;` was meant): the step ended the call.
   */
  private endedCallEarly(step: TraceStep, partner: TraceStep): boolean {
    return !this.buggyNext.has(stepId(step)) && this.fixedNext.has(stepId(partner));
  }

  /**
   * The fixed run went on by running a decision that encloses the step once more (a loop
   * condition asked again): what is missing is another round of that decision, not part of this
   * step's own work.
   */
  private asksEnclosingDecisionAgain(partner: TraceStep, partnerNext: TraceStep): boolean {
    const control = (step: TraceStep) =>
      step.controlDominator && this.fixed.step(step.controlDominator);
    for (let c = control(partner); c && sameFrame(c, partner); c = control(c)) {
      if (locationOf(c) === locationOf(partnerNext)) return true;
    }
    return false;
  }

  /**
   * Right before the partner the fixed run did something the buggy run never did (a statement
   * the fix added just above this one): what this step found was not prepared as it should be.
   */
  private precededByMissing(step: TraceStep, partner: TraceStep): boolean {
    const previous = beforeTheLine(step, this.buggyPrevious);
    const partnerPrevious = beforeTheLine(partner, this.fixedPrevious);
    return (
      partnerPrevious !== undefined &&
      !this.fixedWithPartner.has(partnerPrevious.seq) &&
      (previous === undefined || this.partner(previous)?.seq !== partnerPrevious.seq)
    );
  }

  /** What the step left behind (variables, return value, arguments passed on) differs. */
  private effectDiffers(step: TraceStep, partner: TraceStep, failure: { seq: number }): boolean {
    return (
      step.seq === failure.seq ||
      firstDifference(step.writes, partner.writes, this.sameValue) !== undefined ||
      aliasingDifference([...step.reads, ...step.writes], [...partner.reads, ...partner.writes]) !==
        undefined ||
      writesOtherVariables(step, partner) ||
      writesOtherElements(step, partner) ||
      changesOtherObjects(step, partner) ||
      this.returnDiffers(step, partner) ||
      this.passedWrongArgument(step)
    );
  }

  /**
   * The step changed a library object's hidden state (known only by a digest of its visible
   * inputs, which cannot show a computation inside the line), and a later use of that state is
   * wrong although everything visible it read is right: the change itself was wrong.
   */
  private changedHiddenStateWrongly(step: TraceStep, failure: { seq: number }): boolean {
    for (const reader of this.readersOf.get(stepId(step)) ?? []) {
      const readsState = reader.reads.some((r) => r.kind === 'library' && sameStep(r.writer, step));
      const partner = this.partner(reader);
      if (
        !readsState ||
        !partner ||
        firstDifference(reader.reads, partner.reads, this.sameValue) !== undefined ||
        changesOtherObjects(reader, partner)
      )
        continue;
      if (this.effectDiffers(reader, partner, failure)) return true;
    }
    return false;
  }

  /**
   * Another line used the same state of the library object (the same last change), everything
   * visible it read right, and did what its partner did (`members.get(referrer)` found the
   * member): the state is right, so a line that used it wrongly (`members.get(intKey)` on a map
   * keyed by Long) is at fault itself. Only a use that left a value behind counts: not a branch
   * taken, nor an iterator or entry of the JDK, which look alike whatever the state holds.
   */
  private stateBornOutElsewhere(
    step: TraceStep,
    state: TraceAccess,
    failure: { seq: number },
  ): boolean {
    if (!state.writer) return false;
    const usesSameState = (r: TraceAccess) =>
      r.kind === 'library' && r.owner === state.owner && sameStep(r.writer, state.writer);
    return (this.readersOf.get(stepId(state.writer)) ?? []).some((reader) => {
      if (reader === step || locationOf(reader) === locationOf(step)) return false;
      if (!reader.reads.some(usesSameState)) return false;
      const returned = this.buggyReturns.get(stepId(reader));
      const leftSomething =
        reader.writes.some((w) => w.kind !== 'library' && tellsOfState(w.value)) ||
        (returned !== undefined && tellsOfState(returned));
      const partner = this.partner(reader);
      return (
        leftSomething &&
        partner !== undefined &&
        firstDifference(reader.reads, partner.reads, this.sameValue) === undefined &&
        !this.effectDiffers(reader, partner, failure)
      );
    });
  }

  /** The value the step handed back to its caller differs from the partner's. */
  private returnDiffers(step: TraceStep, partner: TraceStep): boolean {
    const mine = this.buggyReturns.get(stepId(step));
    const theirs = this.fixedReturns.get(stepId(partner));
    return mine !== undefined && theirs !== undefined && !this.sameValue(mine, theirs);
  }

  partner(step: TraceStep): TraceStep | undefined {
    const aligned = this.partnerBySeq.get(step.seq);
    if (aligned) return aligned;
    // Asked again and again (every value compared looks up where its object was made).
    if (!this.reordered.has(step.seq)) this.reordered.set(step.seq, this.reorderedPartner(step));
    return this.reordered.get(step.seq);
  }

  /** reorderedPartner's answers, by buggy seq. */
  private readonly reordered = new Map<number, TraceStep | undefined>();

  /** Steps by the step whose region they run in (`threadId:order`), see regionOf. */
  private readonly fixedByRegion: Map<string, TraceStep[]>;
  private readonly buggyByRegion: Map<string, TraceStep[]>;

  /**
   * A step the alignment left alone because the fix moved its statement (two statements swapped
   * cannot both stay in order): the fixed run's unaligned step of the same statement under the
   * same decision run (or call, for a method's top-level statements). The person would see the
   * statement ran in both, in another order. A statement split by a call runs as several steps
   * (`int on = tram.board(q)` before and after `board`): the n-th unaligned step of it pairs
   * with the n-th of the fixed run's.
   */
  private reorderedPartner(step: TraceStep): TraceStep | undefined {
    const region = regionOf(step);
    const locate = this.fixedLocationOf;
    if (!locate || !region) return undefined;
    const control = this.buggy.step(region);
    // The call a moved statement made is itself moved: its steps pair under its partner.
    const controlPartner = control && this.partner(control);
    if (!controlPartner) return undefined;
    const location = locate(step);
    const unalignedHere = this.buggyByRegion
      .get(stepId(region))
      ?.filter((b) => !this.partnerBySeq.has(b.seq) && locate(b) === location);
    const occurrence = Math.max(0, unalignedHere?.indexOf(step) ?? 0);
    const candidates = this.fixedByRegion
      .get(stepId(controlPartner))
      ?.filter((f) => !this.fixedWithPartner.has(f.seq) && locationOf(f) === location);
    return candidates?.[Math.min(occurrence, candidates.length - 1)];
  }

  /**
   * @param failure the step where the failure shows: its effect (the output) is known to be
   *   wrong even when it writes no variable
   */
  judge(step: TraceStep, failure: { seq: number }): Judgement {
    const partner = this.partner(step);
    if (!partner) return { kind: 'wrong-path' };
    const wrongRead =
      firstDifference(step.reads, partner.reads, this.sameValue) ??
      aliasingDifference(step.reads, partner.reads);
    if (wrongRead !== undefined) return { kind: 'wrong-value', readIndex: wrongRead };
    // Visible inputs agree but the step's effect does not: the hidden state of a library object
    // it used (a collection's contents) must be what is wrong, unless that state is known
    // whole (a list just made, still empty), which no computation can hide in.
    const hidden = step.reads.findIndex(
      (r) => r.kind === 'library' && !isStateKnownExactly(r.value),
    );
    const effectDiffers = this.effectDiffers(step, partner, failure);
    // It read another variable in place of one its partner read (`stops.get(k)` for
    // `stops.get(m)`), every value right for its name, and did something else: its own line.
    if (effectDiffers && readsOtherVariable(step, partner)) return { kind: 'correct' };
    // It went on with the result of another method than its partner called, on another line of
    // the statement (`case ROTOR -> sprayFlow(z)` for `rotorFlow(z)`, returned by the `return
    // switch` line): that result, right for the method that gave it, is the wrong value here,
    // and leads to the call. Called on its own line, the line itself is at fault.
    const otherResult = effectDiffers ? resultOfAnotherCall(step, partner) : undefined;
    if (otherResult !== undefined && !this.calledOnItsOwnLine(step, step.reads[otherResult]))
      return { kind: 'wrong-value', readIndex: otherResult };
    // Unless the step's own change of that state already differs: then this line did it.
    const changedDifferently =
      changesOtherObjects(step, partner) ||
      firstDifference(
        step.writes.filter((w) => w.kind === 'library'),
        partner.writes.filter((w) => w.kind === 'library'),
        this.sameValue,
      ) !== undefined;
    if (
      hidden >= 0 &&
      effectDiffers &&
      !changedDifferently &&
      !this.stateBornOutElsewhere(step, step.reads[hidden], failure)
    )
      return { kind: 'wrong-value', readIndex: hidden };
    // Right inputs and right effect, and execution went on where it should: it did all it
    // should, so if a later step read something as stale, the missing update lies elsewhere
    // (the recommender decides whether that question applies). Right inputs with a wrong
    // effect: `correct`, the step's own line is at fault.
    const decided = this.decisions.has(step.seq);
    const allRight =
      !effectDiffers &&
      !this.changedHiddenStateWrongly(step, failure) &&
      (decided
        ? !this.wentWrongWay(step, partner) && !this.lastBeforeMissing(step, partner)
        : (!this.followUpMissing(step, partner) || this.calleeThrewOnlyThere(partner)) &&
          !this.precededByMissing(step, partner) &&
          !this.jumpedElsewhere(step, partner) &&
          !this.stayedWhereTheFixLeft(step, partner) &&
          !this.endedCallEarly(step, partner));
    return { kind: allRight ? 'missing-update' : 'correct' };
  }
}

/**
 * The step of the same invocation before the line `step` ends: a line split by a call
 * (`p.nightsSold += r.nights()` runs before and after `nights`) is one statement, and what ran
 * before it is what ran before its first part.
 */
function beforeTheLine(
  step: TraceStep,
  previousOf: ReadonlyMap<string, TraceStep>,
): TraceStep | undefined {
  let previous = previousOf.get(stepId(step));
  let part = step;
  while (previous && locationOf(previous) === locationOf(part) && part.seq - previous.seq > 1) {
    part = previous;
    previous = previousOf.get(stepId(part));
  }
  return previous;
}

/** A step that read and wrote nothing: a jump (`break`, `continue`, `return;`) or an empty line. */
function onlyMovesOn(step: TraceStep): boolean {
  return step.reads.length === 0 && step.writes.length === 0;
}

/**
 * The lines of the steps the earlier runs of a loop condition led into (its body), in the same
 * invocation; empty where `step` is no later run of a condition controlled by its own line.
 */
function loopBodyLines(
  view: MemoryTraceView,
  byRegion: ReadonlyMap<string, TraceStep[]>,
  step: TraceStep,
): Set<number> {
  const lines = new Set<number>();
  let run = step.controlDominator && view.step(step.controlDominator);
  for (let i = 0; run && locationOf(run) === locationOf(step) && i < LOOP_RUNS_LIMIT; i++) {
    for (const under of byRegion.get(stepId(run)) ?? []) {
      if (under.line !== step.line && sameFrame(under, step)) lines.add(under.line);
    }
    run = run.controlDominator && view.step(run.controlDominator);
  }
  return lines;
}

/** A trace's steps grouped by the step whose region they run in (`threadId:order`). */
function stepsByRegion(view: MemoryTraceView): Map<string, TraceStep[]> {
  const byRegion = new Map<string, TraceStep[]>();
  for (const step of view.steps) {
    const region = regionOf(step);
    if (!region) continue;
    const key = stepId(region);
    const list = byRegion.get(key);
    if (list) list.push(step);
    else byRegion.set(key, [step]);
  }
  return byRegion;
}

/** What a step runs under: the decision that controls it, else the call of its method. */
function regionOf(step: TraceStep): TraceStep['controlDominator'] {
  return step.controlDominator ?? step.invocationParent;
}

/**
 * The step assigned other variables than its partner (a local, field or static of another name):
 * a wrong variable on its own line. Array elements and library state are left to the value
 * comparison, and to changesOtherObjects.
 */
function writesOtherVariables(step: TraceStep, partner: TraceStep): boolean {
  return differentNames(
    step,
    partner,
    (kind) => kind === 'local' || kind === 'field' || kind === 'static',
  );
}

/**
 * The step read as many variables as its partner but not the same ones: one was read in place
 * of another. (A different number of reads comes from a condition cut short, not a swap.)
 */
function readsOtherVariable(step: TraceStep, partner: TraceStep): boolean {
  const named = (reads: readonly TraceAccess[]) =>
    new Set(
      reads
        .filter((r) => r.kind === 'local' || r.kind === 'field' || r.kind === 'static')
        .map((r) => `${r.kind}:${r.name}`),
    );
  const mine = named(step.reads);
  const theirs = named(partner.reads);
  return mine.size === theirs.size && [...mine].some((key) => !theirs.has(key));
}

/**
 * The index of a traced callee's result the step read where its partner read the result of a
 * method of another name, and none of this one's.
 */
function resultOfAnotherCall(step: TraceStep, partner: TraceStep): number | undefined {
  const results = (reads: readonly TraceAccess[]) =>
    new Set(reads.filter((r) => r.kind === 'return').map((r) => r.name));
  const theirs = results(partner.reads);
  const mine = results(step.reads);
  if (![...theirs].some((name) => !mine.has(name))) return undefined;
  const index = step.reads.findIndex((r) => r.kind === 'return' && !theirs.has(r.name));
  return index < 0 ? undefined : index;
}

/**
 * The step stored into other array elements than its partner (`parent[a] = r` for
 * `parent[ra] = r`), pairing element writes by position: it updated the wrong element, which the
 * value comparison, pairing elements by index, cannot show.
 */
function writesOtherElements(step: TraceStep, partner: TraceStep): boolean {
  const elements = (writes: readonly TraceAccess[]) => writes.filter((w) => w.kind === 'array');
  const theirs = elements(partner.writes);
  return elements(step.writes).some((w, i) => theirs[i] !== undefined && theirs[i].name !== w.name);
}

/**
 * The step changed other library objects than its partner did (`peekFirst()` where the fix's
 * `pollFirst()` takes the element out): the line itself does the wrong thing to them.
 */
function changesOtherObjects(step: TraceStep, partner: TraceStep): boolean {
  return differentNames(step, partner, (kind) => kind === 'library');
}

function differentNames(
  step: TraceStep,
  partner: TraceStep,
  counted: (kind: TraceAccess['kind']) => boolean,
): boolean {
  const named = (writes: readonly TraceAccess[]) =>
    new Set(writes.filter((w) => counted(w.kind)).map((w) => `${w.kind}:${w.name}`));
  const mine = named(step.writes);
  const theirs = named(partner.writes);
  return mine.size !== theirs.size || [...mine].some((key) => !theirs.has(key));
}

function readersByWriter(view: MemoryTraceView): Map<string, TraceStep[]> {
  const readers = new Map<string, TraceStep[]>();
  for (const step of view.steps) {
    for (const read of step.reads) {
      if (!read.writer) continue;
      const id = stepId(read.writer);
      const list = readers.get(id) ?? [];
      if (list.at(-1) !== step) list.push(step);
      readers.set(id, list);
    }
  }
  return readers;
}

/** Per step id: the next and the previous step of the same invocation. */
function frameNeighbours(view: MemoryTraceView): {
  next: Map<string, TraceStep>;
  previous: Map<string, TraceStep>;
} {
  const next = new Map<string, TraceStep>();
  const previous = new Map<string, TraceStep>();
  const last = new Map<string, TraceStep>();
  for (const step of view.steps) {
    const frame = `${step.threadId}:${step.className}.${step.method}:${step.invocationParent?.order ?? 0}`;
    const before = last.get(frame);
    if (before) {
      next.set(stepId(before), step);
      previous.set(stepId(step), before);
    }
    last.set(frame, step);
  }
  return { next, previous };
}

function returnedValues(view: MemoryTraceView): Map<string, string> {
  const values = new Map<string, string>();
  for (const step of view.steps) {
    for (const read of step.reads) {
      if (read.kind === 'return' && read.writer) values.set(stepId(read.writer), read.value);
    }
  }
  return values;
}

/**
 * Index of the first access whose value differs from the same variable's (same kind and name,
 * n-th occurrence) in the partner step. Object identities differ between runs, so references
 * compare by type only. Accesses without counterpart (the fix reads other variables) are not
 * compared. Library state (a StringBuilder's or list's contents) compares by its stand-in: the
 * number of changes and a digest of the values fed to them (libraryFlows.ts), which is what a
 * person looking at the object's contents in both runs would see agree or differ.
 */
function firstDifference(
  accesses: readonly TraceAccess[],
  partners: readonly TraceAccess[],
  same: SameValue,
): number | undefined {
  for (const index of differences(accesses, partners, same)) return index;
  return undefined;
}

/** Indexes of every access that differs from its partner's, in order (see firstDifference). */
function* differences(
  accesses: readonly TraceAccess[],
  partners: readonly TraceAccess[],
  same: SameValue,
): Generator<number> {
  const paired = pairedAccesses(accesses, partners);
  const answered = new Set<TraceAccess>();
  for (let i = 0; i < accesses.length; i++) {
    const access = accesses[i];
    if (access.wholeArray) {
      // Elements of an array handed whole to the JDK pair up by index. Where the partner's array
      // holds no element the program wrote at this index and this one does (a cell marked that
      // the fixed run left as it was made), the arrays differ there.
      const partner = partners.find((p) => p.wholeArray && p.name === access.name);
      if (partner ? !same(access.value, partner.value) : partners.some((p) => p.wholeArray))
        yield i;
      continue;
    }
    // Other array elements pair up by position among the step's element reads: `b[j][k]`
    // against `b[k][j]`. Where the indices differ, the step picked the wrong element: its own
    // fault, not a wrong value of what it read.
    if (access.kind === 'return' && access.name.endsWith('() returned')) {
      // Two calls of one method on a line (`compare(a.size(), b.size())`) answered the same
      // values in another order: the calls were made in another order, by this line.
      const sameAnswer = partners.find(
        (p) =>
          p.kind === 'return' &&
          p.name === access.name &&
          !answered.has(p) &&
          same(access.value, p.value),
      );
      if (sameAnswer) {
        answered.add(sameAnswer);
        continue;
      }
    }
    const partner = paired[i];
    if (partner && access.kind === 'array' && partner.name !== access.name) continue;
    if (partner && (!same(access.value, partner.value) || !sameObjectInputs(access, partner, same)))
      yield i;
  }
}

/** A value that says something of the state it came from: not a JDK object (an iterator). */
function tellsOfState(value: string): boolean {
  return !referenceParts(value)?.type.startsWith('java.');
}

/** Earlier runs of a loop condition that loopBodyLines looks under, at most. */
const LOOP_RUNS_LIMIT = 64;

type SameValue = (buggyValue: string, fixedValue: string) => boolean;

/**
 * The first access that is the very object an earlier access of the step is, where their
 * partners are two objects, or the other way round (`snapshot = balances` where a copy was
 * meant: the debugger shows both as the same LinkedHashMap@19, the fixed run's as two). Values
 * that only stand for what they hold (strings, boxes) are left out.
 */
function aliasingDifference(
  accesses: readonly TraceAccess[],
  partners: readonly TraceAccess[],
): number | undefined {
  const paired = pairedAccesses(accesses, partners);
  const isObject = (value: string) => {
    const type = referenceParts(value)?.type;
    return type !== undefined && !type.startsWith('java.lang.');
  };
  for (let j = 0; j < accesses.length; j++) {
    const pj = paired[j];
    if (!pj || !isObject(accesses[j].value) || !isObject(pj.value)) continue;
    for (let i = 0; i < j; i++) {
      const pi = paired[i];
      if (!pi || !isObject(accesses[i].value) || !isObject(pi.value)) continue;
      if ((accesses[i].value === accesses[j].value) !== (pi.value === pj.value)) return j;
    }
  }
  return undefined;
}

/**
 * Each access's partner access: the one of the same kind and name (any element, for arrays) in
 * the same position among those. Elements of a whole array handed to the JDK pair apart (by
 * index, in differences()) and get none here.
 */
function pairedAccesses(
  accesses: readonly TraceAccess[],
  partners: readonly TraceAccess[],
): (TraceAccess | undefined)[] {
  const seen = new Map<string, number>();
  return accesses.map((access) => {
    if (access.wholeArray) return undefined;
    const key = accessKey(access);
    const occurrence = seen.get(key) ?? 0;
    seen.set(key, occurrence + 1);
    return partners.filter((p) => accessKey(p) === key && !p.wholeArray)[occurrence];
  });
}

function accessKey(access: TraceAccess): string {
  return access.kind === 'array' ? 'array' : `${access.kind}:${access.name}`;
}

/**
 * Library states fed the same number of the program's objects, pairwise the same objects (a
 * list given the new, empty load where the full one was due holds other objects of the same
 * type). Where either side does not know them, they do not tell the states apart.
 */
function sameObjectInputs(access: TraceAccess, partner: TraceAccess, same: SameValue): boolean {
  const mine = access.objectInputs;
  const theirs = partner.objectInputs;
  if (!mine || !theirs) return true;
  return mine.length === theirs.length && mine.every((value, i) => same(value, theirs[i]));
}

/** Per reference: the first step that saw it (read, wrote, or used as owner), where it was made. */
function originsOf(view: MemoryTraceView): Map<string, TraceStep> {
  const origins = new Map<string, TraceStep>();
  for (const step of view.steps) {
    for (const access of [...step.reads, ...step.writes]) {
      for (const value of [access.value, access.owner]) {
        if (value !== undefined && identityMatters(value) && !origins.has(value)) {
          origins.set(value, step);
        }
      }
    }
  }
  return origins;
}

/**
 * Where the failure shows: the first output statement (System.out/err) that the oracle finds
 * wrong; else the output statement that printed the first differing line (one line per
 * statement assumed); else the main thread's last step.
 */
function findFailureStep(
  view: MemoryTraceView,
  oracle: FixedRunOracle,
  sourceLine: (className: string, line: number) => string | undefined,
  buggyOutput: string,
  fixedOutput: string,
): { step: TraceStep; how: string } {
  const mainThread = view.steps[0]?.threadId;
  const outputs = view.steps.filter(
    (s) =>
      /System\s*\.\s*(out|err)\s*\.\s*print/.test(sourceLine(s.className, s.line) ?? '') &&
      s.threadId === mainThread,
  );
  const noFailure = { seq: -1 };
  const wrong = outputs.find((s) =>
    ['wrong-value', 'wrong-path'].includes(oracle.judge(s, noFailure).kind),
  );
  if (wrong) return { step: wrong, how: 'first output statement with a wrong value or path' };
  const buggyLines = buggyOutput.split('\n');
  const fixedLines = fixedOutput.split('\n');
  const firstDifferent = buggyLines.findIndex((line, i) => line !== fixedLines[i]);
  if (firstDifferent >= 0 && firstDifferent < outputs.length) {
    return { step: outputs[firstDifferent], how: 'output statement of the first differing line' };
  }
  const last = [...view.steps].reverse().find((s) => s.threadId === mainThread);
  if (!last) throw new Error('the buggy run recorded no steps');
  return { step: last, how: 'last step of the main thread' };
}
