/**
 * Travelling through a recorded Java trace in the editor: a current step per
 * session, the source line of that step revealed and decorated (variables
 * read and written with their values, the control dominator's line), a status
 * bar item, hovers, and commands in both directions. Where a move goes is
 * decided by the core (src/extension/jvm/navigation.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { classNameOfSource, sourcePathOf } from '../jvm/javaSource';
import {
  describeAccess,
  describeStep,
  lineExecution,
  move,
  writerOfRead,
  type MoveResult,
  type NavigationMove,
} from '../jvm/navigation';
import { JvmTraceReader, type JvmStepRef, type JvmStoredStep } from '../jvm/traceReader';
import type { OpenSessions } from './sessions';

export interface TracePosition {
  sessionFile: string;
  runId: number;
  threadId: number;
  order: number;
}

/** What tests and other views can observe about the current step. */
export interface CurrentStepStatus extends TracePosition {
  className: string;
  method: string;
  line: number;
  threadName: string;
  totalSteps: number;
  /** The editor file showing the step, when its source was found. */
  sourceFile?: string;
  readsText: string[];
  writesText: string[];
  controlDominator: number | null;
}

const MOVES: [command: string, move: NavigationMove][] = [
  ['bathysphere.trace.stepForward', 'stepForward'],
  ['bathysphere.trace.stepBack', 'stepBack'],
  ['bathysphere.trace.stepOverForward', 'stepOverForward'],
  ['bathysphere.trace.stepOverBack', 'stepOverBack'],
  ['bathysphere.trace.stepInto', 'stepInto'],
  ['bathysphere.trace.stepOut', 'stepOut'],
  ['bathysphere.trace.goToControlDominator', 'controlDominator'],
];

export class TraceEditor implements vscode.Disposable {
  private reader: JvmTraceReader | undefined;
  private position: TracePosition | undefined;
  private status: CurrentStepStatus | undefined;
  private readonly sources = new SourceLocator();
  private readonly statusItem = vscode.window.createStatusBarItem(
    'bathysphere.currentStep',
    vscode.StatusBarAlignment.Left,
    40,
  );
  private readonly decorations: ReturnType<typeof createDecorationTypes>;
  private readonly changed = new vscode.EventEmitter<CurrentStepStatus | undefined>();
  readonly onDidChangeStep = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly sessions: OpenSessions,
    private readonly log: vscode.LogOutputChannel,
    extensionUri: vscode.Uri,
  ) {
    this.decorations = createDecorationTypes(extensionUri);
    this.statusItem.name = 'Bathysphere: current step';
    this.statusItem.command = 'bathysphere.trace.goToStep';
    this.disposables.push(
      ...MOVES.map(([command, kind]) =>
        vscode.commands.registerCommand(command, () =>
          this.apply((reader, at) => move(reader, at, kind)),
        ),
      ),
      vscode.commands.registerCommand('bathysphere.trace.open', (target?: TraceOpenTarget) =>
        this.openCommand(target),
      ),
      vscode.commands.registerCommand(
        'bathysphere.trace.goToStep',
        (order?: number, threadId?: number) => this.goToStepCommand(order, threadId),
      ),
      vscode.commands.registerCommand('bathysphere.trace.goToWriter', (name?: string) =>
        this.goToWriterCommand(name),
      ),
      vscode.commands.registerCommand('bathysphere.trace.nextExecution', () =>
        this.lineExecutionCommand('next'),
      ),
      vscode.commands.registerCommand('bathysphere.trace.previousExecution', () =>
        this.lineExecutionCommand('previous'),
      ),
      vscode.commands.registerCommand('bathysphere.trace.writesOfVariable', () =>
        this.writesOfVariableCommand(),
      ),
      vscode.languages.registerHoverProvider(
        { language: 'java' },
        { provideHover: (doc, pos) => this.hover(doc, pos) },
      ),
      vscode.window.onDidChangeVisibleTextEditors(() => this.decorate()),
      sessions.onDidChange(() => {
        if (this.position && !this.sessions.get(this.position.sessionFile)) this.clear();
      }),
    );
  }

  current(): CurrentStepStatus | undefined {
    return this.status;
  }

  /** The reader of the open run, for views that list its steps. */
  /**
   * The source text of a class when it is where the configured source paths or the usual
   * layouts put it (no search, no question: the feedback search asks for many classes at once).
   */
  sourceText(className: string, sourceFile: string): string | undefined {
    const uri = this.sources.findQuietly(className, sourceFile);
    try {
      return uri && fs.readFileSync(uri.fsPath, 'utf8');
    } catch {
      return undefined;
    }
  }

  currentReader(): JvmTraceReader | undefined {
    return this.reader;
  }

  /** Opens a run at a step (default: the first step of its main thread). */
  async open(
    sessionFile: string,
    runId: number,
    at?: { threadId?: number; order?: number },
  ): Promise<void> {
    const store = this.sessions.get(sessionFile) ?? (await this.sessions.open(sessionFile));
    const reader = new JvmTraceReader(store, runId);
    const threads = reader.threads();
    if (threads.length === 0)
      throw new Error(`run ${runId} of ${path.basename(sessionFile)} has no recorded steps`);
    const thread =
      threads.find((t) => t.threadId === at?.threadId) ??
      threads.find((t) => t.isMain) ??
      threads[0];
    this.reader = reader;
    await this.goTo({ sessionFile, runId, threadId: thread.threadId, order: at?.order ?? 1 });
  }

  /** Makes a step current: reveals its line and decorates it. */
  async goTo(position: TracePosition): Promise<void> {
    const reader = this.readerFor(position);
    const step = reader.step(position.threadId, position.order);
    if (!step) throw new Error(`no step ${position.order} in thread ${position.threadId}`);
    const thread = reader.threads().find((t) => t.threadId === position.threadId)!;
    this.position = position;
    this.log.debug(`current step: ${describeStep(step)} (thread ${thread.name})`);
    const source = await this.sources.find(step);
    this.status = {
      ...position,
      className: step.className,
      method: step.method,
      line: step.line,
      threadName: thread.name,
      totalSteps: thread.steps,
      sourceFile: source?.fsPath,
      readsText: step.reads.map(describeAccess),
      writesText: step.writes.map(describeAccess),
      controlDominator: step.controlDominator,
    };
    if (source) {
      // Most moves stay in the file on screen: asking the workbench to show it again costs a
      // round trip to the window for nothing.
      const active = vscode.window.activeTextEditor;
      const editor =
        active?.document.uri.toString() === source.toString()
          ? active
          : await vscode.window.showTextDocument(source, { preserveFocus: false, preview: true });
      const line = new vscode.Range(step.line - 1, 0, step.line - 1, 0);
      editor.selection = new vscode.Selection(line.start, line.start);
      editor.revealRange(line, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    } else {
      void vscode.window.showWarningMessage(
        `Bathysphere: the source of ${step.className} (${step.sourceFile}) was not found; set bathysphere.java.sourcePaths.`,
      );
    }
    this.decorate();
    this.updateStatusBar();
    void vscode.commands.executeCommand('setContext', 'bathysphere.traceActive', true);
    this.changed.fire(this.status);
  }

  private readerFor(position: TracePosition): JvmTraceReader {
    if (
      this.reader &&
      this.reader.runId === position.runId &&
      this.position?.sessionFile === position.sessionFile
    ) {
      return this.reader;
    }
    const store = this.sessions.get(position.sessionFile);
    if (!store) throw new Error(`${position.sessionFile} is not open`);
    this.reader = new JvmTraceReader(store, position.runId);
    return this.reader;
  }

  private async apply(
    decide: (reader: JvmTraceReader, at: JvmStepRef) => MoveResult,
  ): Promise<MoveResult | undefined> {
    if (!this.position || !this.reader) {
      void vscode.window.showInformationMessage(
        'Bathysphere: open a recorded Java run first (click it in the Sessions view).',
      );
      return undefined;
    }
    const result = decide(this.reader, this.position);
    if ('blocked' in result) {
      vscode.window.setStatusBarMessage(`Bathysphere: ${result.blocked}`, 4000);
      return result;
    }
    await this.goTo({ ...this.position, threadId: result.to.threadId, order: result.to.order });
    return result;
  }

  private async openCommand(target?: TraceOpenTarget): Promise<void> {
    try {
      if (!target) throw new Error('pick a recorded Java run in the Sessions view');
      await this.open(target.file, target.run.id);
    } catch (error) {
      void vscode.window.showErrorMessage(`Bathysphere: ${(error as Error).message}`);
    }
  }

  /** Goes to step `order` of a thread (default: the current one); asks for the number when not given. */
  private async goToStepCommand(order?: number, threadId?: number): Promise<void> {
    if (!this.status || !this.reader) return;
    const thread = threadId ?? this.status.threadId;
    const total = this.reader.threads().find((t) => t.threadId === thread)?.steps ?? 0;
    const wanted =
      order ??
      Number(
        await vscode.window.showInputBox({
          title: `Go to step (1-${total}) in thread ${this.status.threadName}`,
          value: String(this.status.order),
          validateInput: (text) =>
            /^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= total
              ? undefined
              : `a step from 1 to ${total}`,
        }),
      );
    if (!Number.isInteger(wanted) || wanted < 1) return;
    await this.apply(() =>
      wanted <= total
        ? { to: { threadId: thread, order: wanted } }
        : { blocked: `there are ${total} steps` },
    );
  }

  /** Goes to the step that wrote a variable this step reads (asks which when it reads several). */
  private async goToWriterCommand(name?: string): Promise<void> {
    const step = this.currentStep();
    if (!step) return;
    if (step.reads.length === 0) {
      vscode.window.setStatusBarMessage('Bathysphere: this step reads no variable', 4000);
      return;
    }
    const read =
      step.reads.find((r) => r.name === name) ??
      (step.reads.length === 1
        ? step.reads[0]
        : (
            await vscode.window.showQuickPick(
              step.reads.map((r) => ({
                label: describeAccess(r),
                description: r.writer
                  ? `written at #${r.writer.order}`
                  : 'set outside the recording',
                read: r,
              })),
              { title: 'Go to the step that wrote…' },
            )
          )?.read);
    if (read) await this.apply(() => writerOfRead(read));
  }

  /** Next or previous execution of the line under the cursor. */
  private async lineExecutionCommand(direction: 'next' | 'previous'): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !this.position) return;
    const className = this.classOfDocument(editor.document);
    const line = editor.selection.active.line + 1;
    await this.apply((reader, at) => lineExecution(reader, at, className, line, direction));
  }

  private async writesOfVariableCommand(): Promise<void> {
    const step = this.currentStep();
    if (!step || !this.reader || !this.position) return;
    const accesses = [...step.writes, ...step.reads];
    if (accesses.length === 0) {
      vscode.window.setStatusBarMessage('Bathysphere: this step touches no variable', 4000);
      return;
    }
    const variable = await vscode.window.showQuickPick(
      accesses.map((a) => ({ label: describeAccess(a), access: a })),
      { title: 'Steps that wrote which variable?' },
    );
    if (!variable) return;
    const writes = this.reader.writesOf(
      this.position.threadId,
      this.position.order,
      variable.access,
    );
    const picked = await vscode.window.showQuickPick(
      writes.map((ref) => {
        const writer = this.reader!.step(ref.threadId, ref.order);
        const value = writer?.writes.find((w) => w.name === variable.access.name)?.value ?? '?';
        return {
          label: writer ? describeStep(writer) : `#${ref.order}`,
          description: `= ${value}`,
          ref,
        };
      }),
      { title: `Writes of ${variable.access.name}, newest first` },
    );
    if (picked) await this.apply(() => ({ to: picked.ref }));
  }

  private currentStep(): JvmStoredStep | undefined {
    if (!this.position || !this.reader) return undefined;
    return this.reader.step(this.position.threadId, this.position.order);
  }

  private classOfDocument(document: vscode.TextDocument): string {
    if (this.status && document.uri.fsPath === this.status.sourceFile) return this.status.className;
    return classNameOfSource(document.fileName, document.getText());
  }

  private decorate(): void {
    const status = this.status;
    const step = this.currentStep();
    for (const editor of vscode.window.visibleTextEditors) {
      const showing = !!status && !!step && editor.document.uri.fsPath === status.sourceFile;
      const line = showing ? editor.document.lineAt(step!.line - 1).range : undefined;
      editor.setDecorations(this.decorations.current, line ? [line] : []);
      editor.setDecorations(
        this.decorations.reads,
        line && step!.reads.length ? [afterText(line, `read ${status!.readsText.join(', ')}`)] : [],
      );
      editor.setDecorations(
        this.decorations.writes,
        line && step!.writes.length
          ? [afterText(line, `wrote ${status!.writesText.join(', ')}`)]
          : [],
      );
      editor.setDecorations(
        this.decorations.dominator,
        showing ? this.dominatorDecoration(editor.document, step!) : [],
      );
    }
  }

  /** The control dominator's line, marked in the gutter, with a hover naming it as a link. */
  private dominatorDecoration(
    document: vscode.TextDocument,
    step: JvmStoredStep,
  ): vscode.DecorationOptions[] {
    if (step.controlDominator === null || !this.reader) return [];
    const dominator = this.reader.step(step.threadId, step.controlDominator);
    if (!dominator || dominator.className !== step.className || dominator.line < 1) return [];
    const hover = new vscode.MarkdownString(
      `**Bathysphere:** step #${dominator.order} (line ${dominator.line}, \`${document.lineAt(dominator.line - 1).text.trim()}\`) decided that step #${step.order} runs. [Go to #${dominator.order}](command:bathysphere.trace.goToStep?${encodeURIComponent(JSON.stringify([dominator.order]))})`,
    );
    hover.isTrusted = { enabledCommands: ['bathysphere.trace.goToStep'] };
    return [{ range: document.lineAt(dominator.line - 1).range, hoverMessage: hover }];
  }

  /** On the current step's line: a variable's value at this step and the step that wrote it. */
  private hover(
    document: vscode.TextDocument,
    position: vscode.Position,
  ): vscode.Hover | undefined {
    const step = this.currentStep();
    if (
      !step ||
      !this.status ||
      document.uri.fsPath !== this.status.sourceFile ||
      position.line !== step.line - 1
    ) {
      return undefined;
    }
    const word = document.getText(document.getWordRangeAtPosition(position));
    const access = [...step.writes, ...step.reads].find(
      (a) => a.name === word || a.name.endsWith(`.${word}`),
    );
    if (!access) return undefined;
    const written = step.writes.includes(access);
    const lines = [
      `**${describeAccess(access)}** ${written ? 'written' : 'read'} at step #${step.order}`,
    ];
    if (!written && access.writer) {
      const args = encodeURIComponent(JSON.stringify([access.writer.order]));
      lines.push(
        `written by [step #${access.writer.order}](command:bathysphere.trace.goToStep?${args})`,
      );
    }
    const markdown = new vscode.MarkdownString(lines.join('\n\n'));
    markdown.isTrusted = { enabledCommands: ['bathysphere.trace.goToStep'] };
    return new vscode.Hover(markdown);
  }

  private updateStatusBar(): void {
    if (!this.status) return void this.statusItem.hide();
    const { order, totalSteps, threadName, className, line } = this.status;
    this.statusItem.text = `$(history) Step ${order}/${totalSteps} · ${threadName}`;
    this.statusItem.tooltip = `Bathysphere: step ${order} of ${totalSteps} in thread ${threadName} (${className}:${line}). Click to go to a step.`;
    this.statusItem.show();
  }

  private clear(): void {
    this.position = undefined;
    this.reader = undefined;
    this.status = undefined;
    this.decorate();
    this.statusItem.hide();
    void vscode.commands.executeCommand('setContext', 'bathysphere.traceActive', false);
    this.changed.fire(undefined);
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
    Object.values(this.decorations).forEach((d) => d.dispose());
    this.statusItem.dispose();
    this.changed.dispose();
  }
}

export interface TraceOpenTarget {
  file: string;
  run: { id: number };
}

function afterText(range: vscode.Range, text: string): vscode.DecorationOptions {
  return { range, renderOptions: { after: { contentText: `  ${text}` } } };
}

function createDecorationTypes(extensionUri: vscode.Uri) {
  return {
    current: vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      backgroundColor: new vscode.ThemeColor('bathysphere.trace.currentStepBackground'),
      overviewRulerColor: new vscode.ThemeColor('bathysphere.trace.currentStepBackground'),
      overviewRulerLane: vscode.OverviewRulerLane.Full,
    }),
    reads: vscode.window.createTextEditorDecorationType({
      after: {
        color: new vscode.ThemeColor('bathysphere.trace.readForeground'),
        fontStyle: 'italic',
      },
    }),
    writes: vscode.window.createTextEditorDecorationType({
      after: {
        color: new vscode.ThemeColor('bathysphere.trace.writeForeground'),
        fontWeight: 'bold',
      },
    }),
    dominator: vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      backgroundColor: new vscode.ThemeColor('bathysphere.trace.controlDominatorBackground'),
      gutterIconPath: vscode.Uri.joinPath(extensionUri, 'media', 'control-dominator.svg'),
      gutterIconSize: 'contain',
    }),
  };
}

/**
 * Finds the source file of a class: configured source paths first, then the
 * usual layouts in each workspace folder (src, src/main/java, ...), then a
 * search of the workspace. Asks the person once per class when nothing fits.
 */
class SourceLocator {
  private readonly found = new Map<string, vscode.Uri | undefined>();

  async find(step: JvmStoredStep): Promise<vscode.Uri | undefined> {
    const key = `${step.className}|${step.sourceFile}`;
    if (this.found.has(key)) return this.found.get(key);
    const relative = sourcePathOf(step.className.split('$')[0], step.sourceFile);
    const uri =
      this.inKnownFolders(relative) ??
      (await this.searchWorkspace(relative)) ??
      (await this.ask(step, relative));
    this.found.set(key, uri);
    return uri;
  }

  /** Where find() would look without searching or asking; a found location is reused. */
  findQuietly(className: string, sourceFile: string): vscode.Uri | undefined {
    const found = this.found.get(`${className}|${sourceFile}`);
    return found ?? this.inKnownFolders(sourcePathOf(className.split('$')[0], sourceFile));
  }

  private inKnownFolders(relative: string): vscode.Uri | undefined {
    const configured = vscode.workspace
      .getConfiguration('bathysphere')
      .get<string[]>('java.sourcePaths', []);
    const roots = [
      ...configured,
      ...(vscode.workspace.workspaceFolders ?? []).flatMap((folder) =>
        ['', 'src', 'src/main/java', 'src/test/java', 'app/src/main/java'].map((sub) =>
          path.join(folder.uri.fsPath, sub),
        ),
      ),
    ];
    const hit = roots
      .map((root) => path.join(root, relative))
      .find((candidate) => fs.existsSync(candidate));
    return hit ? vscode.Uri.file(hit) : undefined;
  }

  private async searchWorkspace(relative: string): Promise<vscode.Uri | undefined> {
    const pattern = `**/${relative.split(path.sep).join('/')}`;
    const [hit] = await vscode.workspace.findFiles(pattern, '**/{node_modules,.git}/**', 1);
    return hit;
  }

  private async ask(step: JvmStoredStep, relative: string): Promise<vscode.Uri | undefined> {
    const choice = await vscode.window.showInformationMessage(
      `Bathysphere: where are the sources of ${step.className}? (looking for ${relative})`,
      'Choose Source Folder...',
    );
    if (!choice) return undefined;
    const [folder] =
      (await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: 'Use as Source Folder',
      })) ?? [];
    if (!folder) return undefined;
    const candidate = path.join(folder.fsPath, relative);
    if (!fs.existsSync(candidate)) return undefined;
    const config = vscode.workspace.getConfiguration('bathysphere');
    const paths = config.get<string[]>('java.sourcePaths', []);
    await config.update(
      'java.sourcePaths',
      [...paths, folder.fsPath],
      vscode.ConfigurationTarget.Workspace,
    );
    return vscode.Uri.file(candidate);
  }
}
