/**
 * Travelling through a recorded JVM trace like a debugger that also runs
 * backwards. Every move is a pure function of the reader and the current step,
 * so the editor, the CLI and tests share one definition of "step over back".
 */
import type { JvmStepRef, JvmStoredAccess, JvmStoredStep, JvmTraceReader } from './traceReader';

export type NavigationMove =
  | 'stepForward'
  | 'stepBack'
  | 'stepOverForward'
  | 'stepOverBack'
  | 'stepInto'
  | 'stepOut'
  | 'controlDominator';

/** Where a move lands, or why it cannot move (shown to the person as is). */
export type MoveResult = { to: JvmStepRef } | { blocked: string };

export function move(reader: JvmTraceReader, at: JvmStepRef, kind: NavigationMove): MoveResult {
  const { threadId, order } = at;
  const total = threadLength(reader, threadId);
  const within = (target: number | undefined, why: string): MoveResult =>
    target !== undefined && target >= 1 && target <= total
      ? { to: { threadId, order: target } }
      : { blocked: why };
  switch (kind) {
    case 'stepForward':
      return within(order + 1, 'this is the last step of the thread');
    case 'stepBack':
      return within(order - 1, 'this is the first step of the thread');
    case 'stepOverForward':
      return within(
        stepOverLine(reader, at, 'next'),
        'no later step in this invocation or its callers',
      );
    case 'stepOverBack':
      return within(
        stepOverLine(reader, at, 'previous'),
        'no earlier step in this invocation or its callers',
      );
    case 'stepInto':
      return stepInto(reader, at, total);
    case 'stepOut':
      return within(
        reader.invocationParent(threadId, order),
        'this step is in the thread’s outermost method',
      );
    case 'controlDominator':
      return within(reader.controlDominator(threadId, order), 'no branch controls this step');
  }
}

/**
 * Step over as a debugger does it: to another line. A call in the middle of a
 * line splits it into steps (before and after the call) on the same line of
 * the same invocation; those count as one line: forwards they are passed
 * over, backwards the move lands on the first of them.
 */
function stepOverLine(
  reader: JvmTraceReader,
  at: JvmStepRef,
  direction: 'next' | 'previous',
): number | undefined {
  const here = reader.step(at.threadId, at.order);
  if (!here) return undefined;
  const over = (order: number) => reader.stepOver(at.threadId, order, direction);
  const sameLine = (order: number | undefined, as: JvmStoredStep) => {
    const step = order === undefined ? undefined : reader.step(at.threadId, order);
    return !!step && step.depth === as.depth && step.locationId === as.locationId;
  };
  let target = over(at.order);
  for (
    let hops = 0;
    target !== undefined && sameLine(target, here) && hops < MAX_SAME_LINE_HOPS;
    hops++
  ) {
    target = over(target);
  }
  if (direction === 'previous' && target !== undefined) {
    const landed = reader.step(at.threadId, target)!;
    for (let hops = 0; sameLine(over(target), landed) && hops < MAX_SAME_LINE_HOPS; hops++)
      target = over(target)!;
  }
  return target;
}

/** A line split by more calls than this is a loop on one line: each pass is its own step. */
const MAX_SAME_LINE_HOPS = 64;

/** Into the first step of a method this step calls; like step over when it calls none. */
function stepInto(reader: JvmTraceReader, at: JvmStepRef, total: number): MoveResult {
  const here = reader.step(at.threadId, at.order);
  const next = at.order < total ? reader.step(at.threadId, at.order + 1) : undefined;
  if (!here || !next) return { blocked: 'this is the last step of the thread' };
  if (next.depth > here.depth) return { to: { threadId: at.threadId, order: next.order } };
  return move(reader, at, 'stepOverForward');
}

function threadLength(reader: JvmTraceReader, threadId: number): number {
  return reader.threads().find((thread) => thread.threadId === threadId)?.steps ?? 0;
}

/** The step that wrote the value this step read, for one read access. */
export function writerOfRead(read: JvmStoredAccess): MoveResult {
  return read.writer
    ? { to: read.writer }
    : {
        blocked: `no recorded step wrote ${read.name} before this one (it was set outside the recording)`,
      };
}

/** Next or previous execution of a source line, in this thread. */
export function lineExecution(
  reader: JvmTraceReader,
  at: JvmStepRef,
  className: string,
  line: number,
  direction: 'next' | 'previous',
): MoveResult {
  const locations = reader.locationsOfLine(className, line);
  if (locations.length === 0)
    return { blocked: `line ${line} of ${className} never ran in this recording` };
  const found = reader.nextExecution(at.threadId, at.order, locations, direction);
  return found !== undefined
    ? { to: { threadId: at.threadId, order: found } }
    : { blocked: `no ${direction} execution of line ${line} in this thread` };
}

/** A short human description of one step, for pickers, hovers and the status bar. */
export function describeStep(step: JvmStoredStep): string {
  return `#${step.order} ${describeLocation(step)}`;
}

/** `Main.sum:17`: the step's line, named the way the Trace view and status bar name it. */
export function describeLocation(step: JvmStoredStep): string {
  const simpleClass = step.className.split('.').pop();
  return `${simpleClass}.${step.method}:${step.line}`;
}

/** What a read or write shows inline: `x = 3`, `Main@26.total = 0`, `int[4]@7[2] = 15`. */
export function describeAccess(access: JvmStoredAccess): string {
  const owner = access.owner ? shortType(access.owner) : '?';
  switch (access.kind) {
    case 'field':
      return `${owner}.${access.name} = ${access.value}`;
    case 'array':
      return `${owner}${access.name} = ${access.value}`;
    case 'static':
      return `${shortType(access.name)} = ${access.value}`;
    default:
      return `${access.name} = ${access.value}`;
  }
}

/** `demo.Main@26` -> `Main@26`: the package adds length, not meaning, in an editor line. */
function shortType(text: string): string {
  return text.replace(/\b(?:[a-z_$][\w$]*\.)+(?=[A-Z_$])/g, '');
}
