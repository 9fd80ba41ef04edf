// Shared helpers for the JVM agent tests and benchmarks: build the agent when stale, compile
// the fixture corpus, run programs with the agent or under the JDI reference stepper.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  decodeTrace,
  type JvmDecodedBatch,
  type JvmStep,
} from '../../../src/extension/jvm/decoder';

export const REPO = resolve(__dirname, '../../..');
export const AGENT_DIR = join(REPO, 'agents/jvm');
export const AGENT_JAR = join(AGENT_DIR, 'build/bathysphere-agent.jar');
export const TOOLS_DIR = join(AGENT_DIR, 'build/tools');
export const FIXTURES_DIR = join(REPO, 'test/fixtures/java');
export const JDK17 = process.env.BATHYSPHERE_JDK17 ?? '/usr/lib/jvm/java-17-openjdk-amd64';
export const JDK25 = process.env.BATHYSPHERE_JDK25 ?? '/usr/lib/jvm/temurin-25-jdk-amd64';

export function javaBin(jdk: string, tool = 'java'): string {
  return join(jdk, 'bin', tool);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'build') newest = Math.max(newest, newestMtime(path));
    } else {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/** Builds the agent via agents/jvm/build.sh when the jar is missing or older than a source. */
export function ensureAgentBuilt(): void {
  const stale =
    !existsSync(AGENT_JAR) ||
    !existsSync(join(TOOLS_DIR, 'bathysphere/tools/JdiStepper.class')) ||
    statSync(AGENT_JAR).mtimeMs < newestMtime(AGENT_DIR);
  if (!stale) return;
  const result = spawnSync('bash', [join(AGENT_DIR, 'build.sh')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`agent build failed:\n${result.stdout}${result.stderr}`);
}

const compiled = new Map<string, string>();

/**
 * The fixture programs (test/fixtures/java/fixtures) that record deterministically on one
 * thread or several, for checks run over all of them.
 */
export const FIXTURE_PROGRAMS = [
  'Loops',
  'Switches',
  'Recursion',
  'Exceptions',
  'StaticInit',
  'Lambdas',
  'InnerClasses',
  'Arrays',
  'Threads',
  'Values',
  'Calls',
  'Boxes',
  'LibraryCalls',
];

/** Compiles test/fixtures/java/fixtures/*.java once per (jdk, release); returns the class dir. */
export function compileFixtures(jdk = JDK17, release = 17): string {
  const key = `${jdk}:${release}`;
  const known = compiled.get(key);
  if (known) return known;
  const out = mkdtempSync(join(tmpdir(), `bathy-fixtures-${release}-`));
  const sourceDir = join(FIXTURES_DIR, 'fixtures');
  const sources = readdirSync(sourceDir)
    .filter((f) => f.endsWith('.java'))
    .map((f) => join(sourceDir, f));
  const result = spawnSync(
    javaBin(jdk, 'javac'),
    ['-g', '--release', String(release), '-d', out, ...sources],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`javac failed:\n${result.stderr}`);
  compiled.set(key, out);
  return out;
}

export interface AgentRun {
  status: number | null;
  stdout: string;
  stderr: string;
  steps: JvmStep[];
  batch: JvmDecodedBatch;
  bytes: number;
  tracePath: string;
}

export interface RunOptions {
  jdk?: string;
  classPath: string;
  mainClass: string;
  args?: string[];
  agentOptions?: string;
  jvmOptions?: string[];
  timeoutMs?: number;
}

/** Runs a program with the agent writing to a temporary file, then decodes the file. */
export function runWithAgent(options: RunOptions): AgentRun {
  const dir = mkdtempSync(join(tmpdir(), 'bathy-run-'));
  const tracePath = join(dir, 'trace.bstr');
  const agentOptions = [`file=${tracePath}`, options.agentOptions].filter(Boolean).join(',');
  const result = spawnSync(
    javaBin(options.jdk ?? JDK17),
    [
      ...(options.jvmOptions ?? []),
      `-javaagent:${AGENT_JAR}=${agentOptions}`,
      '-cp',
      options.classPath,
      options.mainClass,
      ...(options.args ?? []),
    ],
    { encoding: 'utf8', timeout: options.timeoutMs ?? 60_000 },
  );
  const bytes = existsSync(tracePath) ? readFileSync(tracePath) : new Uint8Array(0);
  const { steps, batch } = decodeTrace(bytes);
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    steps,
    batch,
    bytes: bytes.length,
    tracePath,
  };
}

/** Step text used for comparisons: `class.method:line`. */
export function stepKey(step: { className: string; method: string; line: number }): string {
  return `${step.className}.${step.method}:${step.line}`;
}

/**
 * The agent's steps as JDI shows them. JDI's step-into never stops inside a class initialiser
 * that runs implicitly (on first use) while stepping, nor in what it calls; the agent records
 * those. Leaving them out (except a thread's outermost <clinit>, which JDI's method-entry start
 * sees) and merging the caller's steps that become adjacent gives JDI's view.
 */
export function asJdiSeesIt(steps: JvmStep[]): JvmStep[] {
  const hidden = new Set<string>(); // thread:order of hidden steps
  const visible: JvmStep[] = [];
  const lastVisible = new Map<number, JvmStep>();
  for (const step of steps) {
    const callerHidden = step.callerOrder > 0 && hidden.has(`${step.threadId}:${step.callerOrder}`);
    if (callerHidden || (step.method === '<clinit>' && step.depth > 1)) {
      hidden.add(`${step.threadId}:${step.order}`);
      continue;
    }
    const previous = lastVisible.get(step.threadId);
    if (previous && previous.frameId === step.frameId && previous.line === step.line) continue;
    visible.push(step);
    lastVisible.set(step.threadId, step);
  }
  return visible;
}

export function stepsByThread(steps: JvmStep[]): Map<string, string[]> {
  const byThread = new Map<string, string[]>();
  for (const step of steps) {
    const list = byThread.get(step.thread) ?? [];
    list.push(stepKey(step));
    byThread.set(step.thread, list);
  }
  return byThread;
}

/** Runs the program under the JDI reference stepper; returns its stops per thread. */
export function runJdi(options: RunOptions): Map<string, string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bathy-jdi-'));
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'steps.tsv');
  const result = spawnSync(
    javaBin(options.jdk ?? JDK17),
    [
      '-cp',
      TOOLS_DIR,
      'bathysphere.tools.JdiStepper',
      out,
      options.classPath,
      options.mainClass,
      ...(options.args ?? []),
    ],
    { encoding: 'utf8', timeout: options.timeoutMs ?? 120_000 },
  );
  if (!existsSync(out)) throw new Error(`JDI stepper failed: ${result.stderr}`);
  const byThread = new Map<string, string[]>();
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    if (!line) continue;
    const [thread, className, method, lineNumber] = line.split('\t');
    const list = byThread.get(thread) ?? [];
    list.push(`${className}.${method}:${lineNumber}`);
    byThread.set(thread, list);
  }
  return byThread;
}
