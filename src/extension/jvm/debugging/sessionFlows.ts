// Feedback on a run read back from a session, with the same flows as a freshly decoded trace:
// the arguments a call passed, the values callees returned, and the hidden state of library
// objects (libraryFlows.ts). The session stores each step's own reads and their writers; the
// rest is derived by one pass over the run in execution order (TraceEnricher), so the run is
// held in memory, which bounds the run size this is done for.

import type { JvmStep, JvmVarAccess } from '../decoder';
import type { JvmStoredAccess, JvmStoredStep, JvmTraceReader } from '../traceReader';
import type { SourceLines } from './libraryFlows';
import { methodCode, TraceEnricher, type MemoryTraceOptions, type StepLinks } from './memoryTrace';
import {
  MemoryTraceView,
  SessionTraceView,
  stepId,
  traceStepOf,
  type TraceStep,
  type TraceView,
} from './traceView';

/**
 * Runs up to this many steps get the derived flows (about 300 bytes of memory per step);
 * longer ones are read step by step with the stored dependencies only.
 */
export const FLOW_STEP_LIMIT = 200_000;

export interface SessionFlowOptions extends MemoryTraceOptions {
  /** Overrides FLOW_STEP_LIMIT. */
  maxSteps?: number;
  /**
   * The source text of a class (by its name and the source file name the class declares), when
   * it can be found; used when `sourceLine` is not given.
   */
  sourceText?: (className: string, sourceFile: string) => string | undefined;
}

/** The view feedback debugging uses for a stored run: with flows when the run is small enough. */
export function feedbackTraceView(
  reader: JvmTraceReader,
  options: SessionFlowOptions = {},
): { view: TraceView; withFlows: boolean } {
  const threads = reader.threads();
  const total = threads.reduce((sum, thread) => sum + thread.steps, 0);
  const methods = reader.methods();
  const sourceLine =
    options.sourceLine ??
    linesOf(new Map(methods.map((m) => [m.className, m.sourceFile])), options.sourceText);
  const code = methodCode(methods, sourceLine);
  if (total > (options.maxSteps ?? FLOW_STEP_LIMIT)) {
    return { view: new SessionTraceView(reader, code), withFlows: false };
  }
  const stored = threads
    .flatMap((thread) => [...reader.threadSteps(thread.threadId)])
    .sort((a, b) => a.seq - b.seq);
  const { steps, links } = asDecodedSteps(stored);
  const built: TraceStep[] = [];
  const enricher = new TraceEnricher(steps, links, built, { ...options, sourceLine });
  stored.forEach((step, index) => {
    built.push(traceStepOf(step));
    enricher.visit(index);
  });
  return { view: new MemoryTraceView(built, code), withFlows: true };
}

/**
 * The stored steps in the shape the enrichment reads (JvmStep), with frames told apart by the
 * step that called them, and the links between steps as indices. Fields the enrichment does
 * not read (method and line indices, branches) are left empty.
 */
function asDecodedSteps(stored: readonly JvmStoredStep[]): { steps: JvmStep[]; links: StepLinks } {
  const indexOf = new Map<string, number>();
  stored.forEach((step, index) => indexOf.set(stepId(step), index));
  const frames = new Map<string, number>();
  const lastInFrame = new Map<number, number>();
  const links: StepLinks = {
    invocationParent: new Int32Array(stored.length).fill(-1),
    stepOverNext: new Int32Array(stored.length).fill(-1),
    stepOverPrevious: new Int32Array(stored.length).fill(-1),
  };
  const steps = stored.map((step, index): JvmStep => {
    const frameKey = `${step.threadId}:${step.invocationParent ?? 0}:${step.className}.${step.method}`;
    let frameId = frames.get(frameKey);
    if (frameId === undefined) frames.set(frameKey, (frameId = frames.size + 1));
    const previous = lastInFrame.get(frameId);
    if (previous !== undefined) {
      links.stepOverNext[previous] = index;
      links.stepOverPrevious[index] = previous;
    }
    lastInFrame.set(frameId, index);
    if (step.invocationParent !== null) {
      links.invocationParent[index] =
        indexOf.get(stepId({ threadId: step.threadId, order: step.invocationParent })) ?? -1;
    }
    const access = (a: JvmStoredAccess) => decodedAccess(a, frameId);
    return {
      seq: step.seq,
      threadId: step.threadId,
      thread: '',
      order: step.order,
      className: step.className,
      method: step.method,
      methodDescriptor: step.methodDescriptor,
      methodId: 0,
      line: step.line,
      lineIndex: 0,
      reads: step.reads.map(access),
      writes: step.writes.map(access),
      frameId,
      depth: step.depth,
      callerOrder: step.invocationParent ?? 0,
      branches: [],
      ...(step.returnValue === undefined ? {} : { returnValue: step.returnValue }),
      ...(step.thrown === undefined ? {} : { thrown: step.thrown }),
      ...(step.caught === undefined ? {} : { caught: step.caught }),
    };
  });
  return { steps, links };
}

/** A stored access with the storage key a decoded one has (same key = same variable). */
function decodedAccess(access: JvmStoredAccess, frameId: number): JvmVarAccess {
  const ownerId =
    access.owner === undefined
      ? undefined
      : Number(access.owner.slice(access.owner.lastIndexOf('@') + 1));
  const key =
    access.kind === 'local'
      ? `L${frameId}:${access.name}`
      : access.kind === 'static'
        ? `S${access.name}`
        : `${access.kind === 'field' ? 'F' : 'A'}${access.owner}:${access.name}`;
  return {
    kind: access.kind,
    name: access.name,
    ...(access.owner === undefined ? {} : { owner: access.owner }),
    value: access.value,
    key,
    ...(ownerId === undefined || Number.isNaN(ownerId) ? {} : { ownerId }),
  };
}

/** Source lines by class, read once per class through `sourceText` from the file it declares. */
function linesOf(
  sourceFiles: ReadonlyMap<string, string>,
  sourceText: SessionFlowOptions['sourceText'],
): SourceLines | undefined {
  if (!sourceText) return undefined;
  const texts = new Map<string, string[] | undefined>();
  return (className, line) => {
    if (!texts.has(className)) {
      const file = sourceFiles.get(className);
      texts.set(
        className,
        file === undefined ? undefined : sourceText(className, file)?.split(/\r?\n/),
      );
    }
    return texts.get(className)?.[line - 1];
  };
}
