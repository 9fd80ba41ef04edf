/**
 * The process map of an Erlang run, read from the materialised tables: nodes and edges
 * in the graph panel's shape (src/shared/graphProtocol.ts), plus deltas for live updates.
 *
 * Nodes: explored and listened processes, and the mentioned ones connected to them (all
 * mentioned ones with includeMentioned 'all'). Label: registered name, else initial call.
 * A process whose supervisor is on the map has it as `parent`. Edges: links, monitors,
 * spawn parentage and message counts.
 *
 * What the panel draws (processMapContent) puts each supervisor and its children in a
 * group box of their own, rather than making the supervisor the box: a supervisor is
 * linked to its children, and an edge from a compound node to its own children draws as
 * a loop through the box's border.
 */
import {
  diffGraphs,
  type GraphContent,
  type GraphDelta,
  type GraphEdge,
  type GraphNode,
} from '../../shared/graphProtocol';
import type { SessionStore } from '../store/sessionStore';

export type ProcessLevel = 'mentioned' | 'explored' | 'listened';

export interface ProcessNodeData extends Record<string, unknown> {
  pid: string;
  level: ProcessLevel;
  state: 'alive' | 'dead';
  exitReason: string | null;
  registeredName: string | null;
  initialCall: string | null;
  application: string | null;
  /** The person chose to explore this process. */
  chosen: boolean;
  /** Traps exits: shown but not crossed by exploration. */
  boundary: boolean;
  /** The process that spawned it, when seen. */
  parent: string | null;
  /** Nearest supervisor (or other ancestor) on the map. */
  supervisor: string | null;
}

export interface ProcessGraphNode extends GraphNode {
  data: ProcessNodeData;
}

export type ProcessEdgeKind = 'link' | 'monitor' | 'spawn' | 'message';

export interface ProcessGraph {
  nodes: ProcessGraphNode[];
  edges: GraphEdge[];
  /** The last ingest batch this read reflects (rows record the batch that changed them). */
  version: number;
}

export interface ProcessGraphDelta {
  /** The map as drawn now (processMapContent of the current graph). */
  content: GraphContent;
  /** What changed since `previous`. */
  delta: GraphDelta;
}

export interface ProcessGraphOptions {
  /** 'linked' (default): mentioned processes only when connected to a traced one. */
  includeMentioned?: 'linked' | 'all' | 'none';
}

interface ProcessRow {
  pid: string;
  level: ProcessLevel;
  chosen: number;
  boundary: number;
  state: 'alive' | 'dead';
  exit_reason: string | null;
  registered_name: string | null;
  initial_call: string | null;
  parent: string | null;
  ancestors: string;
  application: string | null;
  trap_exit: number | null;
  changed: number;
}

interface PairRow {
  x: string;
  y: string;
  active: number;
  changed: number;
  messages?: number;
}

export function processGraph(
  store: SessionStore,
  runId: number,
  options: ProcessGraphOptions = {},
): ProcessGraph {
  return buildGraph(store, runId, options);
}

/**
 * The map as drawn now and what changed since `previous` (the map as last drawn).
 *
 * The delta is a comparison with what was drawn, not a query of rows changed since a
 * batch number: a process whose row did not change still enters the map when a traced
 * process links to it, and moves into a group when its supervisor appears; neither
 * touches its own row.
 */
export function processGraphDelta(
  store: SessionStore,
  runId: number,
  previous: GraphContent,
  options: ProcessGraphOptions = {},
): ProcessGraphDelta {
  const content = processMapContent(processGraph(store, runId, options));
  return { content, delta: diffGraphs(previous, content) };
}

/** Prefix of the id of the box that groups a supervisor with its children. */
export const GROUP_PREFIX = 'group:';

/**
 * What the panel draws: every supervisor with children on the map gets a group box
 * holding it and its children, nested inside the group of its own supervisor.
 */
export function processMapContent(graph: Pick<ProcessGraph, 'nodes' | 'edges'>): GraphContent {
  const parentOf = new Map(graph.nodes.map((node) => [node.id, node.parent]));
  const heads = new Set(graph.nodes.flatMap((node) => (node.parent ? [node.parent] : [])));
  const groupOf = (pid: string | undefined) =>
    pid && heads.has(pid) ? `${GROUP_PREFIX}${pid}` : undefined;
  const groups: GraphNode[] = graph.nodes
    .filter((node) => heads.has(node.id))
    .map((node) => {
      const outer = groupOf(acyclicParent(node.id, parentOf));
      return {
        id: `${GROUP_PREFIX}${node.id}`,
        label: '',
        kind: 'group',
        ...(outer ? { parent: outer } : {}),
      };
    });
  const members = graph.nodes.map((node): GraphNode => {
    const { parent: supervisor, ...rest } = node;
    const box = groupOf(heads.has(node.id) ? node.id : supervisor);
    return box ? { ...rest, parent: box } : rest;
  });
  return { nodes: [...groups, ...members], edges: graph.edges };
}

/**
 * A node's parent, unless following parents from it comes back to it (recorded
 * $ancestors are the processes' own word): Cytoscape cannot draw a box inside itself.
 */
function acyclicParent(id: string, parentOf: Map<string, string | undefined>): string | undefined {
  const parent = parentOf.get(id);
  const seen = new Set<string>();
  for (let at = parent; at !== undefined && !seen.has(at); at = parentOf.get(at)) {
    if (at === id) return undefined;
    seen.add(at);
  }
  return parent;
}

function buildGraph(
  store: SessionStore,
  runId: number,
  options: ProcessGraphOptions,
): ProcessGraph {
  const processes = store.query<ProcessRow>('SELECT * FROM erlang_processes WHERE run_id = ?', [
    runId,
  ]);
  const links = pairs(store, 'SELECT a AS x, b AS y, active, changed FROM erlang_links', runId);
  const monitors = pairs(
    store,
    'SELECT watcher AS x, target AS y, active, changed FROM erlang_monitors',
    runId,
  );
  const messages = pairs(
    store,
    'SELECT sender AS x, receiver AS y, 1 AS active, changed, messages FROM erlang_messages',
    runId,
  );
  const shown = visiblePids(processes, [...links, ...monitors, ...messages], options);
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const byName = new Map(
    processes.filter((p) => p.registered_name).map((p) => [p.registered_name!, p.pid]),
  );
  const allEdges = [
    ...edgesOf(links, 'link', shown),
    ...edgesOf(monitors, 'monitor', shown),
    ...edgesOf(messages, 'message', shown),
    ...spawnEdges(processes, shown),
  ];
  const nodes = processes
    .filter((p) => shown.has(p.pid))
    .map((p) => toNode(p, supervisorOf(p, byPid, byName, shown)));
  // A loop, not Math.max(...rows): spreading tens of thousands of arguments overflows the stack.
  let version = 0;
  for (const row of [...processes, ...allEdges]) version = Math.max(version, row.changed);
  return {
    nodes,
    edges: allEdges.filter((e) => e.active).map((e) => e.edge),
    version,
  };
}

function pairs(store: SessionStore, select: string, runId: number): PairRow[] {
  return store.query<PairRow>(`${select} WHERE run_id = ?`, [runId]);
}

function visiblePids(
  processes: ProcessRow[],
  edges: PairRow[],
  options: ProcessGraphOptions,
): Set<string> {
  const mode = options.includeMentioned ?? 'linked';
  const traced = new Set(
    processes.filter((p) => p.level !== 'mentioned' || p.chosen || p.boundary).map((p) => p.pid),
  );
  if (mode === 'all') return new Set(processes.map((p) => p.pid));
  if (mode === 'none') return traced;
  const shown = new Set(traced);
  const known = new Set(processes.map((p) => p.pid));
  for (const { x, y } of edges) {
    if (traced.has(x) && known.has(y)) shown.add(y);
    if (traced.has(y) && known.has(x)) shown.add(x);
  }
  return shown;
}

interface DrawnEdge {
  edge: GraphEdge;
  active: boolean;
  changed: number;
}

function edgesOf(rows: PairRow[], kind: ProcessEdgeKind, shown: Set<string>): DrawnEdge[] {
  return rows
    .filter((r) => shown.has(r.x) && shown.has(r.y))
    .map((r) => ({
      edge: {
        id: `${kind}:${r.x}:${r.y}`,
        source: r.x,
        target: r.y,
        kind,
        ...(r.messages === undefined ? {} : { label: `${r.messages}` }),
      },
      active: r.active === 1,
      changed: r.changed,
    }));
}

function spawnEdges(processes: ProcessRow[], shown: Set<string>): DrawnEdge[] {
  return processes
    .filter((p) => p.parent !== null && shown.has(p.pid) && shown.has(p.parent))
    .map((p) => ({
      edge: { id: `spawn:${p.parent}:${p.pid}`, source: p.parent!, target: p.pid, kind: 'spawn' },
      active: true,
      changed: p.changed,
    }));
}

/** The nearest ancestor on the map that is a supervisor (from $ancestors, names resolved). */
function supervisorOf(
  process: ProcessRow,
  byPid: Map<string, ProcessRow>,
  byName: Map<string, string>,
  shown: Set<string>,
): string | null {
  const ancestors = JSON.parse(process.ancestors) as string[];
  for (const ancestor of ancestors) {
    const pid = ancestor.startsWith('<') ? ancestor : byName.get(ancestor);
    if (pid && shown.has(pid) && isSupervisor(byPid.get(pid))) return pid;
  }
  const parent = process.parent ? byPid.get(process.parent) : undefined;
  return parent && shown.has(parent.pid) && isSupervisor(parent) ? parent.pid : null;
}

function isSupervisor(process: ProcessRow | undefined): boolean {
  return process?.initial_call?.startsWith('supervisor:') ?? false;
}

function toNode(p: ProcessRow, supervisor: string | null): ProcessGraphNode {
  return {
    id: p.pid,
    label: p.registered_name ?? p.initial_call ?? p.pid,
    kind: isSupervisor(p) ? 'supervisor' : p.state === 'dead' ? 'dead' : 'process',
    ...(supervisor ? { parent: supervisor } : {}),
    data: {
      pid: p.pid,
      level: p.level,
      state: p.state,
      exitReason: p.exit_reason,
      registeredName: p.registered_name,
      initialCall: p.initial_call,
      application: p.application,
      chosen: p.chosen === 1,
      boundary: p.boundary === 1,
      parent: p.parent,
      supervisor,
    },
  };
}
