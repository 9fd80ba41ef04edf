/**
 * Recording Java programs from VS Code: the `bathysphere-java` launch
 * configuration (F5 records instead of debugging) and the command "Record Java
 * Program..." for the main class in the active editor. Both show progress with
 * step counts, can be cancelled (what was recorded is kept), and open the new
 * session when the program ends.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { compileJavaSources, javaMainClassOf } from '../jvm/javaSource';
import { recordJavaProgram, type RecordJavaResult } from '../jvm/record';
import { newSessionFile, type OpenSessions } from './sessions';

export const JAVA_LAUNCH_TYPE = 'bathysphere-java';

/** The launch configuration's attributes (package.json declares the same). */
export interface JavaLaunchConfiguration extends vscode.DebugConfiguration {
  mainClass: string;
  classPaths?: string[];
  args?: string[] | string;
  vmArgs?: string[];
  javaHome?: string;
  include?: string[];
  exclude?: string[];
  maxSteps?: number;
  /** Where the session is written; defaults to .bathysphere/sessions/ in the workspace. */
  sessionFile?: string;
}

export interface JavaRecordingHost {
  /** Where the agent jar ships (dist/agents/jvm under it). */
  agentBaseDir: string;
  log: vscode.LogOutputChannel;
  /** Recording goes into a session the Sessions view already lists, so it shows while it grows. */
  sessions: OpenSessions;
}

export function registerJavaRecording(host: JavaRecordingHost): vscode.Disposable[] {
  return [
    vscode.debug.registerDebugConfigurationProvider(JAVA_LAUNCH_TYPE, configurationProvider()),
    vscode.debug.registerDebugAdapterDescriptorFactory(JAVA_LAUNCH_TYPE, {
      createDebugAdapterDescriptor: (session) =>
        new vscode.DebugAdapterInlineImplementation(
          new RecordingAdapter(host, session.configuration as JavaLaunchConfiguration),
        ),
    }),
    vscode.commands.registerCommand('bathysphere.recordJavaProgram', () =>
      recordActiveEditor(host),
    ),
  ];
}

function configurationProvider(): vscode.DebugConfigurationProvider {
  return {
    resolveDebugConfiguration(_folder, config) {
      // F5 with no launch.json: record the main class in the active editor.
      if (!config.type && !config.request && !config.name) {
        const editor = vscode.window.activeTextEditor;
        if (editor?.document.languageId !== 'java') return config;
        const { className } = javaMainClassOf(editor.document.fileName, editor.document.getText());
        return {
          type: JAVA_LAUNCH_TYPE,
          request: 'launch',
          name: `Record ${className}`,
          mainClass: className,
        };
      }
      if (!config.mainClass) {
        void vscode.window.showErrorMessage(
          'Bathysphere: the launch configuration needs a "mainClass".',
        );
        return undefined;
      }
      return config;
    },
  };
}

/** The Java command line a launch configuration stands for (the agent is added by the recorder). */
export function javaCommandOf(
  config: JavaLaunchConfiguration,
  javaHome: string | undefined,
): string[] {
  const java = javaHome ? path.join(javaHome, 'bin', 'java') : 'java';
  const classPath = (config.classPaths ?? []).join(path.delimiter);
  const args =
    typeof config.args === 'string'
      ? config.args.split(/\s+/).filter(Boolean)
      : (config.args ?? []);
  return [
    java,
    ...(config.vmArgs ?? []),
    ...(classPath ? ['-cp', classPath] : []),
    config.mainClass,
    ...args,
  ];
}

function javaHomeSetting(config?: JavaLaunchConfiguration): string | undefined {
  return (
    config?.javaHome ||
    vscode.workspace.getConfiguration('bathysphere').get<string>('java.home') ||
    undefined
  );
}

/**
 * Records with a cancellable progress notification; `external` cancels too
 * (the debug toolbar's stop button).
 */
async function recordWithProgress(
  host: JavaRecordingHost,
  config: JavaLaunchConfiguration,
  external?: AbortSignal,
  onOutput?: (text: string, stream: 'stdout' | 'stderr') => void,
): Promise<{ result: RecordJavaResult; sessionFile: string } | undefined> {
  const sessionFile = config.sessionFile || newSessionFile(config.mainClass.split('.').pop()!);
  const javaCommand = javaCommandOf(config, javaHomeSetting(config));
  host.log.info(`recording ${javaCommand.join(' ')} into ${sessionFile}`);
  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Recording ${config.mainClass}`,
      cancellable: true,
    },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      external?.addEventListener('abort', () => abort.abort());
      const store = await host.sessions.open(sessionFile, true);
      const result = await recordJavaProgram({
        javaCommand,
        store,
        include: config.include,
        exclude: config.exclude,
        maxSteps: config.maxSteps,
        signal: abort.signal,
        agentBaseDir: host.agentBaseDir,
        onOutput,
        onProgress: ({ steps, threads }) =>
          progress.report({ message: `${steps.toLocaleString()} steps, ${threads} thread(s)` }),
      });
      await store.flush();
      host.sessions.refresh();
      // The person recorded in order to explore: bring the session into view.
      void vscode.commands.executeCommand('bathysphere.sessions.focus');
      host.log.info(
        `recorded ${result.steps} steps${result.cancelled ? ' (cancelled)' : ''} into ${sessionFile}; exit code ${result.exitCode}`,
      );
      for (const warning of result.warnings) host.log.warn(warning);
      return { result, sessionFile };
    },
  );
}

/** Resolves to the recording (for automation and tests), or undefined when nothing was recorded. */
async function recordActiveEditor(
  host: JavaRecordingHost,
): Promise<{ result: RecordJavaResult; sessionFile: string } | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'java') {
    void vscode.window.showInformationMessage(
      'Bathysphere: open the Java file whose main class you want to record.',
    );
    return undefined;
  }
  try {
    await editor.document.save();
    const { className, sourceRoot } = javaMainClassOf(
      editor.document.fileName,
      editor.document.getText(),
    );
    const folder =
      vscode.workspace.getWorkspaceFolder(editor.document.uri)?.uri.fsPath ?? sourceRoot;
    const classes = path.join(folder, '.bathysphere', 'classes');
    await compileJavaSources({ sourceRoot, outDir: classes, javaHome: javaHomeSetting() });
    return await recordWithProgress(host, {
      type: JAVA_LAUNCH_TYPE,
      request: 'launch',
      name: className,
      mainClass: className,
      classPaths: [classes],
    });
  } catch (error) {
    host.log.error((error as Error).message);
    void vscode.window.showErrorMessage(`Bathysphere: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * A minimal Debug Adapter Protocol endpoint that records instead of debugging:
 * `launch` starts the recording, `terminate`/`disconnect` cancels it, program
 * output goes to the Debug Console, and the session ends when the JVM exits.
 */
class RecordingAdapter implements vscode.DebugAdapter {
  private readonly sent = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.sent.event;
  private seq = 1;
  private readonly abort = new AbortController();

  constructor(
    private readonly host: JavaRecordingHost,
    private readonly config: JavaLaunchConfiguration,
  ) {}

  handleMessage(message: vscode.DebugProtocolMessage): void {
    const request = message as { type: string; seq: number; command: string };
    if (request.type !== 'request') return;
    switch (request.command) {
      case 'initialize':
        this.respond(request, {
          supportsConfigurationDoneRequest: true,
          supportsTerminateRequest: true,
        });
        this.event('initialized');
        break;
      case 'launch':
        this.respond(request);
        void this.record();
        break;
      case 'terminate':
      case 'disconnect':
        this.abort.abort();
        this.respond(request);
        break;
      case 'threads':
        this.respond(request, { threads: [] });
        break;
      default:
        this.respond(request);
    }
  }

  private async record(): Promise<void> {
    try {
      const recorded = await recordWithProgress(
        this.host,
        this.config,
        this.abort.signal,
        (text, stream) => this.event('output', { category: stream, output: text }),
      );
      if (recorded) {
        const { result, sessionFile } = recorded;
        this.event('output', {
          category: 'console',
          output: `Bathysphere: recorded ${result.steps.toLocaleString()} steps in ${result.threads} thread(s) into ${sessionFile}\n`,
        });
        this.event('exited', { exitCode: result.exitCode ?? 0 });
      }
    } catch (error) {
      this.event('output', {
        category: 'stderr',
        output: `Bathysphere: ${(error as Error).message}\n`,
      });
      void vscode.window.showErrorMessage(`Bathysphere: ${(error as Error).message}`);
    } finally {
      this.event('terminated');
    }
  }

  private respond(request: { seq: number; command: string }, body?: unknown): void {
    this.sent.fire({
      type: 'response',
      seq: this.seq++,
      request_seq: request.seq,
      command: request.command,
      success: true,
      body,
    } as vscode.DebugProtocolMessage);
  }

  private event(event: string, body?: unknown): void {
    this.sent.fire({ type: 'event', seq: this.seq++, event, body } as vscode.DebugProtocolMessage);
  }

  dispose(): void {
    this.abort.abort();
    this.sent.dispose();
  }
}
