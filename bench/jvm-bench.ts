// JVM agent benchmark: slowdown of a call-heavy CPU-bound program recorded vs not (line-only and
// full read/write recording), steps per second, stored bytes per step, and the time of the
// relations pass. Run: npx tsx bench/jvm-bench.ts [rounds] [relationRounds]
// Side by side: npx tsx bench/jvm-bench.ts [rounds] --compare=OTHER.jar [--runs=N] runs the
// workload without agent, with OTHER.jar and with the built agent interleaved (so the machine's
// load swings hit all three alike) and reports medians of wall and main-thread CPU time.
// --workload=BoxHeavy runs test/fixtures/java/bench/BoxHeavy.java instead (map lookups of
// Doubles, list elements of Integers: boxes whose values the agent records).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTrace, JvmTraceDecoder } from '../src/extension/jvm/decoder';
import { computeRelations } from '../src/extension/jvm/relations';
import {
  AGENT_JAR,
  ensureAgentBuilt,
  FIXTURES_DIR,
  javaBin,
  JDK17,
} from '../test/unit/jvm/harness';
import { flagValue, positionalArgs } from './benchArgs';

const positional = positionalArgs();
const rounds = Number(positional[0] ?? 200);
const relationRounds = Number(positional[1] ?? 35);
const compareJar = flagValue('compare');
const compareRuns = Number(flagValue('runs') ?? 7);
const workload = flagValue('workload') ?? 'CallHeavy';

function compileWorkload(): string {
  const out = mkdtempSync(join(tmpdir(), 'bathy-bench-'));
  const source = join(FIXTURES_DIR, `bench/${workload}.java`);
  const result = spawnSync(javaBin(JDK17, 'javac'), ['-d', out, source], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return out;
}

interface Measured {
  elapsedMs: number;
  /** CPU time of the thread running the workload (ThreadMXBean), less disturbed by load. */
  cpuMs: number;
  traceBytes: number;
  tracePath?: string;
}

function runWorkload(
  classes: string,
  workRounds: number,
  agentOptions?: string,
  agentJar = AGENT_JAR,
  keepTrace = true,
): Measured {
  const dir = mkdtempSync(join(tmpdir(), 'bathy-bench-run-'));
  const tracePath = join(dir, 'trace.bstr');
  const agent = agentOptions ? [`-javaagent:${agentJar}=file=${tracePath},${agentOptions}`] : [];
  const result = spawnSync(
    javaBin(JDK17),
    [...agent, '-cp', classes, workload, String(workRounds)],
    { encoding: 'utf8' },
  );
  const match = /elapsedNs=(\d+) cpuNs=(\d+)/.exec(result.stdout);
  if (!match) throw new Error(`workload failed: ${result.stdout}${result.stderr}`);
  const traceBytes = agentOptions ? statSync(tracePath).size : 0;
  const kept = agentOptions !== undefined && keepTrace;
  if (!kept) rmSync(dir, { recursive: true, force: true });
  return {
    elapsedMs: Number(match[1]) / 1e6,
    cpuMs: Number(match[2]) / 1e6,
    traceBytes,
    tracePath: kept ? tracePath : undefined,
  };
}

/** Streams the trace through the decoder in 1 MB slices, keeping only the count. */
function countSteps(tracePath: string): number {
  const bytes = readFileSync(tracePath);
  const decoder = new JvmTraceDecoder();
  let steps = 0;
  for (let i = 0; i < bytes.length; i += 1 << 20) {
    steps += decoder.push(bytes.subarray(i, i + (1 << 20))).steps.length;
  }
  return steps + decoder.end().steps.length;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Old and new agent jar against no agent, interleaved run by run, per recording mode. */
function compare(classes: string, otherJar: string): void {
  console.log(
    `${workload} ${rounds} rounds, JDK 17, medians of ${compareRuns} interleaved runs: ` +
      `wall / main-thread CPU (slowdown vs no agent)`,
  );
  for (const mode of ['lines', 'full']) {
    const runs: Record<string, Measured[]> = { plain: [], other: [], built: [] };
    for (let i = 0; i < compareRuns; i++) {
      runs.plain.push(runWorkload(classes, rounds));
      runs.other.push(runWorkload(classes, rounds, `mode=${mode}`, otherJar, false));
      runs.built.push(runWorkload(classes, rounds, `mode=${mode}`, AGENT_JAR, false));
    }
    const wall = (label: string) => median(runs[label].map((m) => m.elapsedMs));
    const cpu = (label: string) => median(runs[label].map((m) => m.cpuMs));
    const row = (label: string, name: string) =>
      console.log(
        `${mode.padEnd(6)} ${name.padEnd(10)} ${wall(label).toFixed(1).padStart(8)} ms ` +
          `(${(wall(label) / wall('plain')).toFixed(1).padStart(5)}x)  ` +
          `cpu ${cpu(label).toFixed(1).padStart(8)} ms (${(cpu(label) / cpu('plain')).toFixed(1).padStart(5)}x)`,
      );
    row('plain', 'no agent');
    row('other', 'compared');
    row('built', 'built');
  }
}

function main(): void {
  ensureAgentBuilt();
  const classes = compileWorkload();
  if (compareJar) {
    compare(classes, compareJar);
    return;
  }
  const repeat = (options?: string) =>
    Array.from({ length: 3 }, () => runWorkload(classes, rounds, options));
  const plain = repeat();
  const lines = repeat('mode=lines');
  const full = repeat('mode=full');
  const plainMs = median(plain.map((m) => m.elapsedMs));
  const report = (label: string, runs: Measured[]) => {
    const ms = median(runs.map((m) => m.elapsedMs));
    const steps = countSteps(runs[0].tracePath!);
    const bytes = runs[0].traceBytes;
    console.log(
      `${label.padEnd(6)} ${ms.toFixed(1).padStart(8)} ms  slowdown ${(ms / plainMs).toFixed(1).padStart(5)}x  ` +
        `${steps} steps  ${(((steps / ms) * 1000) / 1e6).toFixed(1)} M steps/s  ` +
        `${(bytes / steps).toFixed(2)} bytes/step`,
    );
  };
  console.log(
    `${workload} ${rounds} rounds, JDK 17, median of 3 runs, workload time measured in the JVM`,
  );
  console.log(`plain  ${plainMs.toFixed(1).padStart(8)} ms`);
  report('lines', lines);
  report('full', full);
  const cpuMs = (runs: Measured[]) => median(runs.map((m) => m.cpuMs));
  const plainCpu = cpuMs(plain);
  console.log(
    `main-thread CPU: plain ${plainCpu.toFixed(1)} ms, lines ${cpuMs(lines).toFixed(1)} ms ` +
      `(${(cpuMs(lines) / plainCpu).toFixed(1)}x), full ${cpuMs(full).toFixed(1)} ms ` +
      `(${(cpuMs(full) / plainCpu).toFixed(1)}x)`,
  );

  const relationRun = runWorkload(classes, relationRounds, 'mode=full');
  const bytes = readFileSync(relationRun.tracePath!);
  const decodeStart = performance.now();
  const { steps, decoder } = decodeTrace(bytes);
  const decodeMs = performance.now() - decodeStart;
  const relationsStart = performance.now();
  computeRelations(steps, decoder.methodTable());
  const relationsMs = performance.now() - relationsStart;
  console.log(
    `relations: ${steps.length} steps decoded in ${decodeMs.toFixed(0)} ms, ` +
      `relations computed in ${relationsMs.toFixed(0)} ms`,
  );
}

main();
