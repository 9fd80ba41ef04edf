import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErlangIngest } from '../../../src/extension/erlang/ingest';
import { PidSet } from '../../../src/extension/erlang/pidSet';
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

describe('Erlang ingest: dead processes leave memory', () => {
  const tempDir = useTempDir();

  it('a late event about a dead process whose row is written keeps the row dead', async () => {
    const store = await SessionStore.open(path.join(tempDir(), 's.bathy'), { create: true });
    const run = store.addRun({ targetKind: 'erlang', target: 'n@h' });
    const ingest = new ErlangIngest(store, run.id);
    ingest.ingest([
      { kind: 'spawn', ts: 1, pid: P, child: C, mfa: 'm:f/0' },
      { kind: 'exit', ts: 2, pid: C, reason: 'killed' },
      { kind: 'exit', ts: 3, pid: '<0.7.2>', reason: 'normal' },
    ]);
    // Both dead rows are written and forgotten; these events name them again.
    ingest.ingest([{ kind: 'register', ts: 4, pid: C, name: 'late_name' }, link(5, '<0.7.2>', P)]);
    ingest.mention([C, '<0.8.0>'], 6);
    const rows = store.query<Record<string, unknown>>(
      'SELECT pid, level, state, exit_reason, registered_name, parent, initial_call, first_ts_us, exited_ts_us, changed FROM erlang_processes ORDER BY pid',
    );
    assert.deepEqual(rows, [
      {
        pid: C,
        level: 'explored',
        state: 'dead',
        exit_reason: 'killed',
        registered_name: 'late_name',
        parent: P,
        initial_call: 'm:f/0',
        first_ts_us: 1,
        exited_ts_us: 2,
        changed: 3,
      },
      {
        pid: '<0.7.2>',
        level: 'mentioned',
        state: 'dead',
        exit_reason: 'normal',
        registered_name: null,
        parent: null,
        initial_call: null,
        first_ts_us: 3,
        exited_ts_us: 3,
        changed: 2,
      },
      {
        pid: '<0.8.0>',
        level: 'mentioned',
        state: 'alive',
        exit_reason: null,
        registered_name: null,
        parent: null,
        initial_call: null,
        first_ts_us: 6,
        exited_ts_us: null,
        changed: 3,
      },
      {
        pid: P,
        level: 'mentioned',
        state: 'alive',
        exit_reason: null,
        registered_name: null,
        parent: null,
        initial_call: null,
        first_ts_us: 1,
        exited_ts_us: null,
        changed: 2,
      },
    ]);
    assert.deepEqual(ingest.processCounts(), { explored: 1, mentioned: 3, dead: 2 });
    await store.close();
  });

  it('remembers pids of every shape, the usual ones as bits', () => {
    const set = new PidSet();
    const asBits = ['<0.0.0>', '<0.5.0>', '<0.21080.13>', '<0.32767.8191>', '<0.5.1>'];
    const asText = [
      '<0.32768.0>',
      '<0.5.8192>',
      '<0.123456789.0>',
      '<0.07.0>',
      '<0..0>',
      '<9.5.0>',
      'name',
    ];
    for (const pid of [...asBits, ...asText]) set.add(pid);
    for (const pid of [...asBits, ...asText]) assert.equal(set.has(pid), true, pid);
    const absent = [
      '<0.1.0>',
      '<0.7.0>',
      '<0.5.2>',
      '<0.21080.12>',
      '<0.21081.13>',
      '<0.32768.1>',
      '<9.6.0>',
    ];
    for (const pid of absent) assert.equal(set.has(pid), false, pid);
  });
});
