// Recording JVM programs into a session: a sink that turns each agent connection (one JVM) into
// a run, file ingestion for traces written by the agent's file sink, and recordJavaProgram,
// which launches `java` with the agent pointed at a local WebSocket server.

import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import * as path from 'node:path';
import { SessionStore } from '../store/sessionStore';
import { JvmColumnDecoder, type JvmColumnBatch } from './columnDecoder';
import { JvmColumnWriter } from './columnWriter';
import { mergeRunMetadata, type JvmIngestStats } from './runStorage';
import { JvmAgentServer, type JvmAgentConnection } from './server';

export const AGENT_JAR_NAME = 'bathysphere-agent.jar';
/** How often partial chunks are sealed while recording (bounds what a crash can lose). */
const SEAL_INTERVAL_MS = 2000;
/** How long connections may take to deliver their last bytes after the JVM exited. */
const CLOSE_GRACE_MS = 10_000;

/** Why recording could not start or failed; `code` tells callers which. */
export class JvmRecordError extends Error {
  constructor(
    readonly code: 'no-agent' | 'bad-command' | 'spawn-failed' | 'no-connection',
    message: string,
  ) {
    super(message);
    this.name = 'JvmRecordError';
  }
}

/**
 * The agent jar under a base directory: the bundled extension or CLI (`dist/`, or the extension
 * root holding `dist/`) or a source checkout (`agents/jvm/build/`). BATHYSPHERE_JVM_AGENT
 * overrides.
 */
export function resolveAgentJar(baseDir: string): string {
  const override = process.env.BATHYSPHERE_JVM_AGENT;
  const candidates = [
    ...(override ? [override] : []),
    path.join(baseDir, 'agents/jvm', AGENT_JAR_NAME),
    // In a checkout, the agent built from the sources wins over a copy an earlier bundle left.
    path.join(baseDir, 'agents/jvm/build', AGENT_JAR_NAME),
    path.join(baseDir, 'dist/agents/jvm', AGENT_JAR_NAME),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new JvmRecordError(
      'no-agent',
      `the JVM agent jar was not found (looked in ${candidates.join(', ')}; build it with agents/jvm/build.sh)`,
    );
  }
  return found;
}

/** The agent jar next to the running code: dist/ when bundled, the repository when from source. */
export function defaultAgentJar(): string {
  const bundled = path.basename(__dirname) === 'dist';
  return resolveAgentJar(bundled ? __dirname : path.resolve(__dirname, '../../..'));
}

export interface RunDescription {
  target: string;
  launch?: string;
  project?: string;
  metadata?: Record<string, unknown>;
}

/**
 * Feeds column batches of many agent connections into a session, one run per connection.
 * Hand `onConnect`/`onColumns`/`onClose` to JvmAgentServer.
 */
export class JvmSessionSink {
  private readonly writers = new Map<number, JvmColumnWriter>();
  private readonly timer: NodeJS.Timeout;
  readonly finished: { connectionId: number; runId: number; stats: JvmIngestStats }[] = [];

  constructor(
    private readonly store: SessionStore,
    private readonly describe: (connection: JvmAgentConnection) => RunDescription,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {
    this.timer = setInterval(() => this.sealAll(), SEAL_INTERVAL_MS);
    this.timer.unref();
  }

  onConnect(connection: JvmAgentConnection): JvmColumnWriter {
    const decoder = connection.decoder;
    if (!(decoder instanceof JvmColumnDecoder)) {
      throw new Error('the session sink needs column decoding (JvmAgentServer onColumns)');
    }
    const description = this.describe(connection);
    const run = this.store.addRun({
      targetKind: 'jvm',
      target: description.target,
      launch: description.launch,
      project: description.project,
      metadata: { ...description.metadata, connection: connection.id },
    });
    const writer = new JvmColumnWriter(this.store, run.id, decoder);
    this.writers.set(connection.id, writer);
    return writer;
  }

  onColumns(batch: JvmColumnBatch, connection: JvmAgentConnection): void {
    const writer = this.writers.get(connection.id) ?? this.onConnect(connection);
    try {
      writer.addColumns(batch);
    } catch (error) {
      this.onError(error as Error);
    }
  }

  onClose(connection: JvmAgentConnection): void {
    const writer = this.writers.get(connection.id);
    if (!writer) return;
    this.writers.delete(connection.id);
    const stats = writer.finish();
    this.finished.push({ connectionId: connection.id, runId: writer.runId, stats });
  }

  /** Resolves when no connection is open any more, or after `timeoutMs`. */
  async whenIdle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.writers.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Writers of connections still open. */
  active(): JvmColumnWriter[] {
    return [...this.writers.values()];
  }

  sealAll(): void {
    for (const writer of this.writers.values()) {
      try {
        writer.sealOpenChunks();
      } catch (error) {
        this.onError(error as Error);
      }
    }
  }

  /** Ends every run still open (the JVM died without closing its connection). */
  close(extraMetadata: Record<string, unknown> = {}): void {
    clearInterval(this.timer);
    for (const [connectionId, writer] of this.writers) {
      const stats = writer.finish(extraMetadata);
      this.finished.push({ connectionId, runId: writer.runId, stats });
    }
    this.writers.clear();
  }
}

/** Stores a trace file written by the agent's file sink as a new run; streams the file. */
export async function ingestTraceFile(
  store: SessionStore,
  file: string,
  description: RunDescription,
): Promise<{ runId: number; stats: JvmIngestStats }> {
  const decoder = new JvmColumnDecoder();
  const run = store.addRun({ targetKind: 'jvm', ...description, metadata: description.metadata });
  const writer = new JvmColumnWriter(store, run.id, decoder);
  for await (const slice of createReadStream(file, { highWaterMark: 1 << 20 })) {
    writer.addColumns(decoder.push(slice as Buffer));
  }
  writer.addColumns(decoder.end());
  return { runId: run.id, stats: writer.finish({ traceFile: file }) };
}

export interface RecordJavaOptions {
  /** The java executable and its arguments, e.g. ['java', '-cp', 'out', 'demo.Main', 'arg']. */
  javaCommand: string[];
  sessionFile?: string;
  /** An open session to record into (the VS Code layer passes its own); else sessionFile is opened. */
  store?: SessionStore;
  include?: string[];
  exclude?: string[];
  maxSteps?: number;
  /** Extra agent options (`mode=lines`, `onFull=drop`, ...), appended verbatim. */
  agentOptions?: string[];
  signal?: AbortSignal;
  onProgress?: (progress: { steps: number; threads: number }) => void;
  /** Replaces a bare `java` executable with `<javaHome>/bin/java`. */
  javaHome?: string;
  /** Where the agent jar is looked up (resolveAgentJar); default: next to the running code. */
  agentBaseDir?: string;
  /** The program's output; default: inherited from this process. */
  stdio?: 'inherit' | 'ignore' | 'pipe';
  /** The program's output, as it comes; when given, the program's stdio is piped here. */
  onOutput?: (text: string, stream: 'stdout' | 'stderr') => void;
}

export interface RecordJavaResult {
  runId: number;
  /** Every run the recording produced (one per JVM that connected). */
  runIds: number[];
  steps: number;
  threads: number;
  /** The JVM's exit code; null when it was killed (cancelled) or died by a signal. */
  exitCode: number | null;
  cancelled: boolean;
  warnings: string[];
}

/** Runs a Java program with the agent and records it into a session; resolves when the JVM exits. */
export async function recordJavaProgram(options: RecordJavaOptions): Promise<RecordJavaResult> {
  const command = javaCommandLine(options);
  const jar = options.agentBaseDir ? resolveAgentJar(options.agentBaseDir) : defaultAgentJar();
  const store = options.store ?? (await openSession(options.sessionFile));
  const mainClass = mainClassOf(command.slice(1));
  const sink = new JvmSessionSink(store, () => ({
    target: mainClass,
    launch: `${mainClass}.main`,
    metadata: { command, include: options.include ?? [], exclude: options.exclude ?? [] },
  }));
  const server = await JvmAgentServer.start({
    onConnect: (connection) => sink.onConnect(connection),
    onColumns: (batch, connection) => {
      sink.onColumns(batch, connection);
      reportProgress(sink, options);
    },
    onClose: (connection) => sink.onClose(connection),
  });
  try {
    const agentArgument = `-javaagent:${jar}=${agentOptionText(server, options)}`;
    const { exitCode, cancelled } = await runJvm(
      [command[0], agentArgument, ...command.slice(1)],
      options,
    );
    // The JVM is gone, but the kernel may still hold its last bytes for us: wait for every
    // connection to close by itself before closing the server (which would cut them off).
    await sink.whenIdle(CLOSE_GRACE_MS);
    await server.close();
    sink.close({ exitCode, cancelled });
    for (const run of sink.finished) mergeRunMetadata(store, run.runId, { exitCode, cancelled });
    return summarise(sink, exitCode, cancelled);
  } finally {
    await server.close().catch(() => undefined);
    sink.close();
    if (!options.store) await store.close();
  }
}

async function openSession(file: string | undefined): Promise<SessionStore> {
  if (!file) throw new JvmRecordError('bad-command', 'no session file or store given');
  return SessionStore.open(file, { create: true });
}

function javaCommandLine(options: RecordJavaOptions): string[] {
  const command = [...options.javaCommand];
  if (command.length < 2) {
    throw new JvmRecordError(
      'bad-command',
      'expected a java command line: java [options] MainClass',
    );
  }
  if (options.javaHome && command[0] === 'java')
    command[0] = path.join(options.javaHome, 'bin', 'java');
  return command;
}

function agentOptionText(server: JvmAgentServer, options: RecordJavaOptions): string {
  const parts = [server.agentOptions()];
  for (const [key, globs] of [
    ['include', options.include],
    ['exclude', options.exclude],
  ] as const) {
    if (globs && globs.length > 0) parts.push(`${key}=${globs.map(checkGlob).join(';')}`);
  }
  if (options.maxSteps !== undefined) {
    if (!Number.isSafeInteger(options.maxSteps) || options.maxSteps <= 0) {
      throw new JvmRecordError(
        'bad-command',
        `maxSteps must be a positive integer, got ${options.maxSteps}`,
      );
    }
    parts.push(`maxSteps=${options.maxSteps}`);
  }
  for (const extra of options.agentOptions ?? []) parts.push(checkOption(extra));
  return parts.join(',');
}

/** Agent options are comma-separated key=value pairs: a comma inside one would change them. */
function checkGlob(glob: string): string {
  if (!/^[\w.$*]+$/.test(glob)) {
    throw new JvmRecordError(
      'bad-command',
      `bad class glob '${glob}' (letters, digits, . $ * only)`,
    );
  }
  return glob;
}

function checkOption(option: string): string {
  if (!/^\w+=[^,]*$/.test(option)) {
    throw new JvmRecordError('bad-command', `bad agent option '${option}' (key=value, no comma)`);
  }
  return option;
}

/** The main class (or `-jar` file, or module/class) of a java argument list. */
export function mainClassOf(args: string[]): string {
  const withValue = new Set([
    '-cp',
    '-classpath',
    '--class-path',
    '-p',
    '--module-path',
    '--add-modules',
    '--add-opens',
    '--add-exports',
    '--add-reads',
    '--enable-native-access',
  ]);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-jar' || arg === '-m' || arg === '--module') return args[i + 1] ?? arg;
    if (withValue.has(arg)) {
      i++;
      continue;
    }
    if (!arg.startsWith('-')) return arg;
  }
  return 'java';
}

function runJvm(
  command: string[],
  options: RecordJavaOptions,
): Promise<{ exitCode: number | null; cancelled: boolean }> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      resolve({ exitCode: null, cancelled: true });
      return;
    }
    const stdio = options.onOutput ? 'pipe' : (options.stdio ?? 'inherit');
    const child = spawn(command[0], command.slice(1), { stdio: ['ignore', stdio, stdio] });
    let cancelled = false;
    const cancel = () => {
      cancelled = true;
      child.kill('SIGKILL');
    };
    options.signal?.addEventListener('abort', cancel, { once: true });
    child.stdout?.on('data', (data: Buffer) => options.onOutput?.(data.toString(), 'stdout'));
    child.stderr?.on('data', (data: Buffer) => options.onOutput?.(data.toString(), 'stderr'));
    child.once('error', (error) => {
      options.signal?.removeEventListener('abort', cancel);
      reject(new JvmRecordError('spawn-failed', `cannot run ${command[0]}: ${error.message}`));
    });
    child.once('close', (code) => {
      options.signal?.removeEventListener('abort', cancel);
      resolve({ exitCode: cancelled ? null : code, cancelled });
    });
  });
}

function reportProgress(sink: JvmSessionSink, options: RecordJavaOptions): void {
  if (!options.onProgress) return;
  let steps = 0;
  let threads = 0;
  for (const writer of sink.active()) {
    steps += writer.stats.steps;
    threads += writer.stats.threads;
  }
  for (const done of sink.finished) {
    steps += done.stats.steps;
    threads += done.stats.threads;
  }
  options.onProgress({ steps, threads });
}

function summarise(
  sink: JvmSessionSink,
  exitCode: number | null,
  cancelled: boolean,
): RecordJavaResult {
  const runs = sink.finished;
  if (runs.length === 0) {
    throw new JvmRecordError(
      'no-connection',
      `the JVM exited (code ${exitCode}) without its agent connecting: is the first word a java executable, and the JVM 17 or newer?`,
    );
  }
  return {
    runId: runs[0].runId,
    runIds: runs.map((r) => r.runId),
    steps: runs.reduce((sum, r) => sum + r.stats.steps, 0),
    threads: runs.reduce((sum, r) => sum + r.stats.threads, 0),
    exitCode,
    cancelled,
    warnings: runs.flatMap((r) => [...r.stats.warnings, ...r.stats.errors]),
  };
}
