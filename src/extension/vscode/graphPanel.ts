/**
 * The one graph panel type (view type `bathysphere.graph`). The host owns the
 * data: it answers the webview's `ready`, and every return to visibility, with
 * a full snapshot, because a hidden webview may have missed messages. Updates
 * of the same graph in between go as deltas against the picture last sent, so
 * the webview keeps its layout, viewport and selection.
 */
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import {
  deltaSize,
  type GraphSnapshot,
  type GraphSource,
  type GraphViewState,
  type HostToWebview,
  type RendererChoice,
  type WebviewToHost,
} from '../../shared/graphProtocol';
import { graphSnapshot, graphUpdate, nodeDetails } from '../store/graphSnapshot';
import type { OpenSessions } from './sessions';

export const GRAPH_VIEW_TYPE = 'bathysphere.graph';

/** What tests and other features can observe about a panel. */
export interface GraphPanelStatus {
  source: GraphSource;
  ready: boolean;
  rendered?: { nodeCount: number; edgeCount: number; renderer: 'webgl' | 'canvas' };
  selection: string[];
}

export class GraphPanels implements vscode.Disposable {
  private readonly panels = new Map<string, GraphPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly sessions: OpenSessions,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  private readonly activated = new vscode.EventEmitter<{ source: GraphSource; nodeId: string }>();
  /** A node was double-clicked: the person wants to go there. */
  readonly onDidActivateNode = this.activated.event;

  /** Shows the graph of a run, reusing its panel when one is open. */
  show(source: GraphSource, options: { preserveFocus?: boolean } = {}): GraphPanel {
    const key = sourceKey(source);
    const existing = this.panels.get(key);
    if (existing) {
      existing.retarget(source);
      if (!options.preserveFocus) existing.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      GRAPH_VIEW_TYPE,
      'Bathysphere Graph',
      source.focus
        ? { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }
        : vscode.ViewColumn.Active,
      webviewOptions(this.extensionUri),
    );
    return this.adopt(panel, source);
  }

  /** Serializer for panels restored after a reload: reopen their session, then redraw. */
  serializer(): vscode.WebviewPanelSerializer<GraphViewState> {
    return {
      deserializeWebviewPanel: async (panel, state) => {
        const source = state?.source;
        if (!source) {
          panel.dispose();
          return;
        }
        try {
          await this.sessions.open(source.sessionFile);
          panel.webview.options = webviewOptions(this.extensionUri);
          this.adopt(panel, source);
        } catch (error) {
          this.log.warn(
            `could not restore graph of ${source.sessionFile}: ${(error as Error).message}`,
          );
          panel.dispose();
        }
      },
    };
  }

  /** Redraws the panel of a source, if one is open (new data arrived, or a new focus). */
  refresh(source: GraphSource): void {
    this.panels.get(sourceKey(source))?.retarget(source);
  }

  /** Sends what changed in a source's graph to its panel, if one is open (live data). */
  update(source: GraphSource): void {
    this.panels.get(sourceKey(source))?.update();
  }

  /** Whether a panel for this source (or its dependency view) is open. */
  isOpen(source: GraphSource): boolean {
    return this.panels.has(sourceKey(source));
  }

  statuses(): GraphPanelStatus[] {
    return [...this.panels.values()].map((panel) => panel.status());
  }

  dispose(): void {
    for (const panel of this.panels.values()) panel.dispose();
    this.activated.dispose();
  }

  private adopt(panel: vscode.WebviewPanel, source: GraphSource): GraphPanel {
    const key = sourceKey(source);
    const graphPanel = new GraphPanel(
      panel,
      source,
      this.extensionUri,
      this.sessions,
      this.log,
      (nodeId) => this.activated.fire({ source: graphPanel.status().source, nodeId }),
    );
    this.panels.set(key, graphPanel);
    panel.onDidDispose(() => this.panels.delete(key));
    return graphPanel;
  }
}

/** One panel per run's graph, and one per run's dependency view (whatever step it focuses). */
function sourceKey(source: GraphSource): string {
  return `${source.sessionFile}#${source.runId}${source.focus ? '#dependencies' : ''}${source.view ? `#${source.view}` : ''}`;
}

function sameFocus(a: GraphSource, b: GraphSource): boolean {
  return a.focus?.threadId === b.focus?.threadId && a.focus?.order === b.focus?.order;
}

function webviewOptions(
  extensionUri: vscode.Uri,
): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    // Only the bundled webview scripts may be loaded.
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')],
  };
}

export class GraphPanel {
  private ready = false;
  /** Numbers every snapshot and delta sent; the webview echoes the one it drew. */
  private version = 0;
  /** The picture last sent, which the next delta is computed against. */
  private sent: GraphSnapshot | undefined;
  private rendered: GraphPanelStatus['rendered'];
  private selection: string[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly panel: vscode.WebviewPanel,
    private source: GraphSource,
    extensionUri: vscode.Uri,
    private readonly sessions: OpenSessions,
    private readonly log: vscode.LogOutputChannel,
    private readonly onActivate: (nodeId: string) => void,
  ) {
    const file = source.sessionFile.split(/[\\/]/).pop();
    const kind = source.focus ? 'Dependencies' : source.view === 'timeline' ? 'Timeline' : 'Graph';
    panel.title = `${kind}: ${file} #${source.runId}`;
    panel.webview.html = renderHtml(panel.webview, extensionUri);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((message: WebviewToHost) => this.receive(message)),
      panel.onDidChangeViewState(({ webviewPanel }) => {
        if (webviewPanel.visible) this.sendSnapshot();
      }),
      sessions.onDidChange(() => {
        if (!this.sessions.get(source.sessionFile)) panel.dispose();
      }),
    );
    panel.onDidDispose(() => this.disposables.forEach((d) => d.dispose()));
  }

  reveal(): void {
    this.panel.reveal();
  }

  /** Points the panel at another focus (or the same data, changed) and redraws. */
  retarget(source: GraphSource): void {
    if (
      this.sent &&
      sourceKey(source) === sourceKey(this.source) &&
      sameFocus(source, this.source)
    ) {
      this.update();
      return;
    }
    this.source = source;
    this.rendered = undefined; // until the webview reports the new picture
    this.sendSnapshot();
  }

  /**
   * Sends what changed since the picture last sent. A hidden webview gets nothing:
   * it may not exist any more, and it gets a snapshot when it is shown again.
   */
  update(): void {
    if (!this.ready || !this.sent || !this.panel.visible) return;
    const store = this.sessions.get(this.source.sessionFile);
    if (!store) return;
    const { snapshot, delta } = graphUpdate(store, this.sent);
    if (deltaSize(delta) === 0) return;
    const baseVersion = this.version;
    this.version += 1;
    this.sent = snapshot;
    this.post({ type: 'delta', delta, baseVersion, version: this.version });
  }

  dispose(): void {
    this.panel.dispose();
  }

  status(): GraphPanelStatus {
    return {
      source: this.source,
      ready: this.ready,
      rendered: this.rendered,
      selection: this.selection,
    };
  }

  /** Sends the full current graph; called on `ready` and whenever the panel becomes visible. */
  sendSnapshot(): void {
    if (!this.ready) return;
    const snapshot = this.snapshot();
    if (!snapshot) return;
    this.version += 1;
    this.sent = snapshot;
    this.post({ type: 'snapshot', snapshot, renderer: rendererSetting(), version: this.version });
  }

  private snapshot(): GraphSnapshot | undefined {
    const store = this.sessions.get(this.source.sessionFile);
    if (!store) return undefined;
    return graphSnapshot(store, this.source.runId, this.source.focus, this.source.view);
  }

  private receive(message: WebviewToHost): void {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.sendSnapshot();
        break;
      case 'rendered':
        // A reply to an older message describes a picture already replaced.
        if (message.version !== this.version) break;
        this.rendered = {
          nodeCount: message.nodeCount,
          edgeCount: message.edgeCount,
          renderer: message.renderer,
        };
        this.log.debug(`graph rendered: ${message.nodeCount} nodes with ${message.renderer}`);
        break;
      case 'resync':
        this.log.debug(`graph webview at version ${message.version} missed an update; resending`);
        this.sendSnapshot();
        break;
      case 'selectionChanged':
        this.selection = message.nodeIds;
        break;
      case 'activate':
        this.onActivate(message.nodeId);
        break;
      case 'request':
        this.answer(message.requestId, message.request.nodeId);
        break;
    }
  }

  private answer(requestId: number, nodeId: string): void {
    const store = this.sessions.get(this.source.sessionFile);
    if (!store) {
      this.post({ type: 'reply', requestId, error: 'the session is closed' });
      return;
    }
    try {
      this.post({
        type: 'reply',
        requestId,
        result: nodeDetails(store, this.source.runId, nodeId),
      });
    } catch (error) {
      this.post({ type: 'reply', requestId, error: (error as Error).message });
    }
  }

  private post(message: HostToWebview): void {
    void this.panel.webview.postMessage(message);
  }
}

function rendererSetting(): RendererChoice {
  return vscode.workspace
    .getConfiguration('bathysphere')
    .get<RendererChoice>('graph.renderer', 'auto');
}

function renderHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = crypto.randomBytes(18).toString('base64');
  const script = webview.asWebviewUri(
    vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'graph.js'),
  );
  const style = webview.asWebviewUri(
    vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'graph.css'),
  );
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${style}">
  <title>Bathysphere Graph</title>
</head>
<body>
  <div id="graph-root" data-state="loading" data-node-count="0" data-edge-count="0">
    <div class="toolbar">
      <button id="fit" type="button" title="Fit the graph to the panel">Fit</button>
      <button id="relayout" type="button" title="Lay the graph out again">Re-layout</button>
      <span id="status" role="status">Loading…</span>
    </div>
    <div id="graph"></div>
    <div id="details" aria-live="polite"></div>
  </div>
  <script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
