/**
 * The VS Code layer: wires the core (store, protocol, analysis) to commands,
 * views and panels. Everything here is thin; logic lives in the core.
 */
import * as vscode from 'vscode';
import { runHasGraph } from '../store/graphSnapshot';
import { SESSION_EXTENSION } from '../store/sessionStore';
import * as path from 'node:path';
import { registerFeedbackCommands } from './feedbackCommands';
import { registerJavaRecording } from './javaRecording';
import { ProcessMap } from './processMap';
import { ProcessTree, registerProcessActions } from './processTree';
import { TraceTree } from './traceTree';
import { parseStepNodeId } from '../jvm/dependencyGraph';
import { TraceEditor, type CurrentStepStatus } from './traceEditor';
import { ErlangNodes, type ConnectRequest, type ErlangNodeStatus } from './erlangNodes';
import { GRAPH_VIEW_TYPE, GraphPanels, type GraphPanelStatus } from './graphPanel';
import { OpenSessions } from './sessions';
import { SessionsView, type SessionsNode } from './sessionsView';

/** Returned from activate(); the in-host tests observe the extension through it. */
export interface BathysphereApi {
  sessions: OpenSessions;
  openSession(file: string): Promise<void>;
  graphPanels(): GraphPanelStatus[];
  erlangNode(): ErlangNodeStatus | undefined;
  currentStep(): CurrentStepStatus | undefined;
  traceTree: TraceTree;
  processTree: ProcessTree;
}

export function activate(context: vscode.ExtensionContext): BathysphereApi {
  const log = vscode.window.createOutputChannel('Bathysphere', { log: true });
  const sessions = new OpenSessions(log);
  const panels = new GraphPanels(context.extensionUri, sessions, log);
  const sessionsView = new SessionsView(sessions);
  // The bundled extension ships its agents under dist/agents.
  const agentBaseDir = path.join(context.extensionPath, 'dist');
  const erlangNodes = new ErlangNodes(context.secrets, agentBaseDir, log);
  const traceEditor = new TraceEditor(sessions, log, context.extensionUri);
  const processMap = new ProcessMap(erlangNodes, sessions, panels, log);
  const traceTree = new TraceTree(traceEditor);
  const processTree = new ProcessTree(processMap);
  const dependencySource = () => {
    const at = traceEditor.current();
    return (
      at && {
        sessionFile: at.sessionFile,
        runId: at.runId,
        focus: { threadId: at.threadId, order: at.order },
      }
    );
  };

  async function openSession(file: string): Promise<void> {
    const store = await sessions.open(file);
    const runWithGraph = store
      .runs()
      .reverse()
      .find((run) => runHasGraph(store, run.id));
    if (runWithGraph) panels.show({ sessionFile: file, runId: runWithGraph.id });
  }

  context.subscriptions.push(
    log,
    sessions,
    panels,
    erlangNodes,
    traceEditor,
    processMap,
    processTree,
    vscode.window.registerTreeDataProvider('bathysphere.processes', processTree),
    ...registerProcessActions(processMap),
    vscode.window.registerTreeDataProvider('bathysphere.trace', traceTree),
    vscode.commands.registerCommand('bathysphere.showTimeline', (node?: SessionsNode) => {
      const recording = processMap.current();
      const source =
        node?.kind === 'run'
          ? { sessionFile: node.file, runId: node.run.id }
          : recording && { sessionFile: recording.store.file, runId: recording.runId };
      if (source) panels.show({ ...source, view: 'timeline' });
      else
        void vscode.window.showInformationMessage(
          'Bathysphere: explore a process first, or pick an Erlang run.',
        );
    }),
    // The dependency graph follows the current step; double-clicking a step travels there.
    vscode.commands.registerCommand('bathysphere.trace.showDependencies', () => {
      const source = dependencySource();
      if (source) panels.show(source);
      else
        void vscode.window.showInformationMessage('Bathysphere: open a recorded Java run first.');
    }),
    traceEditor.onDidChangeStep(() => {
      const source = dependencySource();
      if (source && panels.isOpen(source)) panels.refresh(source);
    }),
    panels.onDidActivateNode(({ source, nodeId }) => {
      const step = source.focus && parseStepNodeId(nodeId);
      if (step)
        void traceEditor.goTo({ sessionFile: source.sessionFile, runId: source.runId, ...step });
    }),
    traceTree,
    ...registerJavaRecording({ agentBaseDir, log, sessions }),
    ...registerFeedbackCommands(sessions, traceEditor),
    vscode.commands.registerCommand('bathysphere.connectErlang', (request?: ConnectRequest) =>
      erlangNodes.connectCommand(request),
    ),
    vscode.commands.registerCommand(
      'bathysphere.disconnectErlang',
      (options?: { removeAgent?: boolean }) => erlangNodes.disconnectCommand(options),
    ),
    vscode.window.registerTreeDataProvider('bathysphere.sessions', sessionsView),
    vscode.window.registerWebviewPanelSerializer(GRAPH_VIEW_TYPE, panels.serializer()),
    vscode.commands.registerCommand('bathysphere.openSession', async (uri?: vscode.Uri) => {
      const target = uri ?? (await pickSessionFile());
      if (!target) return;
      await reportErrors(() => openSession(target.fsPath));
    }),
    vscode.commands.registerCommand('bathysphere.showGraph', async (node?: SessionsNode) => {
      await reportErrors(async () => {
        const source = await chooseRun(sessions, node);
        if (source) panels.show(source);
      });
    }),
    vscode.commands.registerCommand('bathysphere.closeSession', async (node?: SessionsNode) => {
      const file = node?.file ?? (await pickOpenSession(sessions));
      if (file) await reportErrors(() => sessions.close(file));
    }),
  );
  log.info('Bathysphere activated');
  return {
    sessions,
    openSession,
    graphPanels: () => panels.statuses(),
    erlangNode: () => erlangNodes.status(),
    currentStep: () => traceEditor.current(),
    traceTree,
    processTree,
  };
}

export function deactivate(): Promise<void> | undefined {
  // Subscriptions are disposed by VS Code; OpenSessions.dispose flushes every open session.
  return undefined;
}

async function pickSessionFile(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Open Session',
    filters: { 'Bathysphere sessions': [SESSION_EXTENSION.slice(1)], 'All files': ['*'] },
  });
  return picked?.[0];
}

async function pickOpenSession(sessions: OpenSessions): Promise<string | undefined> {
  const files = sessions.all().map((store) => store.file);
  if (files.length <= 1) return files[0];
  return vscode.window.showQuickPick(files, { placeHolder: 'Which session?' });
}

async function chooseRun(
  sessions: OpenSessions,
  node: SessionsNode | undefined,
): Promise<{ sessionFile: string; runId: number } | undefined> {
  if (node?.kind === 'run') return { sessionFile: node.file, runId: node.run.id };
  const file = node?.file ?? (await pickOpenSession(sessions));
  if (!file) {
    void vscode.window.showInformationMessage('Bathysphere: open a session first.');
    return undefined;
  }
  const store = sessions.get(file);
  const runs = store?.runs() ?? [];
  if (runs.length === 0) {
    void vscode.window.showInformationMessage(`Bathysphere: ${file} has no runs yet.`);
    return undefined;
  }
  if (runs.length === 1) return { sessionFile: file, runId: runs[0].id };
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => ({
      label: run.target,
      description: `${run.targetKind} · run ${run.id}`,
      run,
    })),
    { placeHolder: 'Which run?' },
  );
  return picked && { sessionFile: file, runId: picked.run.id };
}

async function reportErrors(body: () => Promise<unknown>): Promise<void> {
  try {
    await body();
  } catch (error) {
    void vscode.window.showErrorMessage(`Bathysphere: ${(error as Error).message}`);
  }
}
