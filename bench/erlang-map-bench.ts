/**
 * Process map benchmark: the real graph webview (dist/webview/graph.js + graph.css,
 * run `node scripts/build.mjs` first) in headless Debian Chromium, fed the host's
 * protocol messages by a page that stands in for VS Code (acquireVsCodeApi stubbed).
 *   npx tsx bench/erlang-map-bench.ts [--processes 10000] [--runs 3] [--renderers auto,webgl]
 *     [--batchings 10x100,100x10] [--bundles before=/tmp/old-webview,after=dist/webview]
 *   (BENCH_VERBOSE=1 also prints the page's console). With --bundles, each run measures every
 *   named build of the webview one after the other, so they compare under the same load.
 *
 * The map is a synthetic node: applications with supervision trees (nested
 * supervisors, worker pools), links from every supervisor to its children and
 * between some workers, monitors, message counts, registered names. It goes
 * through the host's own code (processMapContent, diffGraphs), so the webview
 * gets what a live session would send.
 *
 * Figures: time to first render (snapshot posted -> the webview's `rendered`
 * reply, and -> two animation frames later, i.e. painted), time to apply 1,000
 * process events sent as the host batches them (10 batches of 100 and 100 of
 * 10, each delta posted once the previous one's `rendered` came back), the
 * host's time to diff a batch, and the page's JS heap. Medians over the runs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../scripts/codeServer';
import {
  processMapContent,
  type ProcessGraphNode,
  type ProcessLevel,
} from '../src/extension/erlang/processGraph';
import {
  deltaSize,
  diffGraphs,
  type GraphContent,
  type GraphEdge,
  type HostToWebview,
  type RendererChoice,
} from '../src/shared/graphProtocol';
import { option } from './benchArgs';

const REPO_ROOT = path.resolve(__dirname, '..');
/** How the host batches the process events: `--batchings 10x100,100x10` (batches x events each). */
function batchings(): { batches: number; size: number }[] {
  return option('batchings', '10x100,100x10')
    .split(',')
    .map((spec) => {
      const [batches, size] = spec.split('x').map(Number);
      return { batches, size };
    });
}

/** Deterministic pseudo-random numbers (mulberry32), so every run measures the same map. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A live node's map as the host holds it: processes by pid, edges by id. */
class SyntheticNode {
  readonly processes = new Map<string, ProcessGraphNode>();
  readonly edges = new Map<string, GraphEdge>();
  readonly supervisors: string[] = [];
  readonly workers: string[] = [];
  private nextPid = 100;
  private readonly rand = random(42);

  constructor(total: number) {
    const applications = Math.max(1, Math.round(total / 800));
    for (let app = 0; app < applications && this.processes.size < total; app++)
      this.application(app);
    // Worker pools fill the rest: most under the innermost supervisors.
    const pools = this.supervisors.filter((pid) =>
      this.processes.get(pid)!.data.registeredName!.includes('pool'),
    );
    while (this.processes.size < total) {
      const supervisor = this.rand() < 0.8 ? this.pick(pools) : this.pick(this.supervisors);
      this.spawnWorker(supervisor);
    }
    for (const worker of this.workers) this.wireWorker(worker);
  }

  content(): GraphContent {
    return processMapContent({
      nodes: [...this.processes.values()],
      edges: [...this.edges.values()],
    });
  }

  /** One process event of a busy node: a spawn, an exit, a message, a link or a monitor. */
  event(): void {
    const roll = this.rand();
    if (roll < 0.4) this.spawnWorker(this.pick(this.supervisors));
    else if (roll < 0.6) this.exit(this.pick(this.workers));
    else if (roll < 0.9) this.message(this.pick(this.workers), this.pick(this.workers));
    else if (roll < 0.95) this.link(this.pick(this.workers), this.pick(this.workers));
    else this.edge('monitor', this.pick(this.workers), this.pick(this.supervisors));
  }

  private application(app: number): void {
    const master = this.process(`application_master:init/4`, null, null, `app${app}_master`);
    const top = this.supervisor(`app${app}_sup`, master, null);
    for (let group = 0; group < 6; group++) {
      const middle = this.supervisor(`app${app}_group${group}_sup`, top, top);
      for (let pool = 0; pool < 3; pool++)
        this.supervisor(`app${app}_group${group}_pool${pool}_sup`, middle, middle);
    }
  }

  private supervisor(name: string, parent: string, supervisor: string | null): string {
    const pid = this.process('supervisor:init/1', parent, supervisor, name);
    this.supervisors.push(pid);
    return pid;
  }

  private spawnWorker(supervisor: string): void {
    const module = this.processes.get(supervisor)!.data.registeredName!.replace(/_sup$/, '_worker');
    const named = this.rand() < 0.05;
    const pid = this.process(
      `${module}:init/1`,
      supervisor,
      supervisor,
      named ? `${module}_${this.nextPid}` : null,
    );
    this.workers.push(pid);
  }

  private process(
    initialCall: string,
    parent: string | null,
    supervisor: string | null,
    name: string | null,
  ): string {
    const pid = `<0.${this.nextPid++}.0>`;
    const level: ProcessLevel = this.rand() < 0.05 ? 'listened' : 'explored';
    this.processes.set(pid, {
      id: pid,
      label: name ?? initialCall,
      kind: initialCall.startsWith('supervisor:') ? 'supervisor' : 'process',
      ...(supervisor ? { parent: supervisor } : {}),
      data: {
        pid,
        level,
        state: 'alive',
        exitReason: null,
        registeredName: name,
        initialCall,
        application: name?.split('_')[0] ?? null,
        chosen: false,
        boundary: initialCall.startsWith('supervisor:'),
        parent,
        supervisor,
      },
    });
    if (parent) {
      this.edge('spawn', parent, pid);
      this.link(parent, pid);
    }
    return pid;
  }

  private wireWorker(worker: string): void {
    if (this.rand() < 0.1) this.link(worker, this.pick(this.workers));
    if (this.rand() < 0.1) this.edge('monitor', worker, this.pick(this.supervisors));
    if (this.rand() < 0.05) this.message(worker, this.pick(this.workers));
  }

  private exit(pid: string): void {
    const process = this.processes.get(pid)!;
    if (process.data.state === 'dead') return;
    this.processes.set(pid, {
      ...process,
      kind: 'dead',
      data: { ...process.data, state: 'dead', exitReason: 'shutdown' },
    });
    // A dead process's links and monitors end; its spawn parentage and messages stay on the map.
    for (const [id, edge] of this.edges)
      if (
        (edge.kind === 'link' || edge.kind === 'monitor') &&
        (edge.source === pid || edge.target === pid)
      )
        this.edges.delete(id);
  }

  private link(a: string, b: string): void {
    if (a !== b) this.edge('link', a, b);
  }

  private message(from: string, to: string): void {
    const id = `message:${from}:${to}`;
    const count = Number(this.edges.get(id)?.label ?? 0) + 1;
    this.edges.set(id, { id, source: from, target: to, kind: 'message', label: `${count}` });
  }

  private edge(kind: string, source: string, target: string): void {
    const id = `${kind}:${source}:${target}`;
    this.edges.set(id, { id, source, target, kind });
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)];
  }
}

const PAGE = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><title>bench</title></head>
<body><div id="graph-root" data-state="loading" data-node-count="0" data-edge-count="0">
<div class="toolbar"><button id="fit" type="button">Fit</button><button id="relayout" type="button">Re-layout</button>
<span id="status" role="status">Loading…</span></div><div id="graph"></div><div id="details"></div></div></body></html>`;

/**
 * Stands in for VS Code: times a message from posting until the webview's reply for its
 * version, and two animation frames more (Cytoscape has then drawn the new picture at least
 * once). Plain JavaScript in a string: a function passed to the page would carry the
 * helpers tsx compiles into it.
 */
const HOST_STUB = `
let waiting;
window.acquireVsCodeApi = () => ({
  postMessage: (message) => waiting && waiting(message),
  getState: () => undefined,
  setState: () => undefined,
});
window.__time = (message) => new Promise((resolve) => {
  const started = performance.now();
  waiting = (reply) => {
    if (reply.type === 'resync') resolve({ error: 'resync' });
    if (reply.type !== 'rendered' || reply.version !== message.version) return;
    const rendered = performance.now() - started;
    requestAnimationFrame(() => requestAnimationFrame(() =>
      resolve({ rendered, painted: performance.now() - started, reply })));
  };
  window.postMessage(message, '*');
});
// Posts each delta once the previous one's reply came back, as fast as the webview takes
// them (frames are drawn when it is idle, as with a host sending every 300 ms); the total
// runs from the first post until two frames after the last reply.
window.__sequence = (messages) => new Promise((resolve) => {
  const started = performance.now();
  const perBatch = [];
  let index = 0;
  let batchStarted = 0;
  const next = () => {
    batchStarted = performance.now();
    window.postMessage(messages[index], '*');
  };
  waiting = (reply) => {
    if (reply.type === 'resync') resolve({ error: 'resync' });
    if (reply.type !== 'rendered' || reply.version !== messages[index].version) return;
    perBatch.push(performance.now() - batchStarted);
    index += 1;
    if (index < messages.length) return next();
    requestAnimationFrame(() => requestAnimationFrame(() =>
      resolve({ total: performance.now() - started, perBatch })));
  };
  next();
});
`;

interface Timed {
  rendered: number;
  painted: number;
  reply: { nodeCount: number; edgeCount: number; renderer: string };
  error?: string;
}

async function post(page: Page, message: HostToWebview): Promise<Timed> {
  // Handing the message to the page first keeps Playwright's serialisation out of the time.
  await page.evaluate((m) => {
    (window as unknown as { __next: unknown }).__next = m;
  }, message);
  const timed = (await page.evaluate('window.__time(window.__next)')) as Timed;
  if (timed.error) throw new Error(`the webview asked for a ${timed.error}`);
  return timed;
}

/** Named directories holding a graph.js + graph.css build of the webview. */
function bundles(): { name: string; dir: string }[] {
  return option('bundles', 'dist/webview')
    .split(',')
    .map((spec) => {
      const [name, dir] = spec.includes('=') ? spec.split('=') : [spec, spec];
      return { name, dir: path.resolve(REPO_ROOT, dir) };
    });
}

async function openWebview(browser: Browser, bundleDir: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  if (process.env.BENCH_VERBOSE)
    page.on('console', (message) => console.log(`page: ${message.text()}`));
  await page.setContent(PAGE);
  await page.addScriptTag({ content: HOST_STUB });
  await page.addStyleTag({ path: path.join(bundleDir, 'graph.css') });
  await page.addScriptTag({ path: path.join(bundleDir, 'graph.js') });
  return page;
}

async function heapMb(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  await cdp.detach();
  return usedSize / 2 ** 20;
}

interface RunResult {
  renderer: string;
  nodes: number;
  edges: number;
  firstRendered: number;
  firstPainted: number;
  heapAfterFirst: number;
  batches: {
    label: string;
    total: number;
    perBatchMedian: number;
    perBatchMax: number;
    elements: number;
    hostDiffMedian: number;
  }[];
  heapAfterUpdates: number;
}

async function measureOnce(
  browser: Browser,
  processes: number,
  renderer: RendererChoice,
  bundleDir: string,
): Promise<RunResult> {
  const node = new SyntheticNode(processes);
  let sent = node.content();
  let version = 1;
  const page = await openWebview(browser, bundleDir);
  const source = { sessionFile: '/bench/map.bathy', runId: 1 };
  const first = await post(page, {
    type: 'snapshot',
    snapshot: { source, title: `synthetic node, ${processes} processes`, ...sent },
    renderer,
    version,
  });
  const heapAfterFirst = await heapMb(page);
  console.log(
    `  first render: ${first.reply.renderer}, ${first.reply.nodeCount} nodes, ${first.reply.edgeCount} edges, ` +
      `${Math.round(first.rendered)} ms to rendered, ${Math.round(first.painted)} ms to painted`,
  );
  const batches: RunResult['batches'] = [];
  for (const { batches: count, size } of batchings()) {
    // The host's work first (diffing what it last sent with the map now), timed on its own.
    const messages: HostToWebview[] = [];
    const hostDiff: number[] = [];
    let elements = 0;
    for (let batch = 0; batch < count; batch++) {
      for (let event = 0; event < size; event++) node.event();
      const diffStarted = performance.now();
      const content = node.content();
      const delta = diffGraphs(sent, content);
      hostDiff.push(performance.now() - diffStarted);
      sent = content;
      elements += deltaSize(delta);
      messages.push({ type: 'delta', delta, baseVersion: version, version: version + 1 });
      version += 1;
    }
    await page.evaluate((m) => {
      (window as unknown as { __next: unknown }).__next = m;
    }, messages);
    const timed = (await page.evaluate('window.__sequence(window.__next)')) as {
      total: number;
      perBatch: number[];
      error?: string;
    };
    if (timed.error) throw new Error(`the webview asked for a ${timed.error}`);
    batches.push({
      label: `${count} × ${size}`,
      total: timed.total,
      perBatchMedian: median(timed.perBatch),
      perBatchMax: Math.max(...timed.perBatch),
      elements,
      hostDiffMedian: median(hostDiff),
    });
    console.log(`  ${count} × ${size}: ${timed.total.toFixed(0)} ms`);
  }
  const result: RunResult = {
    renderer: first.reply.renderer,
    nodes: first.reply.nodeCount,
    edges: first.reply.edgeCount,
    firstRendered: first.rendered,
    firstPainted: first.painted,
    heapAfterFirst,
    batches,
    heapAfterUpdates: await heapMb(page),
  };
  await page.close();
  return result;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main(): Promise<void> {
  const processes = Number(option('processes', '10000'));
  const runs = Number(option('runs', '3'));
  const renderers = option('renderers', 'auto,webgl').split(',') as RendererChoice[];
  const builds = bundles();
  for (const build of builds)
    if (!fs.existsSync(path.join(build.dir, 'graph.js')))
      throw new Error(`no graph.js in ${build.dir} (run node scripts/build.mjs first)`);
  const { chromium } = await import('playwright-core');
  const fmt = (ms: number) => `${Math.round(ms)} ms`;
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(`${os.cpus().length} × ${os.cpus()[0]?.model}, load ${load()}`);
  // The test suites' flags: no GPU, so WebGL is Chromium's software WebGL (SwiftShader).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
  });
  try {
    console.log(`Chromium ${browser.version()}`);
    for (const renderer of renderers) {
      const results = new Map(builds.map((build): [string, RunResult[]] => [build.name, []]));
      console.log(`\nrenderer setting: ${renderer}`);
      for (let run = 0; run < runs; run++) {
        for (const build of builds) {
          if (builds.length > 1) console.log(`build ${build.name}:`);
          const result = await measureOnce(browser, processes, renderer, build.dir);
          results.get(build.name)!.push(result);
          console.log(
            `run ${run + 1}: ${result.renderer}, ${result.nodes} nodes, ${result.edges} edges; first render ${fmt(result.firstRendered)} (painted ${fmt(result.firstPainted)}); ` +
              result.batches.map((b) => `${b.label}: ${fmt(b.total)}`).join(', ') +
              `; load ${load()}`,
          );
        }
      }
      for (const build of builds) {
        if (builds.length > 1) console.log(`\nbuild ${build.name} (${build.dir}):`);
        report(results.get(build.name)!, runs);
      }
    }
  } finally {
    await browser.close();
  }
}

function report(results: RunResult[], runs: number): void {
  const pick = (f: (r: RunResult) => number) => median(results.map(f));
  const fmt = (ms: number) => `${Math.round(ms)} ms`;
  const first = results[0];
  console.log(
    `median of ${runs}, renderer ${first.renderer}, ${first.nodes} nodes (with group boxes), ${first.edges} edges:`,
  );
  console.log(`| first render (snapshot -> rendered) | ${fmt(pick((r) => r.firstRendered))} |`);
  console.log(`| first render, painted (+2 frames) | ${fmt(pick((r) => r.firstPainted))} |`);
  first.batches.forEach((batch, i) => {
    console.log(
      `| 1,000 events as ${batch.label} deltas (${Math.round(median(results.map((r) => r.batches[i].elements)))} element changes) | ` +
        `${fmt(pick((r) => r.batches[i].total))} (per batch: median ${pick((r) => r.batches[i].perBatchMedian).toFixed(1)} ms, max ${pick((r) => r.batches[i].perBatchMax).toFixed(0)} ms; host diff median ${pick((r) => r.batches[i].hostDiffMedian).toFixed(1)} ms/batch) |`,
    );
  });
  console.log(
    `| JS heap after first render / after updates | ${pick((r) => r.heapAfterFirst).toFixed(0)} MB / ${pick((r) => r.heapAfterUpdates).toFixed(0)} MB |`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
