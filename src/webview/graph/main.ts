/**
 * The graph panel's webview: draws the host's snapshot with Cytoscape and keeps
 * only view state (zoom, pan, selection) of its own.
 */
import cytoscape, {
  type Core,
  type CytoscapeOptions,
  type ElementDefinition,
  type StylesheetJson,
} from 'cytoscape';
import fcose from 'cytoscape-fcose';
import {
  PendingRequests,
  type GraphSnapshot,
  type GraphViewState,
  type HostToWebview,
  type NodeDetails,
  type RendererChoice,
  type WebviewToHost,
} from '../../shared/graphProtocol';

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

let cy: Core | undefined;
let viewState: GraphViewState = vscode.getState() ?? {};

function post(message: WebviewToHost): void {
  vscode.postMessage(message);
}

function saveViewState(patch: Partial<GraphViewState>): void {
  viewState = { ...viewState, ...patch };
  vscode.setState(viewState);
}

/** WebGL2 is what Cytoscape's WebGL mode draws with; some webviews (no GPU) lack it. */
function webglAvailable(): boolean {
  try {
    return document.createElement('canvas').getContext('webgl2') !== null;
  } catch {
    return false;
  }
}

function chooseRenderer(choice: RendererChoice): 'webgl' | 'canvas' {
  if (choice === 'canvas') return 'canvas';
  return webglAvailable() ? 'webgl' : 'canvas';
}

function themeColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

function stylesheet(): StylesheetJson {
  const fg = themeColor('--vscode-editor-foreground', '#cccccc');
  const bg = themeColor('--vscode-editor-background', '#1e1e1e');
  const accent = themeColor('--vscode-charts-blue', '#3794ff');
  const focus = themeColor('--vscode-focusBorder', '#007fd4');
  const muted = themeColor('--vscode-descriptionForeground', '#8b8b8b');
  const warn = themeColor('--vscode-charts-orange', '#d18616');
  const supervisor = themeColor('--vscode-charts-purple', '#b180d7');
  const listened = themeColor('--vscode-charts-green', '#89d185');
  return [
    {
      selector: 'node',
      style: {
        'background-color': accent,
        label: 'data(label)',
        color: fg,
        'font-size': 11,
        'text-valign': 'bottom',
        'text-margin-y': 4,
        'text-outline-color': bg,
        'text-outline-width': 2,
        width: 22,
        height: 22,
      },
    },
    {
      selector: ':parent',
      style: {
        'background-opacity': 0.08,
        'border-color': muted,
        'border-width': 1,
        'text-valign': 'top',
      },
    },
    {
      selector: 'node[kind = "supervisor"]',
      style: { shape: 'round-rectangle', 'background-color': supervisor },
    },
    { selector: 'node[level = "mentioned"]', style: { 'background-opacity': 0.35 } },
    { selector: 'node[level = "listened"]', style: { 'background-color': listened } },
    { selector: 'node[kind = "dead"]', style: { 'background-color': muted, opacity: 0.6 } },
    {
      selector: 'node[kind = "current"]',
      style: { 'background-color': warn, width: 30, height: 30 },
    },
    { selector: 'edge[kind = "control"]', style: { 'line-style': 'dashed' } },
    {
      selector: 'edge[kind = "lifetime"]',
      style: { width: 6, 'target-arrow-shape': 'none', 'curve-style': 'straight' },
    },
    { selector: 'node[kind = "alive"]', style: { width: 6, height: 6 } },
    { selector: 'edge[kind = "monitor"]', style: { 'line-style': 'dashed' } },
    {
      selector: 'edge[kind = "spawn"]',
      style: { 'line-style': 'dotted', 'target-arrow-shape': 'vee' },
    },
    {
      selector: 'edge[kind = "message"]',
      style: { 'line-color': listened, 'target-arrow-color': listened },
    },
    { selector: 'node[kind = "warning"]', style: { 'background-color': warn } },
    {
      selector: 'edge',
      style: {
        width: 1.5,
        'line-color': muted,
        'target-arrow-color': muted,
        'target-arrow-shape': 'triangle',
        'curve-style': 'bezier',
        label: 'data(label)',
        'font-size': 9,
        color: muted,
      },
    },
    { selector: ':selected', style: { 'border-width': 3, 'border-color': focus } },
  ];
}

function toElements(snapshot: GraphSnapshot): ElementDefinition[] {
  const nodes: ElementDefinition[] = snapshot.nodes.map((node) => ({
    group: 'nodes',
    data: {
      id: node.id,
      label: node.label,
      kind: node.kind,
      parent: node.parent,
      // Process maps colour nodes by how deeply they are traced.
      level: typeof node.data?.level === 'string' ? node.data.level : undefined,
    },
    position: node.position,
  }));
  const edges: ElementDefinition[] = snapshot.edges.map((edge) => ({
    group: 'edges',
    data: {
      id: edge.id,
      source: edge.source,
      target: edge.target,
      kind: edge.kind,
      label: edge.label ?? '',
    },
  }));
  return [...nodes, ...edges];
}

function createGraph(renderer: 'webgl' | 'canvas'): Core {
  const options: CytoscapeOptions & { renderer: { name: string; webgl: boolean } } = {
    container: canvasHost,
    style: stylesheet(),
    // Cytoscape's WebGL mode is an option of its canvas renderer (3.31+).
    renderer: { name: 'canvas', webgl: renderer === 'webgl' },
  };
  const graph = cytoscape(options);
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

function render(snapshot: GraphSnapshot, rendererChoice: RendererChoice): void {
  const renderer = chooseRenderer(rendererChoice);
  if (!cy || root.dataset.renderer !== renderer) {
    cy?.destroy();
    cy = createGraph(renderer);
  }
  const graph = cy;
  const restoring = sameSource(viewState.source, snapshot.source);
  graph.batch(() => {
    graph.elements().remove();
    graph.add(toElements(snapshot));
    if (restoring) graph.$(idSelector(viewState.selection ?? [])).select();
  });
  runLayout(graph, snapshot, restoring);
  saveViewState({ source: snapshot.source });
  document.title = snapshot.title;
  status.textContent = `${snapshot.title} — ${snapshot.nodes.length} nodes, ${snapshot.edges.length} edges (${renderer})`;
  root.dataset.nodeCount = String(graph.nodes().length);
  root.dataset.edgeCount = String(graph.edges().length);
  root.dataset.state = 'rendered';
  post({
    type: 'rendered',
    nodeCount: graph.nodes().length,
    edgeCount: graph.edges().length,
    renderer,
  });
}

function idSelector(ids: string[]): string {
  return ids.length ? ids.map((id) => `#${CSS.escape(id)}`).join(',') : '#__none__';
}

function runLayout(graph: Core, snapshot: GraphSnapshot, restoreViewport: boolean): void {
  const preset = snapshot.nodes.length > 0 && snapshot.nodes.every((node) => node.position);
  const layout = graph.layout(
    preset
      ? { name: 'preset', fit: !restoreViewport }
      : ({
          name: 'fcose',
          animate: false,
          randomize: true,
          fit: !restoreViewport,
          padding: 30,
        } as never),
  );
  layout.run();
  // fit zooms small graphs in until a few nodes fill the panel; keep them at a readable size.
  if (!restoreViewport && graph.zoom() > MAX_FIT_ZOOM) {
    graph.zoom(MAX_FIT_ZOOM);
    graph.center();
  }
  if (restoreViewport && viewState.zoom !== undefined && viewState.pan) {
    graph.viewport({ zoom: viewState.zoom, pan: viewState.pan });
  }
}

let lastSnapshot: { snapshot: GraphSnapshot; renderer: RendererChoice } | undefined;

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const message = event.data;
  switch (message.type) {
    case 'snapshot':
      lastSnapshot = { snapshot: message.snapshot, renderer: message.renderer };
      render(message.snapshot, message.renderer);
      break;
    case 'reply':
      pending.settle(message.requestId, message.result, message.error);
      break;
  }
});

document.getElementById('fit')!.addEventListener('click', () => cy?.fit(undefined, 30));
document.getElementById('relayout')!.addEventListener('click', () => {
  if (cy && lastSnapshot) runLayout(cy, lastSnapshot.snapshot, false);
});

// Theme changes swap the body's classes; re-read the colours.
new MutationObserver(() => cy?.style(stylesheet())).observe(document.body, {
  attributes: true,
  attributeFilter: ['class'],
});

post({ type: 'ready' });
