// JVM trace storage benchmark: steps per second into a session (synthetic decoded batches, and a
// real JVM through agent -> WebSocket -> decoder -> store), bytes per step in the session file,
// host memory, and navigation query latency on the stored trace.
//
// Run: npx tsx bench/jvm-store-bench.ts synthetic [millionSteps=10] [threads=4]
//      npx tsx bench/jvm-store-bench.ts agent [rounds=60]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordJavaProgram } from '../src/extension/jvm/record';
import { JvmTraceReader } from '../src/extension/jvm/traceReader';
import { JvmTraceWriter } from '../src/extension/jvm/traceWriter';
import { SessionStore } from '../src/extension/store/sessionStore';
import { ensureAgentBuilt, FIXTURES_DIR, javaBin, JDK17, REPO } from '../test/unit/jvm/harness';
import { SyntheticTrace, syntheticDeclarations } from '../test/unit/jvm/syntheticTrace';

const MB = 1024 * 1024;
let peakRss = 0;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(0)} MB`;
}

async function synthetic(millions: number, threads: number): Promise<void> {
  const total = Math.round(millions * 1e6);
  const session = join(mkdtempSync(join(tmpdir(), 'bathy-store-bench-')), 'synthetic.bathy');
  const trace = new SyntheticTrace(threads, Math.ceil(total / threads));

  // Generating the decoded batches has a cost of its own: measured apart.
  let generateMs = performance.now();
  let generated = 0;
  for (const batch of new SyntheticTrace(threads, Math.ceil(total / threads)).batches())
    generated += batch.steps.length;
  generateMs = performance.now() - generateMs;

  const store = await SessionStore.open(session, { create: true });
  const run = store.addRun({ targetKind: 'jvm', target: 'demo.Synthetic' });
  const writer = new JvmTraceWriter(store, run.id, syntheticDeclarations);
  const start = performance.now();
  for (const batch of trace.batches()) {
    writer.addBatch(batch);
    sampleRss();
    await new Promise((resolve) => setImmediate(resolve)); // let the flush timer run, as live
  }
  writer.finish();
  const ingestMs = performance.now() - start;
  await store.close();
  sampleRss();
  const size = statSync(session).size;
  console.log(
    `synthetic ${generated.toLocaleString('en')} steps, ${threads} threads: generated in ${(generateMs / 1000).toFixed(1)} s; ` +
      `relations + encoding + storing ${(ingestMs / 1000).toFixed(1)} s (${(((generated / ingestMs) * 1000) / 1e6).toFixed(2)} M steps/s, ` +
      `${(((generated / (ingestMs - generateMs)) * 1000) / 1e6).toFixed(2)} M steps/s without generation); ` +
      `file ${mb(size)} = ${(size / generated).toFixed(2)} bytes/step; peak RSS ${mb(peakRss)}`,
  );
  await queries(session, run.id);
}

async function queries(session: string, runId: number): Promise<void> {
  const openStart = performance.now();
  const store = await SessionStore.open(session, { flushIntervalMs: 0 });
  const reader = new JvmTraceReader(store, runId);
  const threads = reader.threads();
  const openMs = performance.now() - openStart;
  sampleRss();
  const thread = threads[0];
  const random = (n: number) => 1 + Math.floor(Math.random() * n);
  const time = (label: string, body: (order: number) => unknown, samples = 200) => {
    const times: number[] = [];
    for (let k = 0; k < samples; k++) {
      const order = random(thread.steps);
      const t = performance.now();
      body(order);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(
      `  ${label.padEnd(34)} median ${times[samples >> 1].toFixed(2)} ms, p95 ${times[Math.floor(samples * 0.95)].toFixed(2)} ms, max ${times[samples - 1].toFixed(2)} ms`,
    );
  };
  console.log(`open ${mb(statSync(session).size)} session + thread list: ${openMs.toFixed(0)} ms`);
  const id = thread.threadId;
  time('step(thread, order), random', (o) => reader.step(id, o));
  time('step(thread, order + 1) (cached chunk)', (o) => {
    reader.step(id, o);
    reader.step(id, o + 1);
  });
  time('stepOver next', (o) => reader.stepOver(id, o, 'next'));
  time('stepOver previous', (o) => reader.stepOver(id, o, 'previous'));
  const location = reader.step(id, 1)!.locationId;
  time('next execution of a line', (o) => reader.nextExecution(id, o, [location], 'next'));
  time('previous execution of a line', (o) => reader.nextExecution(id, o, [location], 'previous'));
  time('control dominator', (o) => reader.controlDominator(id, o));
  time('invocation parent', (o) => reader.invocationParent(id, o));
  time('data dominators', (o) => reader.dataDominators(id, o));
  time('writes of a read variable (<=50)', (o) => {
    const step = reader.step(id, o)!;
    if (step.reads[0]) reader.writesOf(id, o, step.reads[0], 50);
  });
  sampleRss();
  console.log(
    `peak RSS ${mb(peakRss)} (process.resourceUsage maxRSS ${mb(process.resourceUsage().maxRSS * 1024)})`,
  );
  await store.close();
}

async function agent(rounds: number): Promise<void> {
  ensureAgentBuilt();
  const classes = mkdtempSync(join(tmpdir(), 'bathy-store-bench-classes-'));
  const compiled = spawnSync(javaBin(JDK17, 'javac'), [
    '-d',
    classes,
    join(FIXTURES_DIR, 'bench/CallHeavy.java'),
  ]);
  if (compiled.status !== 0) throw new Error(String(compiled.stderr));
  const session = join(mkdtempSync(join(tmpdir(), 'bathy-store-bench-')), 'agent.bathy');
  const start = performance.now();
  const timer = setInterval(sampleRss, 100);
  const result = await recordJavaProgram({
    javaCommand: [javaBin(JDK17), '-cp', classes, 'CallHeavy', String(rounds)],
    sessionFile: session,
    agentBaseDir: REPO,
    stdio: 'ignore',
  });
  clearInterval(timer);
  const ms = performance.now() - start;
  const size = statSync(session).size;
  console.log(
    `agent -> ws -> decoder -> store: CallHeavy ${rounds} rounds, ${result.steps.toLocaleString('en')} steps in ${(ms / 1000).toFixed(1)} s ` +
      `(${(((result.steps / ms) * 1000) / 1e6).toFixed(2)} M steps/s end to end, JVM start and exit included); ` +
      `file ${mb(size)} = ${(size / result.steps).toFixed(2)} bytes/step; peak RSS ${mb(peakRss)}`,
  );
  await queries(session, result.runId);
}

const [mode = 'synthetic', a, b] = process.argv.slice(2);
const main = mode === 'agent' ? agent(Number(a ?? 60)) : synthetic(Number(a ?? 10), Number(b ?? 4));
main.catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
