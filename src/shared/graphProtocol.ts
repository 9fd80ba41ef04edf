/**
 * The messages between the extension host and a graph webview, one
 * discriminated union per direction. Both sides import this file, so a change
 * to a message shape is a type error on both sides at once.
 *
 * The host owns the data; the webview keeps only view state (zoom, pan,
 * selection). A webview that was hidden may have missed messages, so the host
 * answers every `ready` and every return to visibility with a full snapshot;
 * between those it sends deltas against the picture it last sent. Every
 * snapshot and delta carries a version, and a delta names the version it
 * applies to, so a webview that missed one asks for a snapshot (`resync`)
 * instead of drawing a wrong picture.
 */

export interface GraphNode {
  id: string;
  label: string;
  /** Drives the node's style (e.g. 'process', 'supervisor', 'step'). */
  kind: string;
  /** Compound parent id (a supervisor grouping its children). */
  parent?: string;
  /** A fixed position; when every node has one, the preset layout is used. */
  position?: { x: number; y: number };
  /** Extra facts shown in the details line. */
  data?: Record<string, unknown>;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  kind: string;
  label?: string;
}

/** Identifies what a panel shows, so a restored panel can reload it. */
export interface GraphSource {
  sessionFile: string;
  runId: number;
  /** For a recorded program: draw the dependency neighbourhood of this step. */
  focus?: { threadId: number; order: number };
  /** For an Erlang run: process lifetimes on a time axis instead of the map. */
  view?: 'timeline';
}

export interface GraphSnapshot {
  source: GraphSource;
  title: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** The nodes and edges of a picture, without what identifies it. */
export type GraphContent = Pick<GraphSnapshot, 'nodes' | 'edges'>;

/**
 * What changed between two pictures of the same graph. A changed node may have
 * a new parent (a process that found its supervisor); an edge whose endpoints
 * change is removed and added, as Cytoscape cannot rewire an edge.
 */
export interface GraphDelta {
  nodesAdded: GraphNode[];
  nodesChanged: GraphNode[];
  nodesRemoved: string[];
  edgesAdded: GraphEdge[];
  edgesChanged: GraphEdge[];
  edgesRemoved: string[];
}

export type RendererChoice = 'auto' | 'webgl' | 'canvas';

export type HostToWebview =
  | { type: 'snapshot'; snapshot: GraphSnapshot; renderer: RendererChoice; version: number }
  | { type: 'delta'; delta: GraphDelta; baseVersion: number; version: number }
  | { type: 'reply'; requestId: number; result?: NodeDetails; error?: string };

export type WebviewRequest = { kind: 'nodeDetails'; nodeId: string };

export interface NodeDetails {
  nodeId: string;
  lines: string[];
}

export type WebviewToHost =
  | { type: 'ready' }
  /** After every snapshot and delta, with the version now drawn. */
  | {
      type: 'rendered';
      nodeCount: number;
      edgeCount: number;
      renderer: 'webgl' | 'canvas';
      version: number;
    }
  /** A delta did not apply to the picture drawn (a message was missed): send a snapshot. */
  | { type: 'resync'; version: number }
  | { type: 'selectionChanged'; nodeIds: string[] }
  /** A double click: "take me there" (e.g. travel to a step). */
  | { type: 'activate'; nodeId: string }
  | { type: 'request'; requestId: number; request: WebviewRequest };

/** What the webview persists with setState; the panel serializer reads it back. */
export interface GraphViewState {
  source?: GraphSource;
  zoom?: number;
  pan?: { x: number; y: number };
  selection?: string[];
}

/** A delta that changes nothing, to fill in. */
export function emptyGraphDelta(): GraphDelta {
  return {
    nodesAdded: [],
    nodesChanged: [],
    nodesRemoved: [],
    edgesAdded: [],
    edgesChanged: [],
    edgesRemoved: [],
  };
}

/** The delta that turns `before` into `after` (nodes and edges matched by id). */
export function diffGraphs(before: GraphContent, after: GraphContent): GraphDelta {
  const delta = emptyGraphDelta();
  const oldNodes = new Map(before.nodes.map((node) => [node.id, node]));
  for (const node of after.nodes) {
    const old = oldNodes.get(node.id);
    if (!old) delta.nodesAdded.push(node);
    else if (!sameElement(old, node)) delta.nodesChanged.push(node);
    oldNodes.delete(node.id);
  }
  delta.nodesRemoved = [...oldNodes.keys()];
  const oldEdges = new Map(before.edges.map((edge) => [edge.id, edge]));
  for (const edge of after.edges) {
    const old = oldEdges.get(edge.id);
    oldEdges.delete(edge.id);
    if (!old) delta.edgesAdded.push(edge);
    else if (old.source !== edge.source || old.target !== edge.target) {
      delta.edgesRemoved.push(edge.id);
      delta.edgesAdded.push(edge);
    } else if (!sameElement(old, edge)) delta.edgesChanged.push(edge);
  }
  delta.edgesRemoved.push(...oldEdges.keys());
  return delta;
}

/** How many nodes and edges a delta touches. */
export function deltaSize(delta: GraphDelta): number {
  return (
    delta.nodesAdded.length +
    delta.nodesChanged.length +
    delta.nodesRemoved.length +
    delta.edgesAdded.length +
    delta.edgesChanged.length +
    delta.edgesRemoved.length
  );
}

/**
 * Field by field, not by serialising: the host diffs every element of a
 * 10,000-process map several times a second. `data` values are compared by
 * value one level deep (process facts are strings, numbers, booleans, null).
 */
function sameElement(a: GraphNode | GraphEdge, b: GraphNode | GraphEdge): boolean {
  if (a.label !== b.label || a.kind !== b.kind) return false;
  if ('source' in a || 'source' in b) return true; // edges: endpoints are compared by the caller
  const x = a as GraphNode;
  const y = b as GraphNode;
  return (
    x.parent === y.parent &&
    x.position?.x === y.position?.x &&
    x.position?.y === y.position?.y &&
    sameData(x.data, y.data)
  );
}

function sameData(
  a: Record<string, unknown> | undefined,
  b: Record<string, unknown> | undefined,
): boolean {
  if (a === b) return true;
  const keysA = Object.keys(a ?? {}).filter((key) => a![key] !== undefined);
  const keysB = Object.keys(b ?? {}).filter((key) => b![key] !== undefined);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => sameValue(a![key], b?.[key]));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Matches replies to requests by id. The webview uses it for questions to the
 * host; requests that get no reply within the timeout reject instead of
 * waiting forever (the host may have been busy or the panel reloaded).
 */
export class PendingRequests<Result> {
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    {
      resolve: (value: Result) => void;
      reject: (error: Error) => void;
      timer: ReturnType<typeof setTimeout>;
    }
  >();

  constructor(private readonly timeoutMs = 10_000) {}

  /** Reserves an id and returns it with the promise of its reply. */
  start(): { requestId: number; reply: Promise<Result> } {
    const requestId = this.nextId++;
    const reply = new Promise<Result>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        reject(new Error(`no reply to request ${requestId} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(requestId, { resolve, reject, timer });
    });
    return { requestId, reply };
  }

  /** Settles the request with this id; returns false for unknown or late replies. */
  settle(requestId: number, result: Result | undefined, error?: string): boolean {
    const entry = this.waiting.get(requestId);
    if (!entry) return false;
    this.waiting.delete(requestId);
    clearTimeout(entry.timer);
    if (error !== undefined || result === undefined)
      entry.reject(new Error(error ?? 'empty reply'));
    else entry.resolve(result);
    return true;
  }

  get size(): number {
    return this.waiting.size;
  }
}
