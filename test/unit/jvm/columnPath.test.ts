// The recording path (JvmColumnDecoder -> JvmColumnWriter, no object per step) against the
// object path it replaced (JvmTraceDecoder -> JvmTraceWriter): the same bytes, split the same
// way, must give the same steps, values, relations and stored runs. On synthetic streams
// (several threads, batches larger than a chunk, steps straddling chunks and messages) and on
// traces the real agent recorded from the fixture programs, whole and in small slices.

import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHUNK_STEPS } from '../../../src/extension/jvm/chunkCodec';
import { JvmColumnDecoder } from '../../../src/extension/jvm/columnDecoder';
import { JvmColumnWriter } from '../../../src/extension/jvm/columnWriter';
import { JvmTraceDecoder } from '../../../src/extension/jvm/decoder';
import { JvmTraceReader } from '../../../src/extension/jvm/traceReader';
import { JvmTraceWriter } from '../../../src/extension/jvm/traceWriter';
import { SessionStore } from '../../../src/extension/store/sessionStore';
import { decodeBoth } from './bothDecoders';
import { compileFixtures, ensureAgentBuilt, runWithAgent } from './harness';
import { SyntheticWireTrace, type SyntheticWireOptions } from './syntheticWire';

/** Stores the same slices through both paths, as runs 1 (objects) and 2 (columns). */
async function storeBoth(slices: Uint8Array[], sealEvery = 0): Promise<SessionStore> {
  const store = await SessionStore.open(
    join(mkdtempSync(join(tmpdir(), 'bathy-columns-')), 'c.bathy'),
    {
      create: true,
      flushIntervalMs: 0,
    },
  );
  const objectDecoder = new JvmTraceDecoder();
  const objectWriter = new JvmTraceWriter(
    store,
    store.addRun({ targetKind: 'jvm', target: 'x' }).id,
    objectDecoder,
  );
  const columnDecoder = new JvmColumnDecoder();
  const columnWriter = new JvmColumnWriter(
    store,
    store.addRun({ targetKind: 'jvm', target: 'x' }).id,
    columnDecoder,
  );
  slices.forEach((slice, i) => {
    objectWriter.addBatch(objectDecoder.push(slice));
    columnWriter.addColumns(columnDecoder.push(slice));
    if (sealEvery > 0 && (i + 1) % sealEvery === 0) {
      objectWriter.sealOpenChunks();
      columnWriter.sealOpenChunks();
    }
  });
  objectWriter.addBatch(objectDecoder.end());
  columnWriter.addColumns(columnDecoder.end());
  objectWriter.finish();
  columnWriter.finish();
  return store;
}

/** Every stored step, chunk, location and the run's metadata of runs 1 and 2 are equal. */
function assertSameRuns(store: SessionStore): number {
  const rows = (sql: string, run: number) => store.query(sql, [run]);
  for (const sql of [
    'SELECT thread_id, first_order, step_count, first_seq, last_seq, min_depth, raw_bytes FROM jvm_chunks WHERE run_id = ? ORDER BY thread_id, first_order',
    'SELECT thread_id, location_id, first_order FROM jvm_chunk_locations WHERE run_id = ? ORDER BY thread_id, first_order, location_id',
    'SELECT location_id, method_id, line FROM jvm_locations WHERE run_id = ? ORDER BY location_id',
    'SELECT name FROM jvm_names WHERE run_id = ? ORDER BY name',
    'SELECT thread_id, name, is_main, trace_id, step_count FROM jvm_threads WHERE run_id = ? ORDER BY thread_id',
  ]) {
    assert.deepEqual(rows(sql, 2), rows(sql, 1), sql);
  }
  assert.deepEqual(store.run(2)?.metadata, store.run(1)?.metadata);
  const objects = new JvmTraceReader(store, 1);
  const columns = new JvmTraceReader(store, 2);
  let compared = 0;
  for (const thread of objects.threads()) {
    const got = columns.threadSteps(thread.threadId);
    for (const expected of objects.threadSteps(thread.threadId)) {
      assert.deepEqual(
        got.next().value,
        expected,
        `thread ${thread.threadId} order ${expected.order}`,
      );
      compared++;
    }
    assert.equal(got.next().done, true, `no extra steps in thread ${thread.threadId}`);
  }
  return compared;
}

function slicesOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

function synthetic(threads: number, steps: number, options: SyntheticWireOptions): Uint8Array[] {
  return [...new SyntheticWireTrace(threads, steps, options).messages()];
}

describe('JVM column path equals the object path', function () {
  this.timeout(120_000);

  describe('synthetic streams', () => {
    const cases: [string, number, number, SyntheticWireOptions, number][] = [
      ['one thread, default buffers (batches larger than a chunk)', 1, 3 * CHUNK_STEPS + 77, {}, 0],
      ['four threads, default buffers', 4, 2 * CHUNK_STEPS + 5, {}, 0],
      [
        'four threads, small buffers and messages, sealed mid-way',
        4,
        CHUNK_STEPS + 999,
        { bufferBytes: 700, messageBytes: 2500, arraySize: 300, boxes: true },
        3,
      ],
      [
        'three threads, tiny buffers, boxes',
        3,
        2000,
        { bufferBytes: 40, messageBytes: 100, slice: 5, boxes: true },
        7,
      ],
    ];
    for (const [title, threads, steps, options, sealEvery] of cases) {
      it(`${title}: decoded steps and stored runs`, async () => {
        const messages = synthetic(threads, steps, options);
        const decoded = decodeBoth(messages);
        assert.equal(decoded.new.length, threads * steps);
        assert.deepEqual(decoded.new, decoded.old);
        assert.deepEqual(decoded.newErrors, decoded.oldErrors);
        const store = await storeBoth(messages, sealEvery);
        try {
          assert.equal(assertSameRuns(store), threads * steps);
        } finally {
          await store.close();
        }
      });
    }

    it('the same messages cut at arbitrary places (not at chunk boundaries)', async () => {
      const whole = Buffer.concat(synthetic(4, CHUNK_STEPS + 10, { bufferBytes: 3000 }));
      const slices = slicesOf(whole, 1237);
      assert.deepEqual(decodeBoth(slices).new, decodeBoth([whole]).old);
      const store = await storeBoth(slices);
      try {
        assert.equal(assertSameRuns(store), 4 * (CHUNK_STEPS + 10));
      } finally {
        await store.close();
      }
    });

    it('boxes show the value they hold, also where a thread uses one again', () => {
      const decoded = decodeBoth(synthetic(2, 6 * 50, { boxes: true }));
      assert.deepEqual(decoded.new, decoded.old);
      const prefix = 'static demo.Synthetic.latest - = ';
      const latest = (threadId: number, read: boolean) =>
        decoded.old
          .filter((s) => s.threadId === threadId)
          .flatMap((s) => (read ? s.reads : s.writes))
          .filter((a) => a.startsWith(prefix))
          .map((a) => a.slice(prefix.length));
      const first = [
        'null',
        '\u0007', // Character 7
        '-2', // Byte
        '-900', // Short
        '44', // Integer
        '-9223372036854775808', // Long.MIN_VALUE
        '2.0', // Float
        '-1.0', // Double
        'false', // Boolean
        '?', // Character 63
      ];
      for (const thread of [1, 2]) {
        for (const read of [false, true]) {
          const values = latest(thread, read);
          assert.equal(values.length, 50);
          assert.deepEqual(values.slice(0, first.length), first, `${thread}, read: ${read}`);
          // Iteration 41 uses box 0 again (null), 42 box 1 again: known to the thread by now.
          assert.deepEqual(values.slice(41, 43), first.slice(0, 2));
        }
      }
    });

    it('damaged streams: the same steps survive and the same errors are reported', () => {
      const whole = Buffer.concat(synthetic(2, 3000, { bufferBytes: 2000, boxes: true }));
      let seed = 7;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      let errors = 0;
      for (let trial = 0; trial < 20; trial++) {
        const damaged = Buffer.from(whole);
        for (let k = 0; k < 3; k++)
          damaged[20 + Math.floor(random() * (damaged.length - 20))] ^=
            1 + Math.floor(random() * 255);
        const decoded = decodeBoth(slicesOf(damaged, 4096));
        assert.deepEqual(decoded.new, decoded.old, `trial ${trial}`);
        assert.deepEqual(decoded.newErrors, decoded.oldErrors, `trial ${trial}`);
        errors += decoded.oldErrors.length;
      }
      assert.ok(errors > 0, 'the damage was noticed');
    });
  });

  describe('traces recorded by the agent from the fixture programs', () => {
    before(function () {
      this.timeout(300_000);
      ensureAgentBuilt();
    });

    const fixtures = [
      'Values',
      'Boxes',
      'Exceptions',
      'Threads',
      'Arrays',
      'Recursion',
      'Calls',
      'Lambdas',
      'StaticInit',
      'Switches',
      'InnerClasses',
    ];
    for (const fixture of fixtures) {
      it(`${fixture}: whole file and 997-byte slices`, async () => {
        const run = runWithAgent({
          classPath: compileFixtures(),
          mainClass: `fixtures.${fixture}`,
        });
        assert.equal(run.status, 0, run.stderr);
        const bytes = readFileSync(run.tracePath);
        for (const slices of [[bytes], slicesOf(bytes, 997)]) {
          const decoded = decodeBoth(slices);
          assert.ok(decoded.new.length > 10, `${decoded.new.length} steps`);
          if (fixture === 'Exceptions') {
            // Exits by exception and handlers: the steps marked after they were closed.
            assert.ok(decoded.new.some((s) => s.thrown) && decoded.new.some((s) => s.caught));
          }
          assert.deepEqual(decoded.new, decoded.old);
          assert.deepEqual(decoded.newErrors, decoded.oldErrors);
          const store = await storeBoth(slices, 5);
          try {
            assert.equal(assertSameRuns(store), decoded.old.length);
          } finally {
            await store.close();
          }
        }
      });
    }
  });
});
