/**
 * The data and control neighbourhood of one step, as a graph: the steps it
 * depends on (its control dominator and the writers of what it read), a few
 * hops back, and the steps that depend on it directly, found in a bounded scan
 * forward. The graph panel draws it around the editor's current step.
 */
import type { GraphEdge, GraphNode } from '../../shared/graphProtocol';
import { describeStep } from './navigation';
import type { JvmStepRef, JvmStoredStep, JvmTraceReader } from './traceReader';

export interface NeighbourhoodOptions {
  /** How many dependence hops back from the step (default 2). */
  hopsBack?: number;
  /** How many later steps of the thread are searched for direct dependents (default 400). */
  forwardScan?: number;
}

export function stepNodeId(ref: JvmStepRef): string {
  return `${ref.threadId}:${ref.order}`;
}

export function parseStepNodeId(id: string): JvmStepRef | undefined {
  const match = /^(\d+):(\d+)$/.exec(id);
  return match ? { threadId: Number(match[1]), order: Number(match[2]) } : undefined;
}

export function dependencyNeighbourhood(
  reader: JvmTraceReader,
  at: JvmStepRef,
  options: NeighbourhoodOptions = {},
): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const addStep = (step: JvmStoredStep, kind: string) => {
    const id = stepNodeId(step);
    if (!nodes.has(id) || kind === 'current')
      nodes.set(id, { id, label: describeStep(step), kind });
    return id;
  };
  const addEdge = (from: string, to: string, kind: 'control' | 'data', label?: string) => {
    const id = `${kind}:${from}->${to}:${label ?? ''}`;
    edges.set(id, { id, source: from, target: to, kind, ...(label ? { label } : {}) });
  };

  const current = reader.step(at.threadId, at.order);
  if (!current) return { nodes: [], edges: [] };
  addStep(current, 'current');
  walkBack(reader, current, options.hopsBack ?? 2, addStep, addEdge);
  scanDependents(reader, current, options.forwardScan ?? 400, addStep, addEdge);
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

type AddStep = (step: JvmStoredStep, kind: string) => string;
type AddEdge = (from: string, to: string, kind: 'control' | 'data', label?: string) => void;

/** Dominators and data dominators, breadth first, `hops` levels back. */
function walkBack(
  reader: JvmTraceReader,
  start: JvmStoredStep,
  hops: number,
  addStep: AddStep,
  addEdge: AddEdge,
): void {
  let frontier = [start];
  for (let hop = 0; hop < hops && frontier.length > 0; hop++) {
    const next: JvmStoredStep[] = [];
    for (const step of frontier) {
      const id = stepNodeId(step);
      if (step.controlDominator !== null) {
        const dominator = reader.step(step.threadId, step.controlDominator);
        if (dominator) {
          addEdge(addStep(dominator, 'dominator'), id, 'control');
          next.push(dominator);
        }
      }
      for (const read of step.reads) {
        const writer = read.writer && reader.step(read.writer.threadId, read.writer.order);
        if (!writer) continue;
        addEdge(addStep(writer, 'writer'), id, 'data', read.name);
        next.push(writer);
      }
    }
    frontier = next;
  }
}

/** Later steps of the thread controlled by the step, or reading what it wrote. */
function scanDependents(
  reader: JvmTraceReader,
  step: JvmStoredStep,
  limit: number,
  addStep: AddStep,
  addEdge: AddEdge,
): void {
  const id = stepNodeId(step);
  let scanned = 0;
  for (const later of reader.threadSteps(step.threadId, step.order + 1)) {
    if (++scanned > limit) break;
    if (later.controlDominator === step.order) addEdge(id, addStep(later, 'dependent'), 'control');
    for (const read of later.reads) {
      if (read.writer?.threadId === step.threadId && read.writer.order === step.order) {
        addEdge(id, addStep(later, 'dependent'), 'data', read.name);
      }
    }
  }
}
