/**
 * The messages between the extension host and a graph webview, one
 * discriminated union per direction. Both sides import this file, so a change
 * to a message shape is a type error on both sides at once.
 *
 * The host owns the data; the webview keeps only view state (zoom, pan,
 * selection). A webview that was hidden may have missed messages, so the host
 * answers every `ready` and every return to visibility with a full snapshot.
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

export type RendererChoice = 'auto' | 'webgl' | 'canvas';

export type HostToWebview =
  | { type: 'snapshot'; snapshot: GraphSnapshot; renderer: RendererChoice }
  | { type: 'reply'; requestId: number; result?: NodeDetails; error?: string };

export type WebviewRequest = { kind: 'nodeDetails'; nodeId: string };

export interface NodeDetails {
  nodeId: string;
  lines: string[];
}

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'rendered'; nodeCount: number; edgeCount: number; renderer: 'webgl' | 'canvas' }
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
