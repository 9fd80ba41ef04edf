/**
 * The live process map of a connected Erlang node: "Explore Process..." starts
 * recording into a session (one run per connection), explores the process the
 * person picks, and draws the map in the graph panel, updated as event batches
 * arrive: what changed is sent as one delta at most every REDRAW_INTERVAL_MS, so a
 * busy node cannot flood the UI and the map keeps its layout.
 * Overload reports from the agent become warnings.
 */
import * as vscode from 'vscode';
import { ErlangRecorder } from '../erlang/record';
import type { ErlangNodes } from './erlangNodes';
import type { GraphPanels } from './graphPanel';
import { newSessionFile, type OpenSessions } from './sessions';

const REDRAW_INTERVAL_MS = 300;

/** A pid or name, or a process item of the Processes view (its context menu passes the item). */
type TargetArgument = string | { kind: 'process'; node: { data: { pid: string } } };

function pidOf(target: TargetArgument | undefined): string | undefined {
  return typeof target === 'object' ? target.node.data.pid : target;
}

interface Recording {
  recorder: ErlangRecorder;
  sessionFile: string;
  node: string;
}

export class ProcessMap implements vscode.Disposable {
  private recording: Recording | undefined;
  private redrawTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly updated = new vscode.EventEmitter<void>();
  /** New events reached the session (at most every REDRAW_INTERVAL_MS), or recording stopped. */
  readonly onDidUpdate = this.updated.event;

  constructor(
    private readonly nodes: ErlangNodes,
    private readonly sessions: OpenSessions,
    private readonly panels: GraphPanels,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.commands.registerCommand('bathysphere.exploreProcess', (target?: TargetArgument) =>
        this.explore(pidOf(target)),
      ),
      vscode.commands.registerCommand('bathysphere.listenProcess', (target?: TargetArgument) =>
        this.listen(pidOf(target)),
      ),
      nodes.onDidDisconnect(() => void this.stop()),
    );
  }

  /** Explores a process (pid, `<0.85.0>` or registered name); asks which when not given. */
  async explore(
    target?: string,
  ): Promise<{ sessionFile: string; runId: number; pid: string } | undefined> {
    return this.withRecording('Explore', target, (recording, chosen) =>
      recording.recorder.session.explore(chosen),
    );
  }

  /** Listens to a process: its messages are recorded too (summarised when they flood). */
  async listen(
    target?: string,
  ): Promise<{ sessionFile: string; runId: number; pid: string } | undefined> {
    return this.withRecording('Listen to', target, (recording, chosen) =>
      recording.recorder.session.listen(chosen),
    );
  }

  private async withRecording(
    verb: string,
    target: string | undefined,
    act: (recording: Recording, target: string) => Promise<string>,
  ): Promise<{ sessionFile: string; runId: number; pid: string } | undefined> {
    try {
      const recording = await this.ensureRecording();
      const chosen = target ?? (await this.pickProcess(recording, verb));
      if (!chosen) return undefined;
      const pid = await act(recording, chosen);
      this.log.info(`${verb.toLowerCase()} ${chosen} (${pid}) on ${recording.node}`);
      const source = { sessionFile: recording.sessionFile, runId: recording.recorder.runId };
      this.panels.show(source);
      this.scheduleRedraw();
      return { ...source, pid };
    } catch (error) {
      void vscode.window.showErrorMessage(`Bathysphere: ${(error as Error).message}`);
      return undefined;
    }
  }

  private async ensureRecording(): Promise<Recording> {
    const live = this.nodes.current();
    if (!live)
      throw new Error('connect to an Erlang node first (Bathysphere: Connect to Erlang Node...)');
    if (this.recording?.node === live.node) return this.recording;
    await this.stop();
    const sessionFile = newSessionFile(live.node);
    const store = await this.sessions.open(sessionFile, true);
    const recorder = await ErlangRecorder.start(live.connection, live.agent, store, {
      onError: (error) => this.log.error(`ingest: ${error.message}`),
    });
    recorder.session.on('events', () => this.scheduleRedraw());
    recorder.session.on('overload', (event) => {
      const detail = JSON.stringify(event).slice(0, 300);
      this.log.warn(`overload on ${live.node}: ${detail}`);
      void vscode.window.showWarningMessage(
        `Bathysphere: ${live.node} is busy; the noisiest tracing was switched off to protect it (details in the Bathysphere log).`,
      );
    });
    this.recording = { recorder, sessionFile, node: live.node };
    this.sessions.refresh();
    this.log.info(`recording ${live.node} into ${sessionFile} (run ${recorder.runId})`);
    return this.recording;
  }

  private async pickProcess(recording: Recording, verb: string): Promise<string | undefined> {
    const processes = await recording.recorder.session.listProcesses(5000);
    const picked = await vscode.window.showQuickPick(
      processes.map((p) => ({
        label: p.registeredName ?? p.pid,
        description: p.registeredName ? p.pid : undefined,
        detail: p.initialCall,
        target: p.pid,
      })),
      {
        title: `${verb} which process on ${recording.node}?`,
        matchOnDescription: true,
        matchOnDetail: true,
      },
    );
    return picked?.target;
  }

  /** Updates the map soon, coalescing bursts of event batches into one delta. */
  private scheduleRedraw(): void {
    if (this.redrawTimer || !this.recording) return;
    const source = {
      sessionFile: this.recording.sessionFile,
      runId: this.recording.recorder.runId,
    };
    this.redrawTimer = setTimeout(() => {
      this.redrawTimer = undefined;
      this.panels.update(source);
      this.panels.update({ ...source, view: 'timeline' });
      this.updated.fire();
    }, REDRAW_INTERVAL_MS);
  }

  /** The recording under way: its session store, run and trace session. */
  current() {
    const recording = this.recording;
    if (!recording) return undefined;
    const store = this.sessions.get(recording.sessionFile);
    return store && { store, runId: recording.recorder.runId, session: recording.recorder.session };
  }

  private async stop(): Promise<void> {
    const recording = this.recording;
    this.recording = undefined;
    if (!recording) return;
    this.updated.fire();
    try {
      await recording.recorder.stop();
    } catch (error) {
      // The node may be gone already; what was ingested is in the session.
      this.log.warn(`stopping the recording of ${recording.node}: ${(error as Error).message}`);
    }
    this.sessions.refresh();
  }

  dispose(): void {
    void this.stop();
    this.updated.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}
