/**
 * Starts real Erlang nodes for tests: random names and cookies, waits until EPMD
 * lists them, and kills them afterwards (tests call stopAllNodes in an after hook).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { shortHostname } from '../../../../src/extension/erlang/connection';
import { listNodes } from '../../../../src/extension/erlang/epmd';
import { REPO_ROOT } from '../../../support/repoRoot';

export { REPO_ROOT };

export interface TestNode {
  /** Full node name, name@host. */
  node: string;
  name: string;
  cookie: string;
  process: ChildProcess;
  /** What the node printed (for debugging failures). */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<TestNode>();

export function randomSuffix(): string {
  return crypto.randomBytes(4).toString('hex');
}

export function ensureEpmd(): void {
  spawnSync('epmd', ['-daemon'], { stdio: 'ignore' });
}

let fixturesDir: string | undefined;

/** Compiles the test-only Erlang modules once per run into a temp directory. */
export function compiledFixtures(): string {
  if (fixturesDir) return fixturesDir;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bathysphere-erl-fixtures-'));
  const sources = path.join(REPO_ROOT, 'test', 'unit', 'erlang', 'fixtures');
  const files = fs.readdirSync(sources).filter((f) => f.endsWith('.erl'));
  const result = spawnSync('erlc', ['-o', dir, ...files.map((f) => path.join(sources, f))], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`erlc failed: ${result.stderr}${result.stdout}`);
  fixturesDir = dir;
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Builds agents/erlang/ebin with the real build script. */
export function buildAgent(): void {
  const result = spawnSync(path.join(REPO_ROOT, 'scripts', 'build-erlang-agent.sh'), {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`agent build failed: ${result.stderr}`);
}

/**
 * Erlang/OTP 27 unpacked by scripts/install-otp27.sh (npm test's set-up runs it): Debian 12's
 * own erlang-nox is OTP 25, which has no trace sessions.
 */
export const OTP27_ERL = path.join(
  REPO_ROOT,
  '.tools',
  'otp27',
  'root',
  'usr',
  'lib',
  'erlang',
  'bin',
  'erl',
);

/** The `erl` to start: the system's (on PATH), or OTP 27's, which must have been unpacked. */
export function erlCommand(release: 'system' | '27'): string {
  if (release === 'system') return 'erl';
  if (!fs.existsSync(OTP27_ERL))
    throw new Error(
      `${OTP27_ERL} is missing: run scripts/install-otp27.sh (npm test's set-up does)`,
    );
  return OTP27_ERL;
}

export interface StartOptions {
  /** The `erl` to run (see erlCommand); the system's by default. */
  erl?: string;
  /** Run the node on these CPUs only (taskset's list, e.g. '0'), with one scheduler each. */
  cpus?: string;
  /** Use -name with 127.0.0.1 instead of -sname. */
  longName?: boolean;
  cookie?: string;
  /** Extra `erl` arguments, e.g. ['-eval', '...']. */
  args?: string[];
  /** Also wait until the node prints this (e.g. after an -eval has run). */
  readyOutput?: string;
}

export async function startNode(options: StartOptions = {}): Promise<TestNode> {
  ensureEpmd();
  const name = `bathytest_${randomSuffix()}`;
  const cookie = options.cookie ?? `cookie_${randomSuffix()}`;
  const host = options.longName ? '127.0.0.1' : shortHostname();
  const nameFlag = options.longName ? '-name' : '-sname';
  const args = [nameFlag, `${name}@${host}`, '-setcookie', cookie, '-noshell', '-noinput'];
  args.push('-pa', compiledFixtures(), ...(options.args ?? []));
  const erl = options.erl ?? 'erl';
  const child = options.cpus
    ? spawn('taskset', ['-c', options.cpus, erl, `+S${cpuCount(options.cpus)}`, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(erl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const node: TestNode = {
    node: `${name}@${host}`,
    name,
    cookie,
    process: child,
    output: () => output,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      running.delete(node);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill(signal);
      }
      await exited;
    },
  };
  running.add(node);
  await waitForRegistration(name, child, () => output);
  if (options.readyOutput) await waitForOutput(options.readyOutput, child, () => output);
  return node;
}

/** CPUs in a taskset list such as '0', '0,2' or '0-3'. */
function cpuCount(list: string): number {
  return list.split(',').reduce((count, part) => {
    const [from, to] = part.split('-').map(Number);
    return count + (to === undefined ? 1 : to - from + 1);
  }, 0);
}

async function waitForRegistration(
  name: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`erl exited early: ${output()}`);
    const nodes = await listNodes('localhost').catch(() => []);
    if (nodes.some((n) => n.name === name)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`node ${name} did not register with EPMD: ${output()}`);
}

async function waitForOutput(
  text: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!output().includes(text)) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`node never printed '${text}': ${output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function stopAllNodes(): Promise<void> {
  await Promise.all([...running].map((node) => node.kill()));
}
