// JVM trace storage benchmark: steps per second into a session (synthetic decoded batches, and a
// real JVM through agent -> WebSocket -> decoder -> store), bytes per step in the session file,
// host memory, and navigation query latency on the stored trace.
//
// Run: npx tsx bench/jvm-store-bench.ts synthetic [millionSteps=10] [threads=4] [paths=new,old]
//      npx tsx bench/jvm-store-bench.ts agent [rounds=60]
// `paths` runs the ingestion paths one after the other in this process on the same stream; the
// first one's session is then queried. Peak RSS is per path, but later paths inherit the heap
// of earlier ones: run one path per process to measure memory.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordJavaProgram } from '../src/extension/jvm/record';
import { JvmColumnDecoder } from '../src/extension/jvm/columnDecoder';
import { JvmColumnWriter } from '../src/extension/jvm/columnWriter';
import { JvmTraceDecoder } from '../src/extension/jvm/decoder';
import { JvmTraceReader } from '../src/extension/jvm/traceReader';
import { JvmTraceWriter } from '../src/extension/jvm/traceWriter';
import { SessionStore } from '../src/extension/store/sessionStore';
import { ensureAgentBuilt, FIXTURES_DIR, javaBin, JDK17, REPO } from '../test/unit/jvm/harness';
import { SyntheticWireTrace } from '../test/unit/jvm/syntheticWire';

const MB = 1024 * 1024;
let peakRss = 0;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(0)} MB`;
}

/** How one ingestion path turns the agent's bytes into a session run. */
interface IngestPath {
  name: string;
  start(
    store: SessionStore,
    runId: number,
  ): {
    push(message: Uint8Array): void;
    finish(): number;
  };
}

const PATHS: Record<string, IngestPath> = {
  // The recording path: column decoder -> column writer, no object per step.
  new: {
    name: 'columns (JvmColumnDecoder -> JvmColumnWriter)',
    start(store, runId) {
      const decoder = new JvmColumnDecoder();
      const writer = new JvmColumnWriter(store, runId, decoder);
      return {
        push: (message) => writer.addColumns(decoder.push(message)),
        finish: () => {
          writer.addColumns(decoder.end());
          return writer.finish().steps;
        },
      };
    },
  },
  // The previous path, kept for tools and as the reference: a JvmStep object per step.
  old: {
    name: 'objects (JvmTraceDecoder -> JvmTraceWriter)',
    start(store, runId) {
      const decoder = new JvmTraceDecoder();
      const writer = new JvmTraceWriter(store, runId, decoder);
      return {
        push: (message) => writer.addBatch(decoder.push(message)),
        finish: () => {
          writer.addBatch(decoder.end());
          return writer.finish().steps;
        },
      };
    },
  },
};

/**
 * Synthetic agent streams (test/unit/jvm/syntheticWire.ts: 4 threads, locals, a field, a static
 * shared by the threads, array elements, calls, a controlling branch) through each path into a
 * session with its 2-second flush timer running, as a live recording. Generating the messages
 * is timed apart; "in calls" is decoding + relations + encoding + compression + SQLite inserts,
 * "wall" adds the timer's saves of the session file.
 */
async function synthetic(millions: number, threads: number, paths: string[]): Promise<void> {
  const total = Math.round(millions * 1e6);
  for (const key of paths) {
    const path = PATHS[key];
    if (!path) throw new Error(`unknown path ${key} (new, old)`);
    const session = join(mkdtempSync(join(tmpdir(), 'bathy-store-bench-')), `${key}.bathy`);
    const store = await SessionStore.open(session, { create: true });
    const run = store.addRun({ targetKind: 'jvm', target: 'demo.Synthetic' });
    const ingest = path.start(store, run.id);
    peakRss = 0;
    let generateMs = 0;
    let inCallsMs = 0;
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const messages = new SyntheticWireTrace(threads, Math.ceil(total / threads)).messages();
    for (let k = 0; ; k++) {
      const t0 = performance.now();
      const next = messages.next();
      const t1 = performance.now();
      generateMs += t1 - t0;
      if (next.done) break;
      ingest.push(next.value);
      inCallsMs += performance.now() - t1;
      if (k % 16 === 0) {
        sampleRss();
        await new Promise((resolve) => setImmediate(resolve)); // let the flush timer run
      }
    }
    const t2 = performance.now();
    const steps = ingest.finish();
    inCallsMs += performance.now() - t2;
    const wallMs = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    await store.close();
    sampleRss();
    const size = statSync(session).size;
    const rate = (ms: number) => `${(((steps / ms) * 1000) / 1e6).toFixed(2)} M steps/s`;
    console.log(
      `${key}: ${path.name}\n` +
        `  ${steps.toLocaleString('en')} steps, ${threads} threads; messages generated in ${(generateMs / 1000).toFixed(1)} s\n` +
        `  decode + relations + storage: ${(inCallsMs / 1000).toFixed(1)} s in calls (${rate(inCallsMs)}); ` +
        `wall without generation ${((wallMs - generateMs) / 1000).toFixed(1)} s (with the timer's saves); ` +
        `process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (generation included)\n` +
        `  file ${mb(size)} = ${(size / steps).toFixed(2)} bytes/step; peak RSS ${mb(peakRss)}`,
    );
    if (key === paths[0]) await queries(session, run.id);
  }
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

const [mode = 'synthetic', a, b, c] = process.argv.slice(2);
const main =
  mode === 'agent'
    ? agent(Number(a ?? 60))
    : synthetic(Number(a ?? 10), Number(b ?? 4), (c ?? 'new,old').split(','));
main.catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
