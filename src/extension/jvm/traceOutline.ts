// The outline of one invocation's steps, as the Trace view shows it: the steps at one call
// depth, in order, with loops grouped into iterations. A loop shows in the trace as its
// condition's line running again under the control of its own previous run (the condition
// decides whether the next iteration happens); everything those runs control, directly or
// through branches inside the body, belongs to the loop. Reading is bounded (a page of
// entries, a budget of steps per loop), so a long trace outlines without being read whole.

/** What the outline needs of a trace (JvmTraceReader provides it). */
export interface OutlineSource {
  step(
    threadId: number,
    order: number,
  ): { depth: number; line: number; controlDominator: number | null } | undefined;
  stepOver(threadId: number, order: number, direction: 'next' | 'previous'): number | undefined;
}

export interface OutlineLimits {
  /** Entries per page. */
  page: number;
  /** Steps read at most to find where one loop ends. */
  loopBudget: number;
}

export const DEFAULT_OUTLINE_LIMITS: OutlineLimits = { page: 100, loopBudget: 20_000 };

export interface OutlineLoop {
  kind: 'loop';
  /** First step of each iteration (a run of the loop's condition line), in order. */
  heads: number[];
  /** Last step of the loop at this depth (as far as the budget reached). */
  last: number;
  /** False when the budget ran out before the loop ended. */
  complete: boolean;
}

export type OutlineEntry = { kind: 'step'; order: number } | OutlineLoop;

export interface OutlinePage {
  entries: OutlineEntry[];
  /** Where the next page starts, when there is more before `until`. */
  next?: number;
}

/**
 * Entries for the steps at the depth of `from`, from `from` on, until the invocation returns
 * or past `until` (an order in the same thread; the end of an iteration).
 */
export function outlineSteps(
  source: OutlineSource,
  threadId: number,
  from: number,
  until = Number.POSITIVE_INFINITY,
  limits: OutlineLimits = DEFAULT_OUTLINE_LIMITS,
): OutlinePage {
  const depth = source.step(threadId, from)?.depth;
  if (depth === undefined) return { entries: [] };
  const nextAtDepth = (order: number): number | undefined => {
    const next = source.stepOver(threadId, order, 'next');
    if (next === undefined || next > until) return undefined;
    return source.step(threadId, next)?.depth === depth ? next : undefined;
  };
  const entries: OutlineEntry[] = [];
  let order: number | undefined = from;
  while (order !== undefined && entries.length < limits.page) {
    const loop = loopStartingAt(source, threadId, order, nextAtDepth, limits.loopBudget);
    entries.push(loop ?? { kind: 'step', order });
    order = nextAtDepth(loop ? loop.last : order);
  }
  return order === undefined ? { entries } : { entries, next: order };
}

/** The loop whose first condition step is `head`, or undefined when `head` heads none. */
function loopStartingAt(
  source: OutlineSource,
  threadId: number,
  head: number,
  nextAtDepth: (order: number) => number | undefined,
  budget: number,
): OutlineLoop | undefined {
  const first = source.step(threadId, head);
  if (!first) return undefined;
  // The first run of a condition line is not controlled by an earlier run of its own line.
  const above = first.controlDominator;
  if (above !== null && source.step(threadId, above)?.line === first.line) return undefined;
  const members = new Set([head]);
  const heads = [head];
  let last = head;
  let read = 0;
  for (let order = nextAtDepth(head); order !== undefined; order = nextAtDepth(order)) {
    if (++read > budget)
      return heads.length > 1 ? { kind: 'loop', heads, last, complete: false } : undefined;
    const step = source.step(threadId, order);
    if (!step || step.controlDominator === null || !members.has(step.controlDominator)) break;
    members.add(order);
    // The condition line again, under the loop's control: the next iteration begins (its
    // controller is the previous condition run, or a branch of the body that went on looping).
    if (step.line === first.line) heads.push(order);
    last = order;
  }
  return heads.length > 1 ? { kind: 'loop', heads, last, complete: true } : undefined;
}

/** The last step of iteration `index` (0-based) of a loop. */
export function iterationEnd(loop: OutlineLoop, index: number): number {
  return index + 1 < loop.heads.length ? loop.heads[index + 1] - 1 : loop.last;
}

/**
 * Entries of one iteration of a loop: its condition step first (as a plain step, or it would
 * head the loop again), then the body at the same depth, nested loops grouped.
 */
export function outlineIteration(
  source: OutlineSource,
  threadId: number,
  loop: OutlineLoop,
  index: number,
  limits: OutlineLimits = DEFAULT_OUTLINE_LIMITS,
): OutlinePage {
  const head = loop.heads[index];
  const end = iterationEnd(loop, index);
  const depth = source.step(threadId, head)?.depth;
  let next = source.stepOver(threadId, head, 'next');
  if (next !== undefined && (next > end || source.step(threadId, next)?.depth !== depth)) {
    next = undefined;
  }
  const rest =
    next === undefined
      ? { entries: [] }
      : outlineSteps(source, threadId, next, end, { ...limits, page: limits.page - 1 });
  return { ...rest, entries: [{ kind: 'step', order: head }, ...rest.entries] };
}

/** Iterations that ran the loop's body; a last condition run that only ended the loop is not one. */
export function bodyIterations(loop: OutlineLoop): number {
  const lastHead = loop.heads[loop.heads.length - 1];
  return loop.complete && loop.last === lastHead ? loop.heads.length - 1 : loop.heads.length;
}
