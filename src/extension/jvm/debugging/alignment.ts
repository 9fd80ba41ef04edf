// Aligns the traces of a buggy and a fixed run of a program, as Tregression does: invocations
// are matched along the call tree, and within a matched invocation the steps are matched along
// the control structure. The steps a matched pair of decisions controls (a branch's body, a
// loop's iteration and, through the next run of the condition, the iterations after it) are
// matched only with each other, by location (a longest common subsequence), with buggy lines
// translated to fixed lines through the source diff. A flat match of a loop's lines would pair
// iteration k with whichever iteration lines up best, so a question about one iteration would
// be answered from another. A buggy step left without a partner ran only in the buggy version.

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
    callees: new Map(),
    controlled: new Map(),
    roots: new Map(),
  };
  const indexById = new Map<string, number>();
  steps.forEach((step, index) => {
    indexById.set(`${step.threadId}:${step.order}`, index);
    const frame = tree.frames.get(step.frameId);
    if (frame) {
      const controller = controllerInFrame(steps, view, index, indexById);
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

  const alignStepLists = (b: number[], f: number[]) => {
    const pairs = longestCommonSubsequence(
      b.map((index) => mapLine(buggy.steps[index].className, buggy.steps[index].line)),
      f.map((index) => fixed.steps[index].line),
    );
    for (const [i, j] of pairs) {
      matches.set(b[i], f[j]);
      frameWork.push([buggyTree.callees.get(b[i]) ?? [], fixedTree.callees.get(f[j]) ?? []]);
      stepWork.push([buggyTree.controlled.get(b[i]) ?? [], fixedTree.controlled.get(f[j]) ?? []]);
    }
  };

  for (const [thread, roots] of buggyTree.roots) {
    frameWork.push([roots, fixedTree.roots.get(thread) ?? []]);
  }
  while (frameWork.length > 0 || stepWork.length > 0) {
    const steps = stepWork.pop();
    if (steps) alignStepLists(...steps);
    else alignFrameLists(...frameWork.pop()!);
  }
  return matches;
}
