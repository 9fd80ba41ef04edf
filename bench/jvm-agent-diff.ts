// Checks that two builds of the JVM agent record the same thing: runs every program of the
// corpus (the fixture programs, both seeded-bug corpora buggy and fixed, CallHeavy for 3 rounds)
// with an older jar and with the built agent, in each recording mode, and compares
//   1. each thread's event bytes (the EVENTS payloads of the thread, concatenated), and where
//      they differ (or the thread ids do not match)
//   2. the decoded steps per thread name, with object ids numbered by first use in the thread.
// Run: npx tsx bench/jvm-agent-diff.ts OLD.jar [--modes=full,lines] [--options=maxSteps=N,...]
//   [--only=TEXT] (--options: more agent options for both jars; --only: programs whose name
//   contains TEXT, e.g. bench/CallHeavy)
// Object ids come from identity hash codes, and the agent's own work (its classes, its maps)
// draws identity hash codes on the program's threads, so two builds of the agent number the same
// objects differently. The JVMs run with a constant identity hash code (-XX:hashCode=2) to
// make the numbering depend on the order of first use only.
// Expected differences: values that are not deterministic (CallHeavy's printed timings, a
// lambda's hidden class address, ids where several threads run).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTrace, type JvmStep } from '../src/extension/jvm/decoder';
import {
  AGENT_JAR,
  compileFixtures,
  ensureAgentBuilt,
  FIXTURES_DIR,
  javaBin,
  JDK17,
} from '../test/unit/jvm/harness';
import { flagValue, positionalArgs } from './benchArgs';

const positional = positionalArgs();
const oldJar = positional[0];
const modes = (flagValue('modes') ?? 'full,lines').split(',');
const extraOptions = flagValue('options');
const only = flagValue('only');

interface Program {
  name: string;
  classPath: string;
  mainClass: string;
  args: string[];
}

function corpus(): Program[] {
  const programs: Program[] = [];
  const fixtures = compileFixtures();
  for (const file of readdirSync(join(FIXTURES_DIR, 'fixtures')).sort()) {
    if (!file.endsWith('.java')) continue;
    const mainClass = file.slice(0, -'.java'.length);
    programs.push({ name: `fixtures/${mainClass}`, classPath: fixtures, mainClass, args: [] });
  }
  for (const corpusName of ['bugs', 'bugs-heldout']) {
    const dir = join(FIXTURES_DIR, corpusName);
    const out = mkdtempSync(join(tmpdir(), `bathy-diff-${corpusName}-`));
    const built = spawnSync('bash', [join(FIXTURES_DIR, 'bugs/build.sh'), out, dir], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${join(JDK17, 'bin')}:${process.env.PATH}` },
    });
    if (built.status !== 0) throw new Error(`${corpusName}: ${built.stderr}`);
    const names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
    for (const version of ['buggy', 'fixed']) {
      for (const { name } of names) {
        programs.push({
          name: `${corpusName}/${name}/${version}`,
          classPath: join(out, version),
          mainClass: `${name}.Main`,
          args: [],
        });
      }
    }
  }
  const bench = mkdtempSync(join(tmpdir(), 'bathy-diff-bench-'));
  const source = join(FIXTURES_DIR, 'bench/CallHeavy.java');
  const compiled = spawnSync(javaBin(JDK17, 'javac'), ['-d', bench, source], { encoding: 'utf8' });
  if (compiled.status !== 0) throw new Error(compiled.stderr);
  programs.push({ name: 'bench/CallHeavy', classPath: bench, mainClass: 'CallHeavy', args: ['3'] });
  return programs;
}

function record(program: Program, jar: string, mode: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'bathy-diff-run-'));
  const tracePath = join(dir, 'trace.bstr');
  const agentOptions = [`file=${tracePath}`, `mode=${mode}`, extraOptions]
    .filter(Boolean)
    .join(',');
  spawnSync(
    javaBin(JDK17),
    [
      '-XX:+UnlockExperimentalVMOptions',
      '-XX:hashCode=2',
      `-javaagent:${jar}=${agentOptions}`,
      '-cp',
      program.classPath,
      program.mainClass,
      ...program.args,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  const bytes = readFileSync(tracePath);
  rmSync(dir, { recursive: true, force: true });
  return bytes;
}

function readVarint(bytes: Uint8Array, at: { offset: number }): number {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const b = bytes[at.offset++];
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return value;
  }
}

const EVENTS_CHUNK = 2;

/** Each thread's event bytes, its EVENTS payloads (after thread id and flags) concatenated. */
function eventBytesByThread(bytes: Uint8Array): Map<number, Buffer> {
  const parts = new Map<number, Buffer[]>();
  const at = { offset: 5 }; // "BSTR" and the version
  while (at.offset < bytes.length) {
    const kind = bytes[at.offset++];
    const length = readVarint(bytes, at);
    const end = at.offset + length;
    if (kind === EVENTS_CHUNK) {
      const threadId = readVarint(bytes, at);
      at.offset++; // flags
      const list = parts.get(threadId) ?? [];
      list.push(Buffer.from(bytes.subarray(at.offset, end)));
      parts.set(threadId, list);
    }
    at.offset = end;
  }
  return new Map([...parts].map(([thread, list]) => [thread, Buffer.concat(list)]));
}

function sameEventBytes(a: Uint8Array, b: Uint8Array): boolean {
  const left = eventBytesByThread(a);
  const right = eventBytesByThread(b);
  if (left.size !== right.size) return false;
  for (const [thread, events] of left) {
    const other = right.get(thread);
    if (!other || !events.equals(other)) return false;
  }
  return true;
}

/** Per thread name, one line of text per step; object ids numbered by first use per thread. */
function stepTexts(bytes: Uint8Array): Map<string, string[]> {
  const byThread = new Map<string, string[]>();
  const renumbering = new Map<string, Map<string, string>>();
  for (const step of decodeTrace(bytes).steps) {
    const ids = renumbering.get(step.thread) ?? new Map<string, string>();
    renumbering.set(step.thread, ids);
    const text = stepText(step).replace(/@(\d+)/g, (_, id: string) => {
      if (!ids.has(id)) ids.set(id, String(ids.size + 1));
      return `@${ids.get(id)}`;
    });
    const list = byThread.get(step.thread) ?? [];
    list.push(text);
    byThread.set(step.thread, list);
  }
  return byThread;
}

function stepText(step: JvmStep): string {
  const { className, method, line, depth, order, callerOrder, branches } = step;
  const access = (a: { name: string; owner?: string; value: string }) =>
    `${a.owner ?? ''}${a.name}=${a.value}`;
  return JSON.stringify([
    className,
    method,
    line,
    depth,
    order,
    callerOrder,
    branches,
    step.reads.map(access),
    step.writes.map(access),
    step.returnValue,
    step.thrown,
    step.caught,
  ]);
}

/** Differences of decoded steps, as text: empty when they are the same. */
function stepDifferences(a: Uint8Array, b: Uint8Array): string[] {
  const left = stepTexts(a);
  const right = stepTexts(b);
  const differences: string[] = [];
  for (const thread of new Set([...left.keys(), ...right.keys()])) {
    const l = left.get(thread) ?? [];
    const r = right.get(thread) ?? [];
    const differing =
      l.filter((text, i) => text !== r[i]).length + Math.max(0, r.length - l.length);
    if (differing === 0) continue;
    const first = l.findIndex((text, i) => text !== r[i]);
    differences.push(
      `thread ${thread}: ${l.length} / ${r.length} steps, ${differing} differ; first:\n` +
        `    old ${l[first] ?? '(none)'}\n    new ${r[first] ?? '(none)'}`,
    );
  }
  return differences;
}

function main(): void {
  if (!oldJar)
    throw new Error('usage: npx tsx bench/jvm-agent-diff.ts OLD.jar [--modes=full,lines]');
  ensureAgentBuilt();
  const programs = corpus().filter((program) => !only || program.name.includes(only));
  const counts = { bytes: 0, steps: 0, different: 0 };
  for (const mode of modes) {
    for (const program of programs) {
      const before = record(program, oldJar, mode);
      const after = record(program, AGENT_JAR, mode);
      if (sameEventBytes(before, after)) {
        counts.bytes++;
        continue;
      }
      const differences = stepDifferences(before, after);
      if (differences.length === 0) {
        counts.steps++;
        console.log(`${mode} ${program.name}: event bytes differ, decoded steps the same`);
      } else {
        counts.different++;
        console.log(`${mode} ${program.name}: DIFFERENT\n  ${differences.join('\n  ')}`);
      }
    }
  }
  console.log(
    `${programs.length} programs x ${modes.length} modes: ${counts.bytes} with the same event ` +
      `bytes per thread, ${counts.steps} more with the same decoded steps, ` +
      `${counts.different} different`,
  );
}

main();
