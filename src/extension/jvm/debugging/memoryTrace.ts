// Builds an in-memory TraceView from decoded agent steps: per-read data dominators (last writer
// of the same storage), control dominators and invocation parents (computeRelations), plus the
// flows through uninstrumented code that the agent cannot see (libraryFlows.ts).

import type { JvmMethodInfo, JvmStep, JvmVarAccess } from '../decoder';
import { computeRelations, type JvmRelations } from '../relations';
import { LibraryFlowTracker, type LineContext, type SourceLines } from './libraryFlows';
import {
  MemoryTraceView,
  type MethodCode,
  type StepRef,
  type TraceAccess,
  type TraceStep,
} from './traceView';

export interface MemoryTraceOptions {
  /** Source text of a line, when known: sharpens the guesses about library calls. */
  sourceLine?: SourceLines;
  /** Leave out the library-flow links (to measure what they bring). */
  withoutLibraryFlows?: boolean;
}

export function buildMemoryTrace(
  steps: readonly JvmStep[],
  methods: ReadonlyMap<number, JvmMethodInfo>,
  options: MemoryTraceOptions = {},
): MemoryTraceView {
  const relations = computeRelations(steps, methods);
  const refOf = (index: number): StepRef | undefined =>
    index < 0 ? undefined : { threadId: steps[index].threadId, order: steps[index].order };
  const lastWriter = new Map<string, StepRef>();
  const built: TraceStep[] = [];
  const enricher = new TraceEnricher(steps, relations, built, options);
  steps.forEach((step, index) => {
    const ref = refOf(index)!;
    built.push({
      ...ref,
      seq: step.seq,
      className: step.className,
      method: step.method,
      line: step.line,
      reads: step.reads.map((read) => ({ ...plainAccess(read), writer: lastWriter.get(read.key) })),
      writes: step.writes.map(plainAccess),
      controlDominator: refOf(relations.controlDominator[index]),
      invocationParent: refOf(relations.invocationParent[index]),
    });
    enricher.visit(index);
    for (const write of step.writes) lastWriter.set(write.key, ref);
  });
  return new MemoryTraceView(built, methodCode(methods.values(), options.sourceLine));
}

/** What methodCode needs of a declared method (decoded, or read back from a session). */
export type DeclaredMethod = Pick<JvmMethodInfo, 'className' | 'name' | 'lines' | 'branches'>;

/** The declared methods (lines, decisions and the lines each controls) and the source text. */
export function methodCode(
  methods: Iterable<DeclaredMethod>,
  sourceLine: SourceLines = () => undefined,
): MethodCode {
  const byName = new Map<string, DeclaredMethod[]>();
  for (const method of methods) {
    const key = `${method.className}.${method.name}`;
    byName.set(key, [...(byName.get(key) ?? []), method]);
  }
  const declared = (className: string, method: string) =>
    byName.get(`${className}.${method}`) ?? [];
  return {
    lines: (className, method) =>
      [...new Set(declared(className, method).flatMap((m) => m.lines))].sort((a, b) => a - b),
    guardsOfLine: (className, method, line) => {
      const guards: { line: number; size: number }[] = [];
      for (const m of declared(className, method)) {
        for (const branch of m.branches) {
          if (branch.controls.some((index) => m.lines[index] === line)) {
            guards.push({ line: m.lines[branch.lineIndex], size: branch.controls.length });
          }
        }
      }
      return guards.sort((a, b) => a.size - b.size).map((g) => g.line);
    },
    sourceLine,
    methods: () =>
      [...byName.values()].map(([first]) => ({ className: first.className, method: first.name })),
  };
}

function plainAccess(access: JvmVarAccess): TraceAccess {
  return {
    kind: access.kind,
    name: access.name,
    ...(access.owner === undefined ? {} : { owner: access.owner }),
    value: access.value,
  };
}

/** How the steps hang together: step indices, -1 for none (computeRelations' arrays). */
export type StepLinks = Pick<
  JvmRelations,
  'invocationParent' | 'stepOverNext' | 'stepOverPrevious'
>;

/**
 * Adds to each step what the agent's events do not say directly: the arguments a call passed
 * (read by the callee's first step), the value a callee returned (read by the caller's step that
 * uses it), the reads of a statement's earlier lines, and the flows through uninstrumented
 * library code. Visits steps in execution order, each right after it was built with its own
 * reads' writers; works the same on a decoded trace and on a run read back from a session.
 */
export class TraceEnricher {
  private readonly library: LibraryFlowTracker | undefined;
  private readonly lines: LineContexts;
  private readonly returns: ReturnLinker;
  private readonly framesSeen = new Set<number>();

  constructor(
    private readonly steps: readonly JvmStep[],
    private readonly links: StepLinks,
    private readonly built: TraceStep[],
    private readonly options: MemoryTraceOptions,
  ) {
    const instrumented = new Set(steps.map((s) => s.className));
    this.library = options.withoutLibraryFlows
      ? undefined
      : new LibraryFlowTracker(instrumented, options.sourceLine);
    this.lines = new LineContexts(steps, links, options.sourceLine);
    this.returns = new ReturnLinker(steps, built);
  }

  visit(index: number): void {
    const step = this.steps[index];
    const traceStep = this.built[index];
    if (!this.framesSeen.has(step.frameId)) {
      this.framesSeen.add(step.frameId);
      addArgumentReads(traceStep, step);
    }
    if (this.options.sourceLine) {
      carryStatementReads(index, this.steps, this.links, this.built, this.options.sourceLine);
    }
    this.carryAcrossCall(index);
    this.returns.visit(index, this.links.invocationParent[index]);
    addCaughtRead(traceStep, step);
    this.library?.visit(traceStep, step, this.lines.of(index));
  }

  /**
   * The step resumes its line after a call: it computes with what the part before the call read
   * (`total += f(x)` read total before the call; `routes.get(t).add(new Job(s, start, end))`
   * adds after the constructor, with `t` read before it). The callee's result, if any, is added
   * next (ReturnLinker).
   */
  private carryAcrossCall(index: number): void {
    const before = this.links.stepOverPrevious[index];
    if (before < 0 || !this.lines.resumesAfterCall(before, index)) return;
    this.built[index].reads.push(...this.built[before].reads.map((r) => ({ ...r })));
  }
}

/**
 * A method's first step carries its argument writes; the values come from the calling step.
 * Reads of them, written by the caller, let "this argument is wrong" lead back to the call.
 */
function addArgumentReads(step: TraceStep, raw: JvmStep): void {
  if (!step.invocationParent) return;
  const count = parameterCount(raw.methodDescriptor);
  const parameters = raw.writes.slice(0, count).filter((w) => w.kind === 'local');
  // The first line's own reads of a parameter see the caller's value.
  raw.reads.forEach((read, i) => {
    if (!step.reads[i].writer && parameters.some((p) => p.key === read.key)) {
      step.reads[i].writer = step.invocationParent;
    }
  });
  for (const write of parameters) {
    step.reads.push({
      kind: 'local',
      name: `${write.name} (argument)`,
      value: write.value,
      writer: step.invocationParent,
    });
  }
}

/**
 * A handler's first step takes in the exception that was thrown (its control dominator, the
 * throwing step): "this exception is wrong" leads to where it came from.
 */
function addCaughtRead(step: TraceStep, raw: JvmStep): void {
  if (raw.caught === undefined) return;
  step.caught = raw.caught;
  step.reads.push({
    kind: 'return',
    name: 'exception caught',
    value: raw.caught,
    ...(step.controlDominator ? { writer: step.controlDominator } : {}),
  });
}

function parameterCount(descriptor: string): number {
  let count = 0;
  for (let i = 1; i < descriptor.length && descriptor[i] !== ')'; i++) {
    while (descriptor[i] === '[') i++;
    if (descriptor[i] === 'L') i = descriptor.indexOf(';', i);
    count++;
  }
  return count;
}

/**
 * Links a callee's returned value to the caller step that consumes it: the caller's next step
 * when it continues the calling line after the call (`x = f(y)` splits into two steps), else
 * the calling step itself. Without it, `x = f(y)` would seem to compute x from y alone.
 */
class ReturnLinker {
  /** Caller frame id -> the returned value waiting for the frame's next step. */
  private readonly pending = new Map<number, { access: TraceAccess; callIndex: number }>();
  /** Frame id of each step, to find the caller frame of a returning step. */
  private readonly frameOfStep: number[] = [];

  constructor(
    private readonly steps: readonly JvmStep[],
    private readonly built: TraceStep[],
  ) {}

  visit(index: number, callerIndex: number): void {
    const step = this.steps[index];
    this.frameOfStep[index] = step.frameId;
    const waiting = this.pending.get(step.frameId);
    if (waiting) {
      this.pending.delete(step.frameId);
      const resumed = step.line === this.steps[waiting.callIndex].line;
      this.built[resumed ? index : waiting.callIndex].reads.push(waiting.access);
    }
    if (step.returnValue === undefined || callerIndex < 0) return;
    const callerFrame = this.steps[callerIndex].frameId;
    this.pending.set(callerFrame, {
      callIndex: callerIndex,
      access: {
        kind: 'return',
        name: `${step.method}() returned`,
        value: step.returnValue,
        writer: { threadId: step.threadId, order: step.order },
      },
    });
  }
}

/**
 * Where a line's execution is split by calls into traced methods (`sb.append(f(x))` runs as a
 * step before f and one after it), so the library flows know which part does what.
 */
class LineContexts {
  /** Step index -> names of the traced methods it called. */
  private readonly callees = new Map<number, Set<string>>();

  constructor(
    private readonly steps: readonly JvmStep[],
    private readonly relations: StepLinks,
    private readonly sourceLine?: SourceLines,
  ) {
    steps.forEach((step, index) => {
      const caller = relations.invocationParent[index];
      if (caller < 0) return;
      let names = this.callees.get(caller);
      if (!names) this.callees.set(caller, (names = new Set()));
      names.add(step.method);
    });
  }

  of(index: number): LineContext {
    const next = this.relations.stepOverNext[index];
    const earlier = this.partsBefore(index);
    // The line's calls, whichever part made them: after `kept = unique(list, dropped)` returns,
    // the part that stores the result must not take unique for a library call given the list.
    const calls = [...earlier, index].map((part) => this.callees.get(part) ?? NONE);
    const statement = this.statementParts(index);
    return {
      tracedCalls: calls.length === 1 ? calls[0] : new Set(calls.flatMap((names) => [...names])),
      continuesAfterCall: next >= 0 && this.resumesAfterCall(index, next),
      cutShortByThrow:
        next >= 0 && this.callees.has(index) && this.steps[next].caught !== undefined,
      carriedReads: earlier.flatMap((part) => this.steps[part].reads),
      earlierParts: earlier.map((part) => this.steps[part]),
      statementParts: this.onLaterLines(index, statement).map((part) => this.steps[part]),
      statementGoesOn: next >= 0 && this.laterLinesOfStatement(next).includes(index),
      statementReads: statement.flatMap((part) => this.steps[part].reads),
      statementEndsBackHere: this.endsBackOnItsLine(index),
    };
  }

  private statementParts(index: number): number[] {
    return this.sourceLine
      ? statementPartsBefore(index, this.steps, this.relations, this.sourceLine)
      : [];
  }

  /**
   * The statement of this step goes on over later lines and ends back on this one (`order.sort(
   * comparing(...)` / `.thenComparing(...));` sorts in its last step, on the first line).
   */
  private endsBackOnItsLine(index: number): boolean {
    const step = this.steps[index];
    let at = this.relations.stepOverNext[index];
    // Most steps are followed by one on the same or an earlier line: no statement goes on.
    if (!this.sourceLine || at < 0 || this.steps[at].line <= step.line) return false;
    const end = statementEnd(this.sourceLine, step.className, step.line);
    if (end === step.line) return false;
    for (
      let walked = 0;
      at >= 0 &&
      this.steps[at].frameId === step.frameId &&
      this.steps[at].line > step.line &&
      this.steps[at].line <= end &&
      walked < MAX_STATEMENT_STEPS;
      walked++
    )
      at = this.relations.stepOverNext[at];
    return (
      at >= 0 &&
      at !== this.relations.stepOverNext[index] &&
      this.steps[at].frameId === step.frameId &&
      this.steps[at].line === step.line &&
      this.statementParts(at)[0] === index
    );
  }

  /** The parts of statementPartsBefore on the statement's later lines. */
  private laterLinesOfStatement(index: number): number[] {
    return this.onLaterLines(index, this.statementParts(index));
  }

  private onLaterLines(index: number, parts: readonly number[]): number[] {
    return parts.filter((part) => this.steps[part].line !== this.steps[index].line);
  }

  /**
   * The earlier parts of the line that this step resumes, first part first: `log.add(r.time() +
   * " " + r.rider())` runs as three steps, and the last one, which calls `add`, needs `log`,
   * read by the first.
   */
  private partsBefore(index: number): number[] {
    const parts: number[] = [];
    for (
      let at = index, before = this.relations.stepOverPrevious[at];
      before >= 0 && this.resumesAfterCall(before, at);
      at = before, before = this.relations.stepOverPrevious[at]
    ) {
      parts.unshift(before);
    }
    return parts;
  }

  /** `after` resumes the line of `before`, its previous step in the frame, after a call. */
  resumesAfterCall(before: number, after: number): boolean {
    const a = this.steps[before];
    const b = this.steps[after];
    return a.frameId === b.frameId && a.line === b.line && this.callees.has(before);
  }
}

const NONE: ReadonlySet<string> = new Set();

/** Steps on a statement's later lines looked through for its end, at most. */
const MAX_STATEMENT_STEPS = 4096;

/** Lines a statement may span at most (a long argument list, a chained call). */
const MAX_STATEMENT_LINES = 20;

/**
 * Last line of the statement that starts on `line`: the first one ending with `;`, `{` or `}`,
 * except that a `switch` used as a value (`return switch (h) {`) goes on to its closing `};`.
 */
function statementEnd(sourceLine: SourceLines, className: string, line: number): number {
  let depth = 0;
  for (let l = line; l < line + MAX_STATEMENT_LINES; l++) {
    const text = sourceLine(className, l);
    if (text === undefined) return line;
    const code = text.replace(/\/\/.*$/, '').trim();
    if (l === line && /\S\s*\bswitch\s*\(.*\{$/.test(code)) depth = 1;
    else if (depth > 0) depth += (code.match(/{/g) ?? []).length - (code.match(/}/g) ?? []).length;
    if (depth === 0 && /[;{}]$/.test(code)) return l;
  }
  return line;
}

/**
 * A statement written over several lines runs as several steps: `return format(a,` then `b)`
 * on the next line, then back on the first line for the call itself. That last step reads
 * nothing the agent sees (its inputs are on the operand stack), yet computes from what the
 * earlier parts read: it gets their reads, as the step after a call does (ReturnLinker).
 */
function carryStatementReads(
  index: number,
  steps: readonly JvmStep[],
  relations: StepLinks,
  built: TraceStep[],
  sourceLine: SourceLines,
): void {
  for (const part of statementPartsBefore(index, steps, relations, sourceLine)) {
    built[index].reads.push(
      ...built[part].reads.filter((r) => r.kind !== 'library').map((r) => ({ ...r })),
    );
  }
}

/**
 * When a statement written over several lines comes back to the line it starts on (`index` is
 * on it, the step before it in the frame on a later line of the statement): the steps of the
 * frame that ran the statement before `index`, first first, back to and including the
 * statement's first run of that line. Empty otherwise.
 */
function statementPartsBefore(
  index: number,
  steps: readonly JvmStep[],
  relations: StepLinks,
  sourceLine: SourceLines,
): number[] {
  const step = steps[index];
  const previous = relations.stepOverPrevious[index];
  if (previous < 0 || steps[previous].frameId !== step.frameId) return [];
  if (steps[previous].line <= step.line) return [];
  const end = statementEnd(sourceLine, step.className, step.line);
  const parts: number[] = [];
  for (
    let p = previous;
    p >= 0 && steps[p].frameId === step.frameId;
    p = relations.stepOverPrevious[p]
  ) {
    const line = steps[p].line;
    if (line < step.line || line > end) break;
    parts.unshift(p);
    if (line === step.line) break;
  }
  return parts;
}
