// The read-only view of a recorded trace that feedback debugging works on. It asks only for
// single steps by (thread, order), so it runs on an in-memory trace (tests, the debug-sim
// research mode) and on a session-backed one (JvmTraceReader) alike.

import { isArrayTypeText, referenceParts } from '../javaText';
import type { JvmStoredAccess, JvmStoredStep, JvmTraceReader } from '../traceReader';

export interface StepRef {
  threadId: number;
  /** 1-based position in the thread. */
  order: number;
}

export type TraceAccessKind = 'local' | 'field' | 'static' | 'array' | 'library' | 'return';

export interface TraceAccess {
  /**
   * `library` is a virtual variable: the hidden state of an object only uninstrumented code
   * (the JDK) reads and writes, e.g. the contents of an ArrayList (see libraryFlows.ts).
   * `return` is the value a traced callee returned, read by the caller's step that uses it.
   */
  kind: TraceAccessKind;
  name: string;
  owner?: string;
  value: string;
  /** Reads: the step that last wrote this variable (its data dominator for this read). */
  writer?: StepRef;
  /**
   * `library` state: the program's own objects among the inputs of its changes, in order (the
   * first MAX_OBJECT_INPUTS), so that two runs can tell which objects a list was given, not
   * only of which types.
   */
  objectInputs?: readonly string[];
  /**
   * An element read because the whole array went to uninstrumented code (`sb.append(row)`),
   * not by an index the line computed: it pairs with the partner's element of the same index.
   */
  wholeArray?: true;
}

export interface TraceStep extends StepRef {
  /** Global execution order across threads (used to tell "between" and "before"). */
  seq: number;
  className: string;
  method: string;
  line: number;
  reads: TraceAccess[];
  writes: TraceAccess[];
  controlDominator?: StepRef;
  invocationParent?: StepRef;
  /** The exception this step's handler caught (the step is a `catch` block's first). */
  caught?: string;
}

export interface TraceView {
  step(ref: StepRef): TraceStep | undefined;
  /** The code behind the trace, where known: what could have run, not only what did. */
  readonly code?: MethodCode;
}

/** A program's code as the agent declared it (lines, decisions) and its source text. */
export interface MethodCode {
  /** Lines of `className.method` that have code (all overloads), in order. */
  lines(className: string, method: string): readonly number[];
  /**
   * Lines of the decisions in `className.method` whose outcome decides whether `line` runs,
   * innermost (fewest lines controlled) first.
   */
  guardsOfLine(className: string, method: string, line: number): readonly number[];
  sourceLine(className: string, line: number): string | undefined;
  /** Every declared method, once per name (overloads together). */
  methods(): readonly { className: string; method: string }[];
}

export function stepId(ref: StepRef): string {
  return `${ref.threadId}:${ref.order}`;
}

export function sameStep(a: StepRef | undefined, b: StepRef | undefined): boolean {
  return a !== undefined && b !== undefined && a.threadId === b.threadId && a.order === b.order;
}

/** `Class.method:line`: what repeats when a loop runs the same line again. */
export function locationOf(step: { className: string; method: string; line: number }): string {
  return `${step.className}.${step.method}:${step.line}`;
}

/** Same invocation: same method called from the same step (frames are not in the view). */
export function sameFrame(a: TraceStep, b: TraceStep): boolean {
  return (
    a.className === b.className &&
    a.method === b.method &&
    a.invocationParent?.order === b.invocationParent?.order
  );
}

/**
 * A value as two runs of a program can compare it: object identities differ between runs, and
 * so do the addresses in the names of classes the JVM makes at run time
 * (`Main$$Lambda$40/0x00007f1b5c021400`); types and plain values do not.
 */
export function comparableValue(value: string): string {
  if (value.startsWith('"')) return value;
  return value.replace(/\/0x[0-9a-f]+(?=@\d+$)/, '').replace(/@\d+$/, '@');
}

const CALLBACK_ANSWER = '() answered';

/** How the read of what a method the library called back answered is named: `compare() answered`. */
export function callbackAnswerName(method: string): string {
  return `${method}${CALLBACK_ANSWER}`;
}

/** A read of what a method the library called back answered (a comparator during a sort). */
export function isCallbackAnswer(read: TraceAccess): boolean {
  return read.kind === 'return' && read.name.endsWith(CALLBACK_ANSWER);
}

/**
 * A write the agent records for a value the line handed to the JDK (`Arrays.sort(…) argument 3`):
 * what was passed, which no variable of the program holds. See LibraryArguments.java.
 */
export function isLibraryArgument(access: { kind: string; name: string }): boolean {
  return access.kind === 'local' && /\(\u2026\) argument \d+$/.test(access.name);
}

/** How a person names a variable: `sum`, `this.items`, `arr[3]`, `contents of list`. */
export function describeAccess(access: TraceAccess): string {
  if (access.kind === 'array') return `${access.owner ?? 'array'}${access.name}`;
  if (access.kind === 'field') return `${access.owner ?? ''}.${access.name}`;
  return access.name;
}

/** Objects of the program's own classes and arrays: which one a reference points to matters. */
export function identityMatters(value: string): boolean {
  const type = referenceParts(value)?.type;
  return type !== undefined && (isArrayTypeText(type) || !/^(java|javax|jdk|sun)\./.test(type));
}

/** The index of an element named `[7]`, else undefined. */
export function elementIndex(name: string): number | undefined {
  const match = /^\[(\d+)\]$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** A trace held in memory, e.g. built by buildMemoryTrace from decoded steps. */
export class MemoryTraceView implements TraceView {
  private readonly byRef = new Map<string, TraceStep>();

  constructor(
    readonly steps: readonly TraceStep[],
    readonly code?: MethodCode,
  ) {
    for (const step of steps) this.byRef.set(stepId(step), step);
  }

  step(ref: StepRef): TraceStep | undefined {
    return this.byRef.get(stepId(ref));
  }
}

/** A run stored in a session, read step by step (no library flows: see sessionFlows.ts). */
export class SessionTraceView implements TraceView {
  constructor(
    private readonly reader: JvmTraceReader,
    readonly code?: MethodCode,
  ) {}

  step(ref: StepRef): TraceStep | undefined {
    const stored = this.reader.step(ref.threadId, ref.order);
    return stored && traceStepOf(stored);
  }
}

/** A stored step as the feedback search sees it. */
export function traceStepOf(stored: JvmStoredStep): TraceStep {
  const sameThread = (order: number | null) =>
    order === null ? undefined : { threadId: stored.threadId, order };
  const plain = (access: JvmStoredAccess): TraceAccess => ({
    kind: access.kind,
    name: access.name,
    ...(access.owner === undefined ? {} : { owner: access.owner }),
    value: access.value,
    ...(access.writer === undefined ? {} : { writer: access.writer }),
  });
  return {
    threadId: stored.threadId,
    order: stored.order,
    seq: stored.seq,
    className: stored.className,
    method: stored.method,
    line: stored.line,
    reads: stored.reads.map(plain),
    // A stored write's `writer` is the previous write of the variable, not a dependence.
    writes: stored.writes.map((w) => ({ ...plain(w), writer: undefined })),
    controlDominator: sameThread(stored.controlDominator),
    invocationParent: sameThread(stored.invocationParent),
    ...(stored.caught === undefined ? {} : { caught: stored.caught }),
  };
}
