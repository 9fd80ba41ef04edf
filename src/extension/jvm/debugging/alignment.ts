// Aligns the traces of a buggy and a fixed run of a program, as Tregression does: invocations
// are matched along the call tree, and within a matched invocation the steps are matched by
// location (a longest common subsequence), with buggy lines translated to fixed lines through
// the source diff. A buggy step left without a partner ran only in the buggy version.

import type { JvmStep } from '../decoder';
import { longestCommonSubsequence } from './lcs';

/** Buggy line -> fixed line, per class (identity where unknown). */
export type LineMapping = (className: string, line: number) => number;

interface FrameNode {
  method: string;
  steps: number[];
}

interface CallTree {
  frames: Map<number, FrameNode>;
  /** Frames called from a step (by step index), in call order. */
  callees: Map<number, number[]>;
  /** Outermost frames per thread name. */
  roots: Map<string, number[]>;
}

function callTree(steps: readonly JvmStep[]): CallTree {
  const tree: CallTree = { frames: new Map(), callees: new Map(), roots: new Map() };
  const indexByOrder = new Map<string, number>();
  steps.forEach((step, index) => {
    indexByOrder.set(`${step.threadId}:${step.order}`, index);
    if (tree.frames.has(step.frameId)) {
      tree.frames.get(step.frameId)!.steps.push(index);
      return;
    }
    tree.frames.set(step.frameId, {
      method: `${step.className}.${step.method}${step.methodDescriptor}`,
      steps: [index],
    });
    const caller =
      step.callerOrder > 0 ? indexByOrder.get(`${step.threadId}:${step.callerOrder}`) : undefined;
    const siblings =
      caller === undefined ? listIn(tree.roots, step.thread) : listIn(tree.callees, caller);
    siblings.push(step.frameId);
  });
  return tree;
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
  buggy: readonly JvmStep[],
  fixed: readonly JvmStep[],
  mapLine: LineMapping,
): Map<number, number> {
  const buggyTree = callTree(buggy);
  const fixedTree = callTree(fixed);
  const matches = new Map<number, number>();

  const alignFrameLists = (buggyFrames: number[], fixedFrames: number[]) => {
    const pairs = longestCommonSubsequence(
      buggyFrames.map((id) => buggyTree.frames.get(id)!.method),
      fixedFrames.map((id) => fixedTree.frames.get(id)!.method),
    );
    for (const [i, j] of pairs) alignFrame(buggyFrames[i], fixedFrames[j]);
  };

  const alignFrame = (buggyFrame: number, fixedFrame: number) => {
    const b = buggyTree.frames.get(buggyFrame)!.steps;
    const f = fixedTree.frames.get(fixedFrame)!.steps;
    const pairs = longestCommonSubsequence(
      b.map((index) => `${mapLine(buggy[index].className, buggy[index].line)}`),
      f.map((index) => `${fixed[index].line}`),
    );
    for (const [i, j] of pairs) {
      matches.set(b[i], f[j]);
      alignFrameLists(buggyTree.callees.get(b[i]) ?? [], fixedTree.callees.get(f[j]) ?? []);
    }
  };

  for (const [thread, roots] of buggyTree.roots) {
    alignFrameLists(roots, fixedTree.roots.get(thread) ?? []);
  }
  return matches;
}
