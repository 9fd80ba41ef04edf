import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { erlangEventRecords } from '../../../src/extension/erlang/exportRecords';
import {
  ChunkEncoder,
  EVENTS_PER_CHUNK,
  eventColumns,
  genericColumns,
} from '../../../src/extension/erlang/eventChunks';
import { ErlangIngest } from '../../../src/extension/erlang/ingest';
import { processTimeline } from '../../../src/extension/erlang/timeline';
import type { ErlangTraceEvent } from '../../../src/extension/erlang/traceEvents';
import { APPLICATION_ID, MIGRATIONS } from '../../../src/extension/store/schema';
import { SessionStore } from '../../../src/extension/store/sessionStore';
import { loadSqlite } from '../../../src/extension/store/sqlite';
import { useTempDir } from '../../support/tempDir';

/** An erlang_events row as the table held it before events were chunked. */
interface EventRow {
  run_id: number;
  seq: number;
  ts_us: number;
  kind: string;
  subject: string | null;
  other: string | null;
  detail: string | null;
}

const KINDS: ((n: number, ts: number) => ErlangTraceEvent)[] = [
  (n, ts) => ({ kind: 'spawn', ts, pid: '<0.90.0>', child: `<0.${n}.0>`, mfa: 'm:f/0' }),
  (n, ts) => ({ kind: 'exit', ts, pid: `<0.${n}.0>`, reason: n % 3 ? 'normal' : 'bädarg "x"' }),
  (n, ts) => ({ kind: 'send', ts, pid: '<0.90.0>', to: `<0.${n}.0>`, bytes: n, text: `{m,${n}}` }),
  (n, ts) => ({ kind: 'link', ts, pid: '<0.90.0>', other: `<0.${n}.0>` }),
  (n, ts) => ({ kind: 'register', ts, pid: `<0.${n}.0>`, name: `'name ${n}'` }),
  (_n, ts) => ({ kind: 'stopped', ts, reason: 'normal' }),
];

/**
 * Batches of the given sizes, each sorted by time; consecutive batches overlap in time
 * (as batches from different schedulers do) and some events share a timestamp.
 */
function batches(sizes: number[]): ErlangTraceEvent[][] {
  let n = 0;
  let base = 1_700_000_000_000_000;
  return sizes.map((size) => {
    const batch: ErlangTraceEvent[] = [];
    for (let i = 0; i < size; i++, n++) batch.push(KINDS[n % KINDS.length](n, base + (i >> 1)));
    base += Math.max(1, size >> 2);
    return batch;
  });
}

/** The rows the per-event table held: seq numbers events in arrival order from 1. */
function rowsOf(runId: number, events: ErlangTraceEvent[], firstSeq = 1): EventRow[] {
  return events.map((event, i) => ({
    run_id: runId,
    seq: firstSeq + i,
    ts_us: event.ts,
    kind: event.kind,
    ...eventColumns(event),
  }));
}

/** What export wrote from the per-event table: rows by (ts_us, seq), detail spread first. */
function expectedRecords(rows: EventRow[]) {
  return [...rows]
    .sort((a, b) => a.ts_us - b.ts_us || a.seq - b.seq)
    .map((row) => ({
      ...(row.detail ? (JSON.parse(row.detail) as object) : {}),
      type: 'erlang_event',
      run: row.run_id,
      seq: row.seq,
      ts: row.ts_us,
      kind: row.kind,
      subject: row.subject,
      other: row.other,
    }));
}

function viewRows(store: SessionStore, runId: number): EventRow[] {
  return store.query<EventRow>(
    'SELECT run_id, seq, ts_us, kind, subject, other, detail FROM erlang_events WHERE run_id = ? ORDER BY seq',
    [runId],
  );
}

/** A session file as schema 4 wrote it: events one row each in the erlang_events table. */
async function writeSchema4Session(file: string, rows: EventRow[], runs: number[]) {
  const SQL = await loadSqlite();
  const db = new SQL.Database();
  for (const migration of MIGRATIONS.slice(0, 4)) db.exec(migration);
  db.exec(`PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = 4;`);
  for (const id of runs)
    db.run(
      "INSERT INTO runs (id, target_kind, target, created_at) VALUES (?, 'erlang', 'n@h', 'now')",
      [id],
    );
  const insert = db.prepare('INSERT INTO erlang_events VALUES (?, ?, ?, ?, ?, ?, ?)');
  for (const r of rows)
    insert.run([r.run_id, r.seq, r.ts_us, r.kind, r.subject, r.other, r.detail]);
  insert.free();
  fs.writeFileSync(file, db.export());
  db.close();
}

function hasSqlite3(): boolean {
  try {
    execFileSync('sqlite3', ['--version']);
    return true;
  } catch {
    return false;
  }
}

describe('Erlang events in chunks', () => {
  const tempDir = useTempDir();

  it('writes the JSON the generic mapping gives, for awkward text and numbers too', () => {
    const awkward: ErlangTraceEvent[] = [
      { kind: 'send', ts: 0, pid: '<0.5.0>', to: 'näme', bytes: 0, text: 'a"b\\c\n\u0001 ✓ 😀' },
      { kind: 'exit', ts: 2 ** 53 - 1, pid: '<0.9.0>', reason: '{shutdown,"ü"}' },
      { kind: 'exit', ts: 11, pid: '<0.9.0>', reason: 'tab\there\\ \x7f~ \u2028' },
      { kind: 'spawn', ts: 10, pid: '<0.5.0>', child: '<0.9.0>', mfa: "'Mod é':f/0" },
      { kind: 'island', ts: 9_999_999_999, pid: '<0.9.0>', change: 'joined' },
      { kind: 'link', ts: 1_700_000_000_123_456, pid: '<0.5.0>', other: '<0.9.0>' },
      {
        kind: 'summary',
        ts: -3,
        pid: '<0.5.0>',
        untilTs: 4,
        counts: { send: 7 },
        bytes: 1.5,
        peers: [],
      },
      { kind: 'gone', ts: 100_000_000, pid: '<0.9.0>' },
      { kind: 'gone', ts: 100_000_000_000_007, pid: '<0.9.0>' },
    ];
    const encoder = new ChunkEncoder();
    // More than once, so later chunks reuse the buffer and the names cached by the first;
    // the last numbers its events across 10^8, where numbers are written in two halves.
    for (const afterSeq of [0, 41, 99_999_996]) {
      const chunk = encoder.encode(awkward, 0, awkward.length, afterSeq);
      const expected = awkward.map((event, i) => {
        const { subject, other, detail } = genericColumns(event);
        return [
          afterSeq + 1 + i,
          event.ts,
          event.kind,
          subject,
          other,
          detail && JSON.parse(detail),
        ];
      });
      assert.deepEqual(JSON.parse(Buffer.from(chunk.json).toString('utf8')), expected);
      assert.deepEqual(
        [chunk.firstSeq, chunk.lastSeq, chunk.count, chunk.minTs, chunk.maxTs],
        [afterSeq + 1, afterSeq + awkward.length, awkward.length, -3, 2 ** 53 - 1],
      );
    }
  });

  it('splits each batch into equal chunks of at most EVENTS_PER_CHUNK, seq contiguous', async () => {
    const store = await SessionStore.open(path.join(tempDir(), 's.bathy'), { create: true });
    const run = store.addRun({ targetKind: 'erlang', target: 'n@h' });
    const ingest = new ErlangIngest(store, run.id);
    const sizes = [1, EVENTS_PER_CHUNK, EVENTS_PER_CHUNK + 1, 5000, 2 * EVENTS_PER_CHUNK + 1];
    const all = batches(sizes);
    for (const batch of all) ingest.ingest(batch);
    const chunks = store.query<{
      first_seq: number;
      last_seq: number;
      event_count: number;
      min_ts_us: number;
      max_ts_us: number;
    }>(
      'SELECT first_seq, last_seq, event_count, min_ts_us, max_ts_us FROM erlang_event_chunks WHERE run_id = ? ORDER BY first_seq',
      [run.id],
    );
    assert.deepEqual(
      chunks.map((c) => c.event_count),
      [1, 4096, 2049, 2048, 2500, 2500, 2731, 2731, 2731],
    );
    let seq = 0;
    const flat = all.flat();
    for (const chunk of chunks) {
      assert.equal(chunk.first_seq, seq + 1);
      assert.equal(chunk.last_seq - chunk.first_seq + 1, chunk.event_count);
      const events = flat.slice(seq, chunk.last_seq);
      assert.equal(chunk.min_ts_us, Math.min(...events.map((e) => e.ts)));
      assert.equal(chunk.max_ts_us, Math.max(...events.map((e) => e.ts)));
      seq = chunk.last_seq;
    }
    assert.equal(seq, flat.length);
    assert.equal(ingest.eventCount, flat.length);
    await store.close();
  });

  it('the erlang_events view gives every event with the columns the table had', async () => {
    const file = path.join(tempDir(), 'v.bathy');
    const store = await SessionStore.open(file, { create: true });
    const run = store.addRun({ targetKind: 'erlang', target: 'n@h' });
    const ingest = new ErlangIngest(store, run.id);
    const all = batches([3000, 6000, 10]);
    for (const batch of all) ingest.ingest(batch);
    assert.deepEqual(viewRows(store, run.id), rowsOf(run.id, all.flat()));
    assert.deepEqual(
      store.query(
        'SELECT subject, count(*) AS n FROM erlang_events WHERE kind = ? GROUP BY subject',
        ['spawn'],
      ),
      [{ subject: '<0.90.0>', n: all.flat().filter((e) => e.kind === 'spawn').length }],
    );
    await store.close();
  });

  it('exports in (ts, seq) order across overlapping chunks, and the timeline ends at the last event', async () => {
    const store = await SessionStore.open(path.join(tempDir(), 'e.bathy'), { create: true });
    const run = store.addRun({ targetKind: 'erlang', target: 'n@h' });
    const ingest = new ErlangIngest(store, run.id);
    const all = batches([5000, 5000, 1, 7000, 40]);
    // The last event comes well after every exit: only the last event puts the axis' end there.
    const lastTs = Math.max(...all.flat().map((e) => e.ts)) + 1000;
    all.push([{ kind: 'send', ts: lastTs, pid: '<0.90.0>', to: '<0.91.0>', bytes: 1, text: 'x' }]);
    for (const batch of all) ingest.ingest(batch);
    const exported = [...erlangEventRecords(store, run.id)];
    assert.deepEqual(exported, expectedRecords(rowsOf(run.id, all.flat())));
    const { nodes } = processTimeline(store, run.id);
    const exits = nodes.filter((n) => n.kind === 'dead').map((n) => n.position!.x);
    assert.ok(exits.length > 0 && Math.max(...exits) < 999);
    assert.equal(Math.max(...nodes.map((n) => n.position!.x)), 1000);
    await store.close();
  });

  describe('a session written with one row per event', () => {
    const runs = [1, 2];
    const first = batches([3000, 5000]).flat();
    const second = batches([9000]).flat();
    // A gap in seq: a batch whose transaction was rolled back had used its numbers.
    const rows = [
      ...rowsOf(1, first),
      ...rowsOf(2, second.slice(0, 100)),
      ...rowsOf(2, second.slice(100), 500),
    ];

    it('opens migrated: same rows through the view, same export, and reopens', async () => {
      const file = path.join(tempDir(), 'old.bathy');
      await writeSchema4Session(file, rows, runs);
      const store = await SessionStore.open(file);
      for (const id of runs) {
        const ofRun = rows.filter((r) => r.run_id === id);
        assert.deepEqual(viewRows(store, id), ofRun);
        assert.deepEqual([...erlangEventRecords(store, id)], expectedRecords(ofRun));
      }
      const chunkSizes = store.query<{ n: number }>(
        'SELECT event_count AS n FROM erlang_event_chunks WHERE run_id = 2 ORDER BY first_seq',
      );
      assert.deepEqual(
        chunkSizes.map((c) => c.n),
        [4096, 4096, 808],
      );
      await store.close();
      const reopened = await SessionStore.open(file);
      assert.deepEqual(
        viewRows(reopened, 1),
        rows.filter((r) => r.run_id === 1),
      );
      await reopened.close();
    });

    it('the sqlite3 command reads the migrated view', async function () {
      if (!hasSqlite3()) this.skip();
      const file = path.join(tempDir(), 'cli.bathy');
      await writeSchema4Session(file, rows, runs);
      await (await SessionStore.open(file)).close();
      const out = execFileSync('sqlite3', [
        file,
        'SELECT count(*), sum(seq), max(ts_us) FROM erlang_events WHERE run_id = 2; SELECT detail FROM erlang_events WHERE run_id = 1 AND seq = 2;',
      ]).toString();
      const ofRun2 = rows.filter((r) => r.run_id === 2);
      assert.deepEqual(out.trim().split('\n'), [
        `${ofRun2.length}|${ofRun2.reduce((s, r) => s + r.seq, 0)}|${Math.max(...ofRun2.map((r) => r.ts_us))}`,
        rows[1].detail,
      ]);
    });
  });
});
