// Aligns the traces of a buggy and a fixed run of a program, as Tregression does: invocations
// are matched along the call tree, and within a matched invocation the steps are matched along
// the control structure. The steps a matched pair of decisions controls (a branch's body, a
// loop's iteration and, through the next run of the condition, the iterations after it) are
// matched only with each other, by location (a longest common subsequence), with buggy lines
// translated to fixed lines through the source diff. A flat match of a loop's lines would pair
// iteration k with whichever iteration lines up best, so a question about one iteration would
// be answered from another. A buggy step left without a partner ran only in the buggy version,
// unless the fix moved it under another decision of its invocation (a second chance, below).

import type { JvmStep } from '../decoder';
import { longestCommonSubsequence } from './lcs';
import { stepId, type MemoryTraceView } from './traceView';

/** Buggy line -> fixed line, per class (identity where unknown). */
export type LineMapping = (className: string, line: number) => number;

/** A decoded run and its relations, as the alignment needs them. */
export interface AlignableRun {
  steps: readonly JvmStep[];
  view: MemoryTraceView;
}

interface FrameNode {
  method: string;
  /** Steps not controlled by another step of the same invocation, in execution order. */
  roots: number[];
}

interface CallTree {
  frames: Map<number, FrameNode>;
  /** Per step index: the step of the same invocation that controls it (undefined: a root). */
  controllerOf: (number | undefined)[];
  /** Per frame id: its steps' indices, in execution order. */
  stepsOfFrame: Map<number, number[]>;
  /** Per step index: its position in its frame's list of steps. */
  positionInFrame: number[];
  /** Frames called from a step (by step index), in call order. */
  callees: Map<number, number[]>;
  /** Steps controlled by a step of the same invocation (by step index), in execution order. */
  controlled: Map<number, number[]>;
  /** Outermost frames per thread name. */
  roots: Map<string, number[]>;
}

function callTree({ steps, view }: AlignableRun): CallTree {
  const tree: CallTree = {
    frames: new Map(),
    controllerOf: [],
    stepsOfFrame: new Map(),
    positionInFrame: [],
    callees: new Map(),
    controlled: new Map(),
    roots: new Map(),
  };
  const indexById = new Map<string, number>();
  steps.forEach((step, index) => {
    indexById.set(`${step.threadId}:${step.order}`, index);
    const frameSteps = listIn(tree.stepsOfFrame, step.frameId);
    tree.positionInFrame[index] = frameSteps.length;
    frameSteps.push(index);
    const frame = tree.frames.get(step.frameId);
    if (frame) {
      const controller = controllerInFrame(steps, view, index, indexById);
      tree.controllerOf[index] = controller;
      if (controller !== undefined) listIn(tree.controlled, controller).push(index);
      else frame.roots.push(index);
      return;
    }
    tree.frames.set(step.frameId, {
      method: `${step.className}.${step.method}${step.methodDescriptor}`,
      roots: [index],
    });
    const caller =
      step.callerOrder > 0 ? indexById.get(`${step.threadId}:${step.callerOrder}`) : undefined;
    const siblings =
      caller === undefined ? listIn(tree.roots, step.thread) : listIn(tree.callees, caller);
    siblings.push(step.frameId);
  });
  return tree;
}

/**
 * The step of the same invocation that controls a step. A controller in a callee (the `throw`
 * that sent execution into this frame's `catch`) stands for the call that led to it.
 */
function controllerInFrame(
  steps: readonly JvmStep[],
  view: MemoryTraceView,
  index: number,
  indexById: ReadonlyMap<string, number>,
): number | undefined {
  const control = view.steps[index].controlDominator;
  let controller = control ? indexById.get(stepId(control)) : undefined;
  while (controller !== undefined && steps[controller].frameId !== steps[index].frameId) {
    const { threadId, callerOrder } = steps[controller];
    controller = callerOrder > 0 ? indexById.get(`${threadId}:${callerOrder}`) : undefined;
  }
  return controller;
}

function listIn<K>(map: Map<K, number[]>, key: K): number[] {
  let list = map.get(key);
  if (!list) {
    list = [];
    map.set(key, list);
  }
  return list;
}

/** Buggy step index -> fixed step index, for the steps that have a partner. */
export function alignTraces(
  buggy: AlignableRun,
  fixed: AlignableRun,
  mapLine: LineMapping,
): Map<number, number> {
  const buggyTree = callTree(buggy);
  const fixedTree = callTree(fixed);
  const matches = new Map<number, number>();
  // Explicit work lists: loop iterations nest one level per iteration, deeper than the stack.
  const frameWork: [number[], number[]][] = [];
  const stepWork: [number[], number[]][] = [];

  const alignFrameLists = (buggyFrames: number[], fixedFrames: number[]) => {
    const pairs = longestCommonSubsequence(
      buggyFrames.map((id) => buggyTree.frames.get(id)!.method),
      fixedFrames.map((id) => fixedTree.frames.get(id)!.method),
    );
    for (const [i, j] of pairs) {
      stepWork.push([
        buggyTree.frames.get(buggyFrames[i])!.roots,
        fixedTree.frames.get(fixedFrames[j])!.roots,
      ]);
    }
  };

  const fixedMatched = new Set<number>();
  const alignStepLists = (b: number[], f: number[]) => {
    // A step matched by a second chance may meet its old siblings again here.
    const free = f.filter((index) => !fixedMatched.has(index));
    const pairs = longestCommonSubsequence(
      b.map((index) => mapLine(buggy.steps[index].className, buggy.steps[index].line)),
      free.map((index) => fixed.steps[index].line),
    );
    for (const [i, j] of pairs) match(b[i], free[j]);
  };
  const match = (b: number, f: number) => {
    matches.set(b, f);
    fixedMatched.add(f);
    frameWork.push([buggyTree.callees.get(b) ?? [], fixedTree.callees.get(f) ?? []]);
    stepWork.push([buggyTree.controlled.get(b) ?? [], fixedTree.controlled.get(f) ?? []]);
  };
  const drain = () => {
    while (frameWork.length > 0 || stepWork.length > 0) {
      const steps = stepWork.pop();
      if (steps) alignStepLists(...steps);
      else alignFrameLists(...frameWork.pop()!);
    }
  };

  for (const [thread, roots] of buggyTree.roots) {
    frameWork.push([roots, fixedTree.roots.get(thread) ?? []]);
  }
  drain();
  const rehoming = new SecondChance(
    buggy,
    fixed,
    buggyTree,
    fixedTree,
    mapLine,
    matches,
    fixedMatched,
  );
  for (let index = 0; index < buggy.steps.length; index++) {
    if (matches.has(index)) continue;
    const partner = rehoming.partnerOf(index);
    if (partner === undefined) continue;
    match(index, partner);
    drain();
  }
  return matches;
}

/** Control levels a second chance looks up from a step, and down from its ancestor's partner. */
const REHOME_LEVELS = 3;
/** Fixed steps a second chance reads at most, between the partners of a step's neighbours. */
const REHOME_WINDOW = 256;

/**
 * A fix can move a statement under another decision of the same invocation: with a `break`
 * added after `chosen = d`, the loop's next round depends on the `if`, not on the previous
 * round. The control-structured match then leaves the round's step alone, though the person
 * would see it ran in both versions. A second chance pairs such a step with a fixed step of the
 * same (translated) line that is also unpaired, sits under the partner of one of the step's
 * enclosing decisions (a few levels up or down) or, for a loop condition's next round, under
 * the round just above that partner, and lies between the partners of the step's paired
 * neighbours in its invocation, so the order of the invocation's steps is kept.
 */
class SecondChance {
  constructor(
    private readonly buggy: AlignableRun,
    private readonly fixed: AlignableRun,
    private readonly buggyTree: CallTree,
    private readonly fixedTree: CallTree,
    private readonly mapLine: LineMapping,
    private readonly matches: ReadonlyMap<number, number>,
    private readonly fixedMatched: ReadonlySet<number>,
  ) {}

  partnerOf(index: number): number | undefined {
    const anchor = this.pairedAncestor(index);
    if (anchor === undefined) return undefined;
    const line = this.mapLine(this.buggy.steps[index].className, this.buggy.steps[index].line);
    const frame = this.fixed.steps[anchor].frameId;
    const steps = this.fixedTree.stepsOfFrame.get(frame)!;
    const window = this.window(index, frame, steps.length);
    if (!window) return undefined;
    const [from, to] = window;
    // Under the anchor's partner, or else, for a loop's condition, beside it, under the previous
    // run of the condition: a `break` for a `continue` makes the loop's next round depend on
    // the `if` in one version and on the previous round in the other.
    const above = this.fixedTree.controllerOf[anchor];
    const nextRound = above !== undefined && this.fixed.steps[above].line === line;
    for (const ancestor of nextRound ? [anchor, above] : [anchor]) {
      for (let k = from; k < to && k - from < REHOME_WINDOW; k++) {
        const candidate = steps[k];
        if (this.fixedMatched.has(candidate) || this.fixed.steps[candidate].line !== line) continue;
        if (this.isUnder(candidate, ancestor)) return candidate;
      }
    }
    return undefined;
  }

  /** The partner of the nearest paired decision above the step, a few levels up at most. */
  private pairedAncestor(index: number): number | undefined {
    let controller = this.buggyTree.controllerOf[index];
    for (let level = 0; controller !== undefined && level < REHOME_LEVELS; level++) {
      const partner = this.matches.get(controller);
      if (partner !== undefined) return partner;
      controller = this.buggyTree.controllerOf[controller];
    }
    return undefined;
  }

  /** Whether the fixed step runs under `ancestor`, a few control levels down, in its round. */
  private isUnder(index: number, ancestor: number): boolean {
    const ancestorLine = this.fixed.steps[ancestor].line;
    let controller = this.fixedTree.controllerOf[index];
    for (let level = 0; controller !== undefined && level < REHOME_LEVELS; level++) {
      if (controller === ancestor) return true;
      // Another run of the ancestor's line on the way: the step belongs to a later round of
      // the loop, not to the ancestor's own.
      if (this.fixed.steps[controller].line === ancestorLine) return false;
      controller = this.fixedTree.controllerOf[controller];
    }
    return false;
  }

  /**
   * Positions in the fixed invocation's step list strictly between the partners of the nearest
   * paired steps before and after `index` in its own invocation; undefined when the one before
   * is further than REHOME_WINDOW steps away (a long stretch that ran only in the buggy version
   * is not the moved step a second chance is for, and the bound keeps long traces linear).
   */
  private window(
    index: number,
    fixedFrame: number,
    fixedLength: number,
  ): [number, number] | undefined {
    const own = this.buggyTree.stepsOfFrame.get(this.buggy.steps[index].frameId)!;
    const at = this.buggyTree.positionInFrame[index];
    const nearestPartner = (direction: 1 | -1): number | null | undefined => {
      for (let k = at + direction, seen = 0; k >= 0 && k < own.length; k += direction) {
        if (++seen > REHOME_WINDOW) return undefined;
        const partner = this.matches.get(own[k]);
        if (partner === undefined) continue;
        // A partner in another fixed invocation bounds nothing here.
        if (this.fixed.steps[partner].frameId !== fixedFrame) return null;
        return this.fixedTree.positionInFrame[partner];
      }
      return null; // the invocation's start or end: no bound
    };
    const before = nearestPartner(-1);
    if (before === undefined) return undefined;
    // Nothing paired within reach after the step: the rest of the invocation may have been left
    // unpaired by the very move this is for (a `continue` added in a loop puts every later round
    // under the `if` in the fixed run), so only the partner before bounds the search.
    const after = nearestPartner(1) ?? null;
    return [before === null ? 0 : before + 1, after === null ? fixedLength : after];
  }
}
