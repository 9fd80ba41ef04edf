// Trace navigation latency on a long trace: every navigation command, timed in the core (the
// pure move on the stored trace, as the CLI and tests run it) and through a real VS Code
// workbench (code-server + headless Chromium; the command as its keybinding runs it: query,
// editor reveal and decorations), at random steps of a synthetic 10 M-step session.
//
// Run: npx tsx bench/navigation-bench.ts [--millions 10] [--samples 50] [--session FILE]
//      (with --session, an existing session is reused instead of generating one)

import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { move, writerOfRead, lineExecution } from '../src/extension/jvm/navigation';
import { JvmTraceReader, type JvmStepRef } from '../src/extension/jvm/traceReader';
import { JvmColumnDecoder } from '../src/extension/jvm/columnDecoder';
import { JvmColumnWriter } from '../src/extension/jvm/columnWriter';
import { SessionStore } from '../src/extension/store/sessionStore';
import { developmentUrl, HOST_SUITE, launchChromium, startCodeServer } from '../scripts/codeServer';
import {
  NAVIGATION_COMMANDS,
  type NavigationBenchReport,
  type NavigationCommand,
} from '../test/host/navigationCommands';
import { SyntheticWireTrace } from '../test/unit/jvm/syntheticWire';
import { option } from './benchArgs';

async function generateSession(file: string, millions: number): Promise<void> {
  const threads = 4;
  const store = await SessionStore.open(file, { create: true });
  const run = store.addRun({ targetKind: 'jvm', target: 'demo.Synthetic' });
  // The recording path: agent bytes -> column decoder -> column writer, as a live recording.
  const decoder = new JvmColumnDecoder();
  const writer = new JvmColumnWriter(store, run.id, decoder);
  const started = performance.now();
  const stepsPerThread = Math.ceil((millions * 1e6) / threads);
  for (const message of new SyntheticWireTrace(threads, stepsPerThread).messages()) {
    writer.addColumns(decoder.push(message));
  }
  writer.addColumns(decoder.end());
  writer.finish();
  await store.close();
  console.log(
    `generated ${millions} M steps in ${((performance.now() - started) / 1000).toFixed(0)} s: ${file}`,
  );
}

/** The synthetic trace's source, so the editor has lines to show (main 10-12, work 20-22). */
function writeSyntheticSource(workspace: string): void {
  const lines = Array.from({ length: 30 }, (_, i) => `    // line ${i + 1}`);
  lines[0] = 'package demo;';
  lines[1] = 'public class Synthetic {';
  lines[29] = '}';
  const dir = path.join(workspace, 'src/demo');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'Synthetic.java'), lines.join('\n') + '\n');
}

type Timings = Record<string, number[]>;

/** What a navigation command computes before the editor shows it: the core part of its time. */
function coreOf(command: NavigationCommand, reader: JvmTraceReader, at: JvmStepRef): unknown {
  const step = reader.step(at.threadId, at.order)!;
  switch (command) {
    case 'goToControlDominator':
      return move(reader, at, 'controlDominator');
    case 'goToWriter':
      return step.reads[0] && writerOfRead(step.reads[0]);
    case 'nextExecution':
      return lineExecution(reader, at, step.className, step.line, 'next');
    case 'previousExecution':
      return lineExecution(reader, at, step.className, step.line, 'previous');
    default:
      return move(reader, at, command);
  }
}

function coreTimings(session: SessionStore, samples: number): Timings {
  const run = session.runs().find((r) => r.targetKind === 'jvm')!;
  const reader = new JvmTraceReader(session, run.id);
  const main = reader.threads().find((t) => t.isMain) ?? reader.threads()[0];
  const timings: Timings = {};
  const time = (name: string, body: () => unknown) => {
    const started = performance.now();
    body();
    (timings[name] ??= []).push(performance.now() - started);
  };
  let seed = 777;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let sample = 0; sample < samples; sample++) {
    const at = { threadId: main.threadId, order: 2 + Math.floor(random() * (main.steps - 3)) };
    time('goToStep', () => reader.step(at.threadId, at.order));
    for (const command of NAVIGATION_COMMANDS) {
      time(command, () => coreOf(command, reader, at));
    }
  }
  return timings;
}

async function workbenchTimings(
  sessionFile: string,
  samples: number,
): Promise<NavigationBenchReport> {
  if (!fs.existsSync(HOST_SUITE))
    throw new Error(`${HOST_SUITE} is missing: run npm run build first`);
  const stateDir = fs.mkdtempSync(path.join(tmpdir(), 'bathy-nav-bench-'));
  const workspace = path.join(stateDir, 'workspace');
  writeSyntheticSource(workspace);
  const report = path.join(stateDir, 'report.json');
  const server = await startCodeServer({
    stateDir,
    workspace,
    env: {
      BATHYSPHERE_TEST_REPORT: report,
      BATHYSPHERE_NAV_BENCH: sessionFile,
      BATHYSPHERE_NAV_BENCH_SAMPLES: String(samples),
    },
  });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const exited = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    await page.goto(developmentUrl(server, workspace, HOST_SUITE));
    const code = await exited;
    if (code !== 0 || !fs.existsSync(report)) {
      throw new Error(`the workbench scenario failed (exit ${code}); log: ${stateDir}`);
    }
    return JSON.parse(fs.readFileSync(report, 'utf8')) as NavigationBenchReport;
  } finally {
    await browser.close();
    await server.stop();
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

function printTable(core: Timings, workbench: Timings): void {
  console.log('| command | core median / p95 / max | VS Code median / p95 / max |');
  console.log('| --- | --- | --- |');
  for (const name of Object.keys(workbench)) {
    const cells = [core[name] ?? [], workbench[name]].map((values) => {
      const sorted = [...values].sort((a, b) => a - b);
      if (sorted.length === 0) return '-';
      return `${quantile(sorted, 0.5).toFixed(1)} / ${quantile(sorted, 0.95).toFixed(1)} / ${sorted.at(-1)!.toFixed(1)} ms`;
    });
    console.log(`| ${name} | ${cells[0]} | ${cells[1]} |`);
  }
}

async function main(): Promise<void> {
  const millions = Number(option('millions', '10'));
  const samples = Number(option('samples', '50'));
  let sessionFile = option('session', '');
  if (!sessionFile) {
    sessionFile = path.join(fs.mkdtempSync(path.join(tmpdir(), 'bathy-nav-session-')), 'nav.bathy');
    await generateSession(sessionFile, millions);
  }
  const store = await SessionStore.open(sessionFile, { flushIntervalMs: 0 });
  const core = coreTimings(store, samples);
  await store.close();
  const workbench = await workbenchTimings(sessionFile, samples);
  console.log(
    `${workbench.steps.toLocaleString('en')} steps in the main thread, ${samples} random steps`,
  );
  printTable(core, workbench.timings);
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
