// JVM agent benchmark: slowdown of a call-heavy CPU-bound program recorded vs not (line-only and
// full read/write recording), steps per second, stored bytes per step, and the time of the
// relations pass. Run: npx tsx bench/jvm-bench.ts [rounds] [relationRounds]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
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

const rounds = Number(process.argv[2] ?? 200);
const relationRounds = Number(process.argv[3] ?? 35);

function compileWorkload(): string {
  const out = mkdtempSync(join(tmpdir(), 'bathy-bench-'));
  const source = join(FIXTURES_DIR, 'bench/CallHeavy.java');
  const result = spawnSync(javaBin(JDK17, 'javac'), ['-d', out, source], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return out;
}

interface Measured {
  elapsedMs: number;
  traceBytes: number;
  tracePath?: string;
}

function runWorkload(classes: string, workRounds: number, agentOptions?: string): Measured {
  const dir = mkdtempSync(join(tmpdir(), 'bathy-bench-run-'));
  const tracePath = join(dir, 'trace.bstr');
  const agent = agentOptions ? [`-javaagent:${AGENT_JAR}=file=${tracePath},${agentOptions}`] : [];
  const result = spawnSync(
    javaBin(JDK17),
    [...agent, '-cp', classes, 'CallHeavy', String(workRounds)],
    { encoding: 'utf8' },
  );
  const match = /elapsedNs=(\d+)/.exec(result.stdout);
  if (!match) throw new Error(`workload failed: ${result.stdout}${result.stderr}`);
  return {
    elapsedMs: Number(match[1]) / 1e6,
    traceBytes: agentOptions ? statSync(tracePath).size : 0,
    tracePath: agentOptions ? tracePath : undefined,
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

function main(): void {
  ensureAgentBuilt();
  const classes = compileWorkload();
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
    `CallHeavy ${rounds} rounds, JDK 17, median of 3 runs, workload time measured in the JVM`,
  );
  console.log(`plain  ${plainMs.toFixed(1).padStart(8)} ms`);
  report('lines', lines);
  report('full', full);

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
