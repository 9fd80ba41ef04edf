/** Turns a run's stored graph into the snapshot a graph panel draws. */
import {
  diffGraphs,
  type GraphDelta,
  type GraphNode,
  type GraphSnapshot,
  type GraphSource,
  type NodeDetails,
} from '../../shared/graphProtocol';
import { dependencyNeighbourhood } from '../jvm/dependencyGraph';
import { JvmTraceReader } from '../jvm/traceReader';
import {
  GROUP_PREFIX,
  processGraph,
  processGraphDelta,
  processMapContent,
} from '../erlang/processGraph';
import { processTimeline } from '../erlang/timeline';
import type { SessionStore } from './sessionStore';

export function graphSnapshot(
  store: SessionStore,
  runId: number,
  focus?: GraphSource['focus'],
  view?: GraphSource['view'],
): GraphSnapshot {
  const run = store.run(runId);
  if (!run) throw new Error(`${store.file} has no run ${runId}`);
  const source = { sessionFile: store.file, runId, ...(focus ? { focus } : {}) };
  const title = `${run.target} (run ${run.id})`;
  // A recorded program's graph is the dependency neighbourhood of a step.
  if (run.targetKind === 'jvm' && focus) {
    const around = dependencyNeighbourhood(new JvmTraceReader(store, runId), focus);
    return { source, title: `${title}: dependencies of step #${focus.order}`, ...around };
  }
  if (run.targetKind === 'erlang' && view === 'timeline') {
    return {
      source: { ...source, view },
      title: `${title}: timeline`,
      ...processTimeline(store, runId),
    };
  }
  // An Erlang run's graph is its process map, built from the recorded events.
  if (run.targetKind === 'erlang') {
    return { source, title, ...processMapContent(processGraph(store, runId)) };
  }
  const { nodes, edges } = store.graph(runId);
  return {
    source,
    title,
    nodes: nodes.map((node): GraphNode => {
      const position = positionOf(node.data);
      return {
        id: node.id,
        label: node.label,
        kind: node.kind ?? '',
        ...(node.parent ? { parent: node.parent } : {}),
        ...(position ? { position } : {}),
      };
    }),
    edges: edges.map((edge) => ({
      id: edge.id,
      source: edge.source,
      target: edge.target,
      kind: edge.kind ?? '',
      ...(typeof edge.data?.label === 'string' ? { label: edge.data.label } : {}),
    })),
  };
}

/**
 * The graph now and what changed since `previous` (the picture last sent to a panel
 * showing the same source): what the host sends between full snapshots.
 */
export function graphUpdate(
  store: SessionStore,
  previous: GraphSnapshot,
): { snapshot: GraphSnapshot; delta: GraphDelta } {
  const { runId, focus, view } = previous.source;
  const isProcessMap = store.run(runId)?.targetKind === 'erlang' && !focus && !view;
  if (isProcessMap) {
    const { content, delta } = processGraphDelta(store, runId, previous);
    return { snapshot: { ...previous, ...content }, delta };
  }
  const snapshot = graphSnapshot(store, runId, focus, view);
  return { snapshot, delta: diffGraphs(previous, snapshot) };
}

function positionOf(
  data: Record<string, unknown> | undefined,
): { x: number; y: number } | undefined {
  const x = data?.x;
  const y = data?.y;
  return typeof x === 'number' && typeof y === 'number' ? { x, y } : undefined;
}

/** Whether a run has anything for a graph panel to draw, without building the graph. */
export function runHasGraph(store: SessionStore, runId: number): boolean {
  // A process map shows mentioned processes only beside traced ones: a traced one must exist.
  const rows =
    store.run(runId)?.targetKind === 'erlang'
      ? store.query(
          "SELECT 1 FROM erlang_processes WHERE run_id = ? AND level <> 'mentioned' LIMIT 1",
          [runId],
        )
      : store.query('SELECT 1 FROM graph_nodes WHERE run_id = ? LIMIT 1', [runId]);
  return rows.length > 0;
}

/** The facts a panel shows for one node: its kind, label and stored data (for a process, what the recording knows of it). */
export function nodeDetails(store: SessionStore, runId: number, nodeId: string): NodeDetails {
  // A supervisor's group box stands for the supervisor.
  const processId = nodeId.startsWith(GROUP_PREFIX) ? nodeId.slice(GROUP_PREFIX.length) : nodeId;
  const node =
    store.run(runId)?.targetKind === 'erlang'
      ? processGraph(store, runId).nodes.find((candidate) => candidate.id === processId)
      : store.graphNode(runId, nodeId);
  if (!node) return { nodeId, lines: [`${nodeId}: not in this run`] };
  const facts = Object.entries(node.data ?? {})
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return { nodeId, lines: [`${node.label} (${node.kind || 'node'})`, ...facts] };
}
