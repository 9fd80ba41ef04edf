import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErlangIngest } from '../../../src/extension/erlang/ingest';
import type { ErlangTraceEvent } from '../../../src/extension/erlang/traceEvents';
import { APPLICATION_ID, MIGRATIONS } from '../../../src/extension/store/schema';
import { SessionStore } from '../../../src/extension/store/sessionStore';
import { loadSqlite } from '../../../src/extension/store/sqlite';
import { useTempDir } from '../../support/tempDir';

interface LinkRow {
  a: string;
  b: string;
  active: number;
  since_ts_us: number;
  until_ts_us: number | null;
  changed: number;
}

// Rows name a pair in text order: '<0.100.0>' before '<0.90.0>'.
const P = '<0.90.0>';
const C = '<0.100.0>';
const D = '<0.101.0>';
const link = (ts: number, pid: string, other: string): ErlangTraceEvent => ({
  kind: 'link',
  ts,
  pid,
  other,
});
const unlink = (ts: number, pid: string, other: string): ErlangTraceEvent => ({
  kind: 'unlink',
  ts,
  pid,
  other,
});
const exit = (ts: number, pid: string): ErlangTraceEvent => ({
  kind: 'exit',
  ts,
  pid,
  reason: 'normal',
});

describe('Erlang ingest: links', () => {
  const tempDir = useTempDir();

  async function linksAfter(batches: ErlangTraceEvent[][]): Promise<LinkRow[]> {
    const store = await SessionStore.open(path.join(tempDir(), 's.bathy'), { create: true });
    const run = store.addRun({ targetKind: 'erlang', target: 'n@h' });
    const ingest = new ErlangIngest(store, run.id);
    for (const batch of batches) ingest.ingest(batch);
    const rows = store.query<LinkRow>(
      'SELECT a, b, active, since_ts_us, until_ts_us, changed FROM erlang_links ORDER BY a, b',
    );
    await store.close();
    return rows;
  }

  it('ends the links of a process that dies, and a later link between the pair starts anew', async () => {
    const rows = await linksAfter([
      [link(1, P, C), link(2, P, D)],
      [exit(3, C)],
      [link(5, C, P), unlink(6, P, D), unlink(7, P, D)],
      [exit(8, P)],
    ]);
    assert.deepEqual(rows, [
      { a: C, b: P, active: 0, since_ts_us: 5, until_ts_us: 8, changed: 4 },
      { a: D, b: P, active: 0, since_ts_us: 2, until_ts_us: 6, changed: 3 },
    ]);
  });

  it('keeps the last state when a link ends and starts again within one batch', async () => {
    const rows = await linksAfter([
      [link(1, P, C)],
      [unlink(2, C, P), link(3, P, C), exit(4, D), unlink(5, D, P)],
    ]);
    assert.deepEqual(rows, [
      { a: C, b: P, active: 1, since_ts_us: 3, until_ts_us: null, changed: 2 },
    ]);
  });

  it('stores no row for a link that began and ended between two batches, and its events stay', async () => {
    const store = await SessionStore.open(path.join(tempDir(), 's.bathy'), { create: true });
    const run = store.addRun({ targetKind: 'erlang', target: 'n@h' });
    const ingest = new ErlangIngest(store, run.id);
    ingest.ingest([link(1, P, C), exit(2, C), link(3, P, D)]);
    ingest.ingest([unlink(4, P, D), link(5, D, P), unlink(6, D, P)]);
    const links = store.query<LinkRow>(
      'SELECT a, b, active, since_ts_us, until_ts_us, changed FROM erlang_links ORDER BY a, b',
    );
    // C's link was never on the map; D's first was, after the first batch, so its end is a
    // row; D's second began and ended within the second batch, so the row is the first's.
    assert.deepEqual(links, [
      { a: D, b: P, active: 0, since_ts_us: 3, until_ts_us: 4, changed: 2 },
    ]);
    const events = store.query<{ kind: string; subject: string; other: string }>(
      "SELECT kind, subject, other FROM erlang_events WHERE kind IN ('link', 'unlink') ORDER BY seq",
    );
    assert.deepEqual(
      events.map((e) => `${e.kind} ${e.subject} ${e.other}`),
      [
        `link ${P} ${C}`,
        `link ${P} ${D}`,
        `unlink ${P} ${D}`,
        `link ${D} ${P}`,
        `unlink ${D} ${P}`,
      ],
    );
    await store.close();
  });
});

describe('Erlang ingest: process rows', () => {
  const tempDir = useTempDir();

  it('a session of schema 6 keeps its process rows through the migration, and its checks', async () => {
    const file = path.join(tempDir(), 'six.bathy');
    const SQL = await loadSqlite();
    const db = new SQL.Database();
    for (const migration of MIGRATIONS.slice(0, 6)) db.exec(migration);
    db.exec(`PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = 6;`);
    db.run(
      "INSERT INTO runs (id, target_kind, target, created_at) VALUES (1, 'erlang', 'n@h', 'now')",
    );
    db.run(
      "INSERT INTO erlang_processes (run_id, pid, level, state, exit_reason, first_ts_us, changed) VALUES (1, ?, 'explored', 'dead', 'normal', 5, 1)",
      [C],
    );
    fs.writeFileSync(file, db.export());
    db.close();

    const store = await SessionStore.open(file, { flushIntervalMs: 0 });
    const ingest = new ErlangIngest(store, 1);
    ingest.ingest([exit(7, D)]);
    const rows = store.query<{ pid: string; level: string; state: string; exit_reason: string }>(
      'SELECT pid, level, state, exit_reason FROM erlang_processes ORDER BY pid',
    );
    assert.deepEqual(rows, [
      { pid: C, level: 'explored', state: 'dead', exit_reason: 'normal' },
      { pid: D, level: 'mentioned', state: 'dead', exit_reason: 'normal' },
    ]);
    for (const [level, state] of [
      ['watched', 'alive'],
      ['explored', 'asleep'],
    ])
      assert.throws(
        () =>
          store.query(
            "INSERT INTO erlang_processes (run_id, pid, level, state, first_ts_us, changed) VALUES (1, '<0.7.0>', ?, ?, 1, 1)",
            [level, state],
          ),
        /CHECK constraint failed/,
      );
    await store.close();
  });
});
