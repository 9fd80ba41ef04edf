// The agent must never break the program it records; the decoder must survive bad input; the
// WebSocket endpoint must accept agents with the token and only them.

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { JvmTraceDecoder, decodeTrace, type JvmStep } from '../../../src/extension/jvm/decoder';
import { javaDouble, javaFloat, javaStringLiteral } from '../../../src/extension/jvm/javaText';
import { JvmAgentServer } from '../../../src/extension/jvm/server';
import {
  AGENT_JAR,
  compileFixtures,
  ensureAgentBuilt,
  FIXTURES_DIR,
  javaBin,
  JDK17,
  runWithAgent,
  stepKey,
} from './harness';

function compile(sources: string[], classPath?: string): string {
  const out = mkdtempSync(join(tmpdir(), 'bathy-robust-'));
  const args = ['-g', '--release', '17', '-d', out, ...(classPath ? ['-cp', classPath] : [])];
  const result = spawnSync(javaBin(JDK17, 'javac'), [...args, ...sources], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return out;
}

function javaFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.java'))
    .map((f) => join(dir, f));
}

const ROBUST = join(FIXTURES_DIR, 'robust/fixtures');

describe('JVM agent robustness', function () {
  this.timeout(120_000);
  let robustClasses: string;

  before(function () {
    this.timeout(300_000);
    ensureAgentBuilt();
    robustClasses = compile(javaFiles(join(ROBUST, 'robust')));
  });

  it('flushes everything when a worker thread calls System.exit', () => {
    const run = runWithAgent({
      classPath: robustClasses,
      mainClass: 'fixtures.robust.ExitFromWorker',
    });
    assert.equal(run.status, 3);
    assert.match(run.stdout, /exiting with 10/);
    assert.ok(run.batch.ended);
    const exiter = run.steps.filter((s) => s.thread === 'exiter').map(stepKey);
    assert.equal(exiter.at(-1), 'fixtures.robust.ExitFromWorker.lambda$main$0:17');
    const prepare = run.steps.filter((s) => s.method === 'prepare' && s.returnValue);
    assert.deepEqual(
      prepare.map((s) => s.returnValue),
      ['10'],
    );
  });

  it('records the frames an uncaught exception unwinds, and the program still fails', () => {
    const run = runWithAgent({ classPath: robustClasses, mainClass: 'fixtures.robust.Uncaught' });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /IllegalArgumentException: doubled=10/);
    assert.ok(run.batch.ended);
    const thrower = run.steps.filter((s) => s.method === 'fail' && s.line === 8);
    assert.equal(thrower.length, 1);
    assert.match(thrower[0].thrown ?? '', /^java\.lang\.IllegalArgumentException@\d+$/);
    // Every frame the exception left records it on its last step, down to main.
    const lastOf = (method: string) => run.steps.filter((s) => s.method === method).at(-1);
    assert.equal(lastOf('call')?.thrown, thrower[0].thrown);
    assert.equal(lastOf('main')?.thrown, thrower[0].thrown);
    assert.equal(lastOf('main')?.line, 19);
  });

  it('runs a class it cannot instrument unchanged and records a warning', () => {
    const plugins = compile(javaFiles(join(ROBUST, 'plugin')));
    const run = runWithAgent({
      classPath: robustClasses,
      mainClass: 'fixtures.robust.CustomLoaded',
      args: [plugins],
      agentOptions: 'include=fixtures.**',
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim().split('\n').at(-1), 'A B');
    assert.ok(
      run.batch.warnings.some((w) => /fixtures\.plugin\.Plugin runs uninstrumented/.test(w)),
      JSON.stringify(run.batch.warnings),
    );
    assert.ok(!run.steps.some((s) => s.className === 'fixtures.plugin.Plugin'));
    // Classes it could instrument in the same loader are recorded.
    assert.ok(run.steps.some((s) => s.className === 'fixtures.plugin.SubA'));
  });

  it('degrades a method that would exceed 64 KB to line-only recording', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bathy-huge-'));
    const lines = Array.from({ length: 3000 }, (_, i) => `        x = x * 31 + ${i % 100};`);
    const source = [
      'public class Huge {',
      '    static int big(int x) {',
      ...lines,
      '        return x;',
      '    }',
      '    public static void main(String[] args) {',
      '        System.out.println(big(1));',
      '    }',
      '}',
    ].join('\n');
    writeFileSync(join(dir, 'Huge.java'), source);
    const classes = compile([join(dir, 'Huge.java')]);
    const plain = spawnSync(javaBin(JDK17), ['-cp', classes, 'Huge'], { encoding: 'utf8' });
    const run = runWithAgent({ classPath: classes, mainClass: 'Huge' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim().split('\n').at(-1), plain.stdout.trim());
    assert.ok(run.batch.warnings.some((w) => /Huge\.big would exceed 64 KB.*lines only/.test(w)));
    const bigSteps = run.steps.filter((s) => s.method === 'big');
    assert.equal(bigSteps.length, 3001);
    assert.ok(bigSteps.every((s) => s.reads.length === 0 && s.writes.length === 0));
    assert.ok(run.steps.some((s) => s.method === 'main' && s.writes.length > 0));
  });

  it('leaves an application that bundles its own ASM unaffected', () => {
    const asm = '/usr/share/java/asm-9.4.jar';
    const classes = compile([join(FIXTURES_DIR, 'bundled/BundledAsm.java')], asm);
    const run = runWithAgent({ classPath: `${classes}:${asm}`, mainClass: 'BundledAsm' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /answer=42 asm=\/usr\/share\/java\/asm-9\.4\.jar agentVisible=false/);
    assert.ok(run.steps.some((s) => s.className === 'BundledAsm'));
    assert.ok(!run.steps.some((s) => s.className.startsWith('org.objectweb')));
  });

  it('stops recording after maxSteps and the program runs on', () => {
    const run = runWithAgent({
      classPath: compileFixtures(),
      mainClass: 'fixtures.Recursion',
      agentOptions: 'maxSteps=10',
    });
    assert.equal(run.status, 0);
    assert.equal(run.stdout.trim().split('\n').at(-1), '120 8');
    // The limit counts line events; steps re-opened after a call returns come on top.
    assert.ok(run.steps.length >= 10 && run.steps.length <= 20, `${run.steps.length} steps`);
  });

  it('streams over WebSocket to the token-checked server, several JVMs at once', async () => {
    const received = new Map<number, JvmStep[]>();
    const closed: number[] = [];
    const server = await JvmAgentServer.start({
      onBatch: (batch, connection) => {
        const list = received.get(connection.id) ?? [];
        list.push(...batch.steps);
        received.set(connection.id, list);
      },
      onClose: (connection) => closed.push(connection.id),
    });
    try {
      assert.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
      const launch = (main: string) =>
        new Promise<number | null>((resolve) => {
          const child = spawn(javaBin(JDK17), [
            `-javaagent:${AGENT_JAR}=${server.agentOptions()}`,
            '-cp',
            compileFixtures(),
            main,
          ]);
          child.on('exit', (code) => resolve(code));
        });
      const codes = await Promise.all([launch('fixtures.Threads'), launch('fixtures.Loops')]);
      assert.deepEqual(codes, [0, 0]);
      for (let i = 0; i < 100 && closed.length < 2; i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(closed.length, 2);
      const all = [...received.values()];
      const threads = all.find((steps) => steps.some((s) => s.thread === 'worker-1'));
      const loops = all.find((steps) => steps.some((s) => s.className === 'fixtures.Loops'));
      assert.ok(threads && loops);
      const file = runWithAgent({ classPath: compileFixtures(), mainClass: 'fixtures.Loops' });
      assert.deepEqual(loops.sort((a, b) => a.seq - b.seq).map(stepKey), file.steps.map(stepKey));
    } finally {
      await server.close();
    }
  });

  it('rejects WebSocket clients without the token', async () => {
    const server = await JvmAgentServer.start({ token: 'secret', onBatch: () => undefined });
    try {
      const attempt = (headers: Record<string, string>) =>
        new Promise<string>((resolve) => {
          const socket = new WebSocket(server.url, { headers });
          socket.on('open', () => {
            socket.close();
            resolve('open');
          });
          socket.on('error', (error) => resolve(String(error.message)));
        });
      assert.match(await attempt({}), /401/);
      assert.match(await attempt({ 'x-bathysphere-token': 'wrong!' }), /401/);
      assert.equal(await attempt({ 'x-bathysphere-token': 'secret' }), 'open');
    } finally {
      await server.close();
    }
  });
});

describe('JVM trace decoder', () => {
  let trace: Uint8Array;

  before(function () {
    this.timeout(300_000);
    ensureAgentBuilt();
    const run = runWithAgent({ classPath: compileFixtures(), mainClass: 'fixtures.Exceptions' });
    trace = readFileSync(run.tracePath);
  });

  it('decodes the same steps whatever way the input is split', () => {
    const whole = decodeTrace(trace).steps.map((s) => `${stepKey(s)} ${JSON.stringify(s.writes)}`);
    for (const size of [1, 7, 64, 1000]) {
      const decoder = new JvmTraceDecoder();
      const steps: JvmStep[] = [];
      for (let i = 0; i < trace.length; i += size) {
        steps.push(...decoder.push(trace.subarray(i, i + size)).steps);
      }
      steps.push(...decoder.end().steps);
      steps.sort((a, b) => a.seq - b.seq);
      assert.deepEqual(
        steps.map((s) => `${stepKey(s)} ${JSON.stringify(s.writes)}`),
        whole,
      );
    }
  });

  it('reports typed errors for malformed input and never throws', () => {
    assert.equal(
      decodeTrace(new TextEncoder().encode('hello world')).batch.errors[0].code,
      'bad-magic',
    );
    const truncated = decodeTrace(trace.subarray(0, trace.length - 10)).batch;
    assert.ok(truncated.errors.some((e) => e.code === 'truncated'));
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let round = 0; round < 300; round++) {
      const corrupted = Uint8Array.from(trace);
      for (let k = 0; k < 5; k++) {
        corrupted[5 + Math.floor(random() * (corrupted.length - 5))] = Math.floor(random() * 256);
      }
      const { batch } = decodeTrace(corrupted); // must not throw
      for (const error of batch.errors) assert.equal(error.name, 'JvmTraceError');
    }
  });

  it('renders values as Java prints them', () => {
    assert.equal(javaDouble(1), '1.0');
    assert.equal(javaDouble(0.1 + 0.2), '0.30000000000000004');
    assert.equal(javaDouble(1e-5), '1.0E-5');
    assert.equal(javaDouble(12345678.9), '1.23456789E7');
    assert.equal(javaDouble(-0), '-0.0');
    assert.equal(javaDouble(100), '100.0');
    assert.equal(javaDouble(0.001), '0.001');
    assert.equal(javaDouble(0.3408), '0.3408');
    assert.equal(javaDouble(-Number.MAX_VALUE), '-1.7976931348623157E308');
    assert.equal(javaFloat(Math.fround(0.1)), '0.1');
    assert.equal(javaFloat(Math.fround(1.5)), '1.5');
    assert.equal(javaFloat(Math.fround(3.4e38)), '3.4E38');
    assert.equal(javaStringLiteral('a"b\\c\n\u0001'), '"a\\"b\\\\c\\n\\u0001"');
  });

  it('prints doubles with the fewest digits that read back as the same double', () => {
    const bits = new Uint32Array(2);
    const double = new Float64Array(bits.buffer);
    let seed = 1;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 20_000; i++) {
      bits[0] = next();
      bits[1] = next();
      const value = double[0];
      if (!Number.isFinite(value)) continue;
      const text = javaDouble(value);
      assert.equal(Number(text), value, text);
      // JavaScript's own text has the fewest digits that read back (ECMA-262 Number::toString).
      const digits = (t: string) =>
        t.split(/[eE]/)[0].replace(/[-.]/g, '').replace(/^0+/, '').replace(/0+$/, '').length;
      assert.equal(digits(text), digits(String(value)), `${text} / ${String(value)}`);
    }
  });
});
