// Relations between decoded steps, computed in one linear pass over the steps in decode order:
// invocation parent, step-in / step-over neighbours, control dominator (static branch tables +
// a per-frame stack of active branches) and data dominators (last-writer index per variable).

import type { JvmMethodInfo, JvmStep } from './decoder';

/** Per step (by index in the steps array), -1 where there is none. */
export interface JvmRelations {
  invocationParent: Int32Array;
  stepInNext: Int32Array;
  stepInPrevious: Int32Array;
  stepOverNext: Int32Array;
  stepOverPrevious: Int32Array;
  controlDominator: Int32Array;
  /** Steps that last wrote a variable this step reads (deduplicated, in read order). */
  dataDominators: Int32Array[];
}

interface ActiveBranch {
  branch: number;
  step: number;
}

interface FrameState {
  branches: ActiveBranch[];
  /** Position of each active branch in `branches` (a branch is active at most once). */
  positions: Map<number, number>;
}

interface ThreadCursor {
  previous: number;
  /** (frameId, depth, last step) of frames whose step-over successor is not known yet. */
  open: { frameId: number; depth: number; step: number }[];
  indexByOrder: Map<number, number>;
}

const NO_DEPENDENCES = new Int32Array(0);

/**
 * @param steps steps of one recording in decode order (as decodeTrace returns them)
 * @param methods static tables from the decoder (JvmTraceDecoder.methodTable())
 */
export function computeRelations(
  steps: readonly JvmStep[],
  methods: ReadonlyMap<number, JvmMethodInfo>,
): JvmRelations {
  const n = steps.length;
  const relations: JvmRelations = {
    invocationParent: new Int32Array(n).fill(-1),
    stepInNext: new Int32Array(n).fill(-1),
    stepInPrevious: new Int32Array(n).fill(-1),
    stepOverNext: new Int32Array(n).fill(-1),
    stepOverPrevious: new Int32Array(n).fill(-1),
    controlDominator: new Int32Array(n).fill(-1),
    dataDominators: new Array<Int32Array>(n),
  };
  const threads = new Map<number, ThreadCursor>();
  const frames = new Map<number, FrameState>();
  const controlSets = controlledLineSets(methods);
  const lastWriter = new Map<string, number>();
  const throwOrigins = new ThrowOrigins<string, number>();

  for (let i = 0; i < n; i++) {
    const step = steps[i];
    let thread = threads.get(step.threadId);
    if (thread === undefined) {
      thread = { previous: -1, open: [], indexByOrder: new Map() };
      threads.set(step.threadId, thread);
    }
    thread.indexByOrder.set(step.order, i);
    linkStepIn(relations, thread, i);
    relations.invocationParent[i] =
      step.callerOrder > 0 ? (thread.indexByOrder.get(step.callerOrder) ?? -1) : -1;
    linkStepOver(relations, thread, step, i);
    relations.controlDominator[i] = controlDominatorOf(step, i, frames, controlSets);
    exceptionControl(relations, step, i, throwOrigins);
    relations.dataDominators[i] = dataDominatorsOf(step, i, lastWriter);
  }
  return relations;
}

function linkStepIn(relations: JvmRelations, thread: ThreadCursor, i: number): void {
  if (thread.previous >= 0) {
    relations.stepInNext[thread.previous] = i;
    relations.stepInPrevious[i] = thread.previous;
  }
  thread.previous = i;
}

/**
 * Step over goes to the next step of the same frame, or, when the frame has ended, to the next
 * step at a shallower depth. Frames still waiting for their successor are kept on a stack.
 */
function linkStepOver(
  relations: JvmRelations,
  thread: ThreadCursor,
  step: JvmStep,
  i: number,
): void {
  const open = thread.open;
  while (open.length > 0) {
    const top = open[open.length - 1];
    if (top.depth < step.depth || (top.depth === step.depth && top.frameId === step.frameId)) break;
    open.pop();
    if (relations.stepOverNext[top.step] < 0) relations.stepOverNext[top.step] = i;
  }
  const top = open[open.length - 1];
  if (top !== undefined && top.frameId === step.frameId) {
    relations.stepOverNext[top.step] = i;
    relations.stepOverPrevious[i] = top.step;
    top.step = i;
  } else {
    open.push({ frameId: step.frameId, depth: step.depth, step: i });
  }
}

/**
 * The control dominator is the latest still-active branch step of the same frame whose
 * controlled lines include this step's line. Branches that do not control the line have ended
 * (structured code nests regions), so they are popped; a branch executed again replaces its
 * older instance and everything above it.
 */
function controlDominatorOf(
  step: JvmStep,
  i: number,
  frames: Map<number, FrameState>,
  controlSets: Map<number, Set<number>[]>,
): number {
  let frame = frames.get(step.frameId);
  if (frame === undefined) {
    frame = { branches: [], positions: new Map() };
    frames.set(step.frameId, frame);
  }
  const sets = controlSets.get(step.methodId);
  const active = frame.branches;
  while (active.length > 0) {
    const top = active[active.length - 1];
    if (sets?.[top.branch]?.has(step.lineIndex)) break;
    frame.positions.delete(top.branch);
    active.pop();
  }
  const dominator = active.length > 0 ? active[active.length - 1].step : -1;
  for (const branch of step.branches) {
    const existing = frame.positions.get(branch);
    if (existing !== undefined) {
      for (let k = active.length - 1; k >= existing; k--) frame.positions.delete(active[k].branch);
      active.length = existing;
    }
    frame.positions.set(branch, active.length);
    active.push({ branch, step: i });
  }
  return dominator;
}

/**
 * A handler's first step runs because an exception was thrown: its control dominator is the
 * first traced step the exception left (the `throw`, or the call into code that threw), not
 * the branch around the try. The handler's other steps are controlled by this first one (the
 * agent reports entering a handler as a branch that controls the catch block). The one rule,
 * used by computeRelations and by both session writers.
 */
export class ThrowOrigins<Exception, Step> {
  private readonly origins = new Map<Exception, { step: Step; depth: number }>();

  /**
   * `step` (at call depth `depth`) is the last step of a frame that `exception` left. Every
   * frame it leaves marks one; the deepest is where it started (steps are numbered in start
   * order, so a caller's step comes before its callee's `throw`).
   */
  thrown(exception: Exception, step: Step, depth: number): void {
    const known = this.origins.get(exception);
    if (known === undefined || known.depth < depth) this.origins.set(exception, { step, depth });
  }

  /** A handler caught `exception`: the step it depends on, when the throw was traced. */
  caught(exception: Exception): Step | undefined {
    const origin = this.origins.get(exception);
    this.origins.delete(exception);
    return origin?.step;
  }
}

function exceptionControl(
  relations: JvmRelations,
  step: JvmStep,
  i: number,
  origins: ThrowOrigins<string, number>,
): void {
  // Keyed by thread and exception object (`Type@id`).
  if (step.thrown !== undefined) origins.thrown(`${step.threadId}:${step.thrown}`, i, step.depth);
  if (step.caught === undefined) return;
  const origin = origins.caught(`${step.threadId}:${step.caught}`);
  if (origin !== undefined) relations.controlDominator[i] = origin;
}

function dataDominatorsOf(step: JvmStep, i: number, lastWriter: Map<string, number>): Int32Array {
  let result = NO_DEPENDENCES;
  if (step.reads.length > 0) {
    const found: number[] = [];
    for (const read of step.reads) {
      const writer = lastWriter.get(read.key);
      if (writer !== undefined && writer !== i && !found.includes(writer)) found.push(writer);
    }
    if (found.length > 0) result = Int32Array.from(found);
  }
  for (const write of step.writes) lastWriter.set(write.key, i);
  return result;
}

function controlledLineSets(
  methods: ReadonlyMap<number, JvmMethodInfo>,
): Map<number, Set<number>[]> {
  const sets = new Map<number, Set<number>[]>();
  for (const [id, method] of methods) {
    sets.set(
      id,
      method.branches.map((b) => new Set(b.controls)),
    );
  }
  return sets;
}
