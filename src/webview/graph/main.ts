/**
 * The graph panel's webview: draws the host's snapshot with Cytoscape (large
 * graphs with their groups and edges on a layer of their own, largeGraph.ts),
 * applies the host's deltas in place (no new layout), and keeps only view state
 * (zoom, pan, selection) of its own.
 */
import cytoscape, { type Core, type CytoscapeOptions, type NodeSingular } from 'cytoscape';
import fcose from 'cytoscape-fcose';
import {
  PendingRequests,
  diffGraphs,
  type GraphContent,
  type GraphDelta,
  type GraphEdge,
  type GraphNode,
  type GraphSnapshot,
  type GraphViewState,
  type HostToWebview,
  type NodeDetails,
  type RendererChoice,
  type WebviewToHost,
} from '../../shared/graphProtocol';
import { applyDelta, byIds, edgeElement, nodeElement } from './apply';
import { LargeGraph, type Picture } from './largeGraph';
import { packLayout } from './layout';
import { stylesheet, themePalette } from './style';

declare function acquireVsCodeApi(): {
  postMessage(message: WebviewToHost): void;
  getState(): GraphViewState | undefined;
  setState(state: GraphViewState): void;
};

cytoscape.use(fcose);

const vscode = acquireVsCodeApi();
const root = document.getElementById('graph-root')!;
const canvasHost = document.getElementById('graph')!;
const status = document.getElementById('status')!;
const details = document.getElementById('details')!;
const pending = new PendingRequests<NodeDetails>();

const MAX_FIT_ZOOM = 1.25;
/**
 * Up to this many nodes fcose lays the graph out; larger graphs get
 * packLayout, one pass over the nodes (fcose's time grows much faster than
 * the node count: bench/RESULTS.md, "Process map").
 */
const FCOSE_MAX_NODES = 1000;
/**
 * Above this many nodes Cytoscape draws only the nodes, and LargeGraph draws
 * the groups as boxes and the edges on a layer beneath them: with compound
 * nodes and thousands of edges a frame took seconds (bench/RESULTS.md,
 * "Process map"). The same bound as fcose's, whose layout of compound nodes
 * smaller graphs keep.
 */
const LARGE_GRAPH_NODES = FCOSE_MAX_NODES;
/**
 * Cytoscape's options for large graphs: while panning and zooming it moves a
 * picture of the nodes instead of drawing them again; one canvas pixel per CSS
 * pixel (a high-density screen would otherwise fill four times as many).
 */
const LARGE_GRAPH_OPTIONS = { textureOnViewport: true, pixelRatio: 1, motionBlur: false };

/** The host's picture as drawn: deltas name its version, a later snapshot is compared with it. */
interface Drawn extends Picture {
  snapshot: GraphSnapshot;
  version: number;
  nodes: Map<string, GraphNode>;
  edges: Map<string, GraphEdge>;
}

let cy: Core | undefined;
/** Set while the graph drawn is a large one. */
let large: LargeGraph | undefined;
let drawn: Drawn | undefined;
let viewState: GraphViewState = vscode.getState() ?? {};

function post(message: WebviewToHost): void {
  vscode.postMessage(message);
}

function saveViewState(patch: Partial<GraphViewState>): void {
  viewState = { ...viewState, ...patch };
  vscode.setState(viewState);
}

/**
 * WebGL2 is what Cytoscape's WebGL mode draws with; some webviews lack it.
 * Without a GPU, Chromium still offers WebGL2 in software (SwiftShader), where
 * a frame of Cytoscape's WebGL mode takes seconds, far slower than the canvas
 * (bench/RESULTS.md, "Process map"): `auto` takes WebGL only from hardware.
 */
function webglAvailable(hardwareOnly: boolean): boolean {
  try {
    const gl = document
      .createElement('canvas')
      .getContext('webgl2', { failIfMajorPerformanceCaveat: hardwareOnly });
    return gl !== null && !(hardwareOnly && softwareRendered(gl));
  } catch {
    return false;
  }
}

/** Chromium does not count SwiftShader as a performance caveat; its renderer string names it. */
function softwareRendered(gl: WebGL2RenderingContext): boolean {
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  return /swiftshader|llvmpipe|softpipe|software/i.test(renderer);
}

function chooseRenderer(choice: RendererChoice): 'webgl' | 'canvas' {
  if (choice === 'canvas') return 'canvas';
  return webglAvailable(choice === 'auto') ? 'webgl' : 'canvas';
}

function createGraph(renderer: 'webgl' | 'canvas', largeGraph: boolean): Core {
  const options: CytoscapeOptions & { renderer: { name: string; webgl: boolean } } = {
    container: canvasHost,
    style: stylesheet(),
    // Cytoscape's WebGL mode is an option of its canvas renderer (3.31+).
    renderer: { name: 'canvas', webgl: renderer === 'webgl' },
    ...(largeGraph ? LARGE_GRAPH_OPTIONS : {}),
  };
  const graph = cytoscape(options);
  large = largeGraph ? new LargeGraph(graph, themePalette()) : undefined;
  graph.on('select unselect', 'node', () => {
    const nodeIds = graph.$('node:selected').map((node) => node.id());
    saveViewState({ selection: nodeIds });
    post({ type: 'selectionChanged', nodeIds });
  });
  graph.on('viewport', () => saveViewState({ zoom: graph.zoom(), pan: graph.pan() }));
  graph.on('tap', 'node', (event) => void showDetails(event.target.id()));
  graph.on('dbltap', 'node', (event) => post({ type: 'activate', nodeId: event.target.id() }));
  root.dataset.renderer = renderer;
  return graph;
}

async function showDetails(nodeId: string): Promise<void> {
  const { requestId, reply } = pending.start();
  post({ type: 'request', requestId, request: { kind: 'nodeDetails', nodeId } });
  try {
    const result = await reply;
    details.textContent = result.lines.join('  ·  ');
  } catch (error) {
    details.textContent = (error as Error).message;
  }
}

/** Same data as before (keep zoom and pan); a new focus step is a new picture. */
function sameSource(a: GraphViewState['source'], b: GraphSnapshot['source']): boolean {
  return (
    !!a &&
    a.sessionFile === b.sessionFile &&
    a.runId === b.runId &&
    a.focus?.threadId === b.focus?.threadId &&
    a.focus?.order === b.focus?.order &&
    a.view === b.view
  );
}

/** A full snapshot: a new picture, or the one drawn again (the panel was shown after being hidden). */
function receiveSnapshot(message: Extract<HostToWebview, { type: 'snapshot' }>): void {
  const renderer = chooseRenderer(message.renderer);
  const { snapshot } = message;
  const largeGraph = snapshot.nodes.length > LARGE_GRAPH_NODES;
  const previous = drawn;
  const redrawing =
    root.dataset.renderer === renderer &&
    (large !== undefined) === largeGraph &&
    previous !== undefined &&
    sameSource(previous.snapshot.source, snapshot.source);
  drawn = {
    snapshot,
    version: message.version,
    nodes: new Map(snapshot.nodes.map((node) => [node.id, node])),
    edges: new Map(snapshot.edges.map((edge) => [edge.id, edge])),
  };
  // The graph drawn again: apply what differs, so the layout stays where it is.
  if (cy && previous && redrawing) show(cy, diffGraphs(contentOf(previous), snapshot), drawn);
  else render(snapshot, drawn, renderer, largeGraph);
  saveViewState({ source: snapshot.source });
  reportRendered();
}

/** A delta applies only to the version it was computed against; otherwise ask for a snapshot. */
function receiveDelta(message: Extract<HostToWebview, { type: 'delta' }>): void {
  if (!cy || !drawn || drawn.version !== message.baseVersion) {
    post({ type: 'resync', version: drawn?.version ?? 0 });
    return;
  }
  remember(drawn, message.delta);
  show(cy, message.delta, drawn);
  drawn.version = message.version;
  reportRendered();
}

/** Applies a delta to the graph; `picture` already has it applied. */
function show(graph: Core, delta: GraphDelta, picture: Picture): void {
  if (large) large.apply(delta, picture);
  else applyDelta(graph, delta);
}

function contentOf(picture: Picture): GraphContent {
  return { nodes: [...picture.nodes.values()], edges: [...picture.edges.values()] };
}

function remember(picture: Drawn, delta: GraphDelta): void {
  for (const id of delta.nodesRemoved) picture.nodes.delete(id);
  for (const id of delta.edgesRemoved) picture.edges.delete(id);
  for (const node of [...delta.nodesAdded, ...delta.nodesChanged]) picture.nodes.set(node.id, node);
  for (const edge of [...delta.edgesAdded, ...delta.edgesChanged]) picture.edges.set(edge.id, edge);
}

function render(
  snapshot: GraphSnapshot,
  picture: Picture,
  renderer: 'webgl' | 'canvas',
  largeGraph: boolean,
): void {
  if (!cy || root.dataset.renderer !== renderer || (large !== undefined) !== largeGraph) {
    large?.destroy();
    cy?.destroy();
    cy = createGraph(renderer, largeGraph);
  }
  const graph = cy;
  const restoring = sameSource(viewState.source, snapshot.source);
  graph.batch(() => {
    graph.elements().remove();
    if (large) large.render(picture);
    else {
      graph.add(snapshot.nodes.map((node) => nodeElement(node)));
      graph.add(snapshot.edges.map(edgeElement));
    }
    if (restoring) byIds(graph, viewState.selection ?? []).select();
  });
  runLayout(graph, snapshot.nodes, restoring);
}

function reportRendered(): void {
  if (!cy || !drawn) return;
  const { title } = drawn.snapshot;
  const renderer = root.dataset.renderer === 'webgl' ? 'webgl' : 'canvas';
  const { nodeCount, edgeCount } = large?.counts() ?? {
    nodeCount: cy.nodes().length,
    edgeCount: cy.edges().length,
  };
  document.title = title;
  status.textContent = `${title} — ${nodeCount} nodes, ${edgeCount} edges (${renderer})`;
  root.dataset.nodeCount = String(nodeCount);
  root.dataset.edgeCount = String(edgeCount);
  root.dataset.version = String(drawn.version);
  root.dataset.state = 'rendered';
  post({ type: 'rendered', nodeCount, edgeCount, renderer, version: drawn.version });
}

function runLayout(graph: Core, nodes: readonly GraphNode[], restoreViewport: boolean): void {
  if (nodes.length > 0 && nodes.every((node) => node.position)) {
    graph.layout({ name: 'preset', fit: !restoreViewport }).run();
  } else if (!large && nodes.length <= FCOSE_MAX_NODES) {
    // A large graph that shrank stays packed: fcose would not see its groups and edges.
    const options = {
      name: 'fcose',
      animate: false,
      randomize: true,
      fit: !restoreViewport,
      padding: 30,
    };
    graph.layout(options as never).run();
  } else {
    packNodes(graph, nodes);
    if (!restoreViewport) graph.fit(undefined, 30);
  }
  // fit zooms small graphs in until a few nodes fill the panel; keep them at a readable size.
  if (!restoreViewport && graph.zoom() > MAX_FIT_ZOOM) {
    graph.zoom(MAX_FIT_ZOOM);
    graph.center();
  }
  if (restoreViewport && viewState.zoom !== undefined && viewState.pan) {
    graph.viewport({ zoom: viewState.zoom, pan: viewState.pan });
  }
}

/** Places the nodes by packLayout: a supervisor heads its group, groups pack by nesting. */
function packNodes(graph: Core, nodes: readonly GraphNode[]): void {
  const positions = packLayout(
    nodes.map((node) => ({ id: node.id, parent: node.parent, head: node.kind === 'supervisor' })),
  );
  graph.batch(() => {
    // Only nodes without children: moving a compound would move its children with it.
    graph.nodes(':childless').forEach((node: NodeSingular) => {
      const position = positions.get(node.id());
      if (position) node.position(position);
    });
  });
}

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const message = event.data;
  switch (message.type) {
    case 'snapshot':
      receiveSnapshot(message);
      break;
    case 'delta':
      receiveDelta(message);
      break;
    case 'reply':
      pending.settle(message.requestId, message.result, message.error);
      break;
  }
});

document.getElementById('fit')!.addEventListener('click', () => cy?.fit(undefined, 30));
document.getElementById('relayout')!.addEventListener('click', () => {
  if (cy && drawn) runLayout(cy, contentOf(drawn).nodes, false);
});

// Theme changes swap the body's classes; re-read the colours.
new MutationObserver(() => {
  cy?.style(stylesheet());
  large?.setPalette(themePalette());
}).observe(document.body, {
  attributes: true,
  attributeFilter: ['class'],
});

post({ type: 'ready' });
