import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { APPLICATION_ID, SCHEMA_VERSION } from '../../../src/extension/store/schema';
import { SessionFileError, SessionStore } from '../../../src/extension/store/sessionStore';
import { loadSqlite } from '../../../src/extension/store/sqlite';
import { SAMPLE_GRAPH, writeSampleSession } from '../../support/sampleSession';
import { useTempDir } from '../../support/tempDir';

function hasSqlite3(): boolean {
  try {
    execFileSync('sqlite3', ['--version']);
    return true;
  } catch {
    return false;
  }
}

describe('SessionStore', () => {
  const tempDir = useTempDir();

  it('creates a file that reopens with its runs and graph', async () => {
    const file = path.join(tempDir(), 'a.bathy');
    await writeSampleSession(file);
    const store = await SessionStore.open(file);
    try {
      const runs = store.runs();
      assert.equal(runs.length, 1);
      assert.equal(runs[0].targetKind, 'graph');
      assert.equal(runs[0].project, 'demo');
      assert.match(runs[0].createdAt, /^\d{4}-\d\d-\d\dT/);
      const graph = store.graph(runs[0].id);
      assert.deepEqual(
        graph.nodes.map((n) => n.id),
        ['a', 'b', 'c', 'd', 'sup'],
      );
      assert.deepEqual(graph.nodes.find((n) => n.id === 'c')?.data, { memory: 4096 });
      assert.equal(graph.edges.length, SAMPLE_GRAPH.edges.length);
      assert.deepEqual(store.counts(), { runs: 1, graphNodes: 5, graphEdges: 4 });
    } finally {
      await store.close();
    }
  });

  it('writes a file the sqlite3 command opens as-is, with schema version and application id', async function () {
    if (!hasSqlite3()) this.skip();
    const file = path.join(tempDir(), 'b.bathy');
    await writeSampleSession(file);
    const out = execFileSync('sqlite3', [
      file,
      'PRAGMA integrity_check; PRAGMA user_version; PRAGMA application_id; SELECT count(*) FROM graph_nodes;',
    ]).toString();
    assert.deepEqual(out.trim().split('\n'), [
      'ok',
      String(SCHEMA_VERSION),
      String(APPLICATION_ID),
      '5',
    ]);
  });

  it('keeps changes in memory until flushed, then writes them', async () => {
    const file = path.join(tempDir(), 'c.bathy');
    const store = await SessionStore.open(file, { create: true, flushIntervalMs: 0 });
    store.addRun({ targetKind: 'jvm', target: 'demo.Main', launch: 'demo.Main.main' });
    assert.equal(store.hasUnsavedChanges, true);
    const before = await SessionStore.open(file, { flushIntervalMs: 0 });
    assert.equal(before.runs().length, 0, 'nothing written before flush');
    await before.close();
    await store.flush();
    assert.equal(store.hasUnsavedChanges, false);
    const after = await SessionStore.open(file, { flushIntervalMs: 0 });
    assert.equal(after.runs()[0].launch, 'demo.Main.main');
    await after.close();
    await store.close();
  });

  it('flushes on its own timer', async () => {
    const file = path.join(tempDir(), 'd.bathy');
    const store = await SessionStore.open(file, { create: true, flushIntervalMs: 50 });
    store.addRun({ targetKind: 'erlang', target: 'demo@localhost' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(store.hasUnsavedChanges, false);
    const reader = await SessionStore.open(file, { flushIntervalMs: 0 });
    assert.equal(reader.runs()[0].target, 'demo@localhost');
    await reader.close();
    await store.close();
  });

  it('prepared statements keep working across flushes (export reopens the database)', async () => {
    const file = path.join(tempDir(), 'e.bathy');
    const store = await SessionStore.open(file, { create: true, flushIntervalMs: 0 });
    const run = store.addRun({ targetKind: 'graph', target: 'g' });
    for (let i = 0; i < 5; i++) {
      store.putGraph(run.id, [{ id: `n${i}`, label: `n${i}` }]);
      await store.flush();
    }
    assert.equal(store.graph(run.id).nodes.length, 5);
    // Foreign keys are a per-connection pragma that export() resets; it must be on again.
    assert.throws(() => store.putGraph(999, [{ id: 'x', label: 'x' }]), /FOREIGN KEY/);
    await store.close();
  });

  it('rolls back a failed transaction and keeps earlier data', async () => {
    const file = path.join(tempDir(), 'f.bathy');
    const store = await SessionStore.open(file, { create: true, flushIntervalMs: 0 });
    const run = store.addRun({ targetKind: 'graph', target: 'g' });
    store.putGraph(run.id, [{ id: 'kept', label: 'kept' }]);
    assert.throws(() =>
      store.transaction(() => {
        store.putGraph(run.id, [{ id: 'lost', label: 'lost' }]);
        throw new Error('boom');
      }),
    );
    assert.deepEqual(
      store.graph(run.id).nodes.map((n) => n.id),
      ['kept'],
    );
    await store.close();
  });

  describe('room reserved for a recording', () => {
    const ROOM = 4 * 1024 * 1024;

    it('fills the room, keeps everything written, and saves only the pages SQLite counts', async () => {
      const file = path.join(tempDir(), 'room.bathy');
      const store = await SessionStore.open(file, { create: true, flushIntervalMs: 0 });
      const before = store.addRun({ targetKind: 'graph', target: 'before' });
      store.putGraph(before.id, [{ id: 'old', label: 'old' }]);
      await store.reserveRoom(ROOM);
      const run = store.addRun({ targetKind: 'graph', target: 'after' });
      // About 6 MB of rows: more than the room, so the file also grows past it.
      const nodes = Array.from({ length: 3000 }, (_, i) => ({
        id: `n${i}`,
        label: `node ${i}`,
        data: { text: 'x'.repeat(2000) },
      }));
      store.putGraph(run.id, nodes);
      await store.flush();
      const [{ pages, size }] = store.query<{ pages: number; size: number }>(
        'SELECT (SELECT page_count FROM pragma_page_count) AS pages, (SELECT page_size FROM pragma_page_size) AS size',
      );
      await store.close();

      const saved = fs.readFileSync(file);
      assert.equal(saved.length, pages * size, 'no reserved room in the saved file');
      const reopened = await SessionStore.open(file);
      try {
        assert.deepEqual(
          reopened.runs().map((r) => r.target),
          ['before', 'after'],
        );
        assert.equal(reopened.graph(run.id).nodes.length, 3000);
        assert.deepEqual(
          reopened.graph(before.id).nodes.map((n) => n.id),
          ['old'],
        );
        assert.deepEqual(reopened.query('PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
      } finally {
        await reopened.close();
      }
    });

    it('the room outlives a save, so a second reservation with room left copies nothing', async () => {
      const file = path.join(tempDir(), 'room2.bathy');
      const store = await SessionStore.open(file, { create: true, flushIntervalMs: 0 });
      const database = () => (store as unknown as { db: object }).db;
      await store.reserveRoom(ROOM);
      const reserved = database();
      const run = store.addRun({ targetKind: 'graph', target: 'g' });
      store.putGraph(run.id, [{ id: 'a', label: 'a' }]);
      await store.flush();
      await store.reserveRoom(1024 * 1024);
      assert.equal(database(), reserved, 'the database was copied again');
      await store.reserveRoom(ROOM + 1);
      assert.notEqual(database(), reserved, 'less room left than asked: a new copy');
      assert.equal(store.graph(run.id).nodes.length, 1);
      await store.close();
    });
  });

  describe('refuses unusable files with one clear message', () => {
    async function openError(file: string): Promise<SessionFileError> {
      try {
        const store = await SessionStore.open(file);
        await store.close();
      } catch (error) {
        assert.ok(error instanceof SessionFileError, `unexpected ${String(error)}`);
        return error;
      }
      assert.fail('expected the open to fail');
    }

    it('a missing file', async () => {
      const error = await openError(path.join(tempDir(), 'missing.bathy'));
      assert.match(error.message, /no such file/);
    });

    it('a text file', async () => {
      const file = path.join(tempDir(), 'notes.bathy');
      fs.writeFileSync(file, 'hello, this is not a database\n'.repeat(10));
      assert.match((await openError(file)).message, /not a SQLite database/);
    });

    it('a damaged session (pages overwritten)', async () => {
      const file = path.join(tempDir(), 'damaged.bathy');
      await writeSampleSession(file);
      const bytes = fs.readFileSync(file);
      bytes.fill(0xab, 100, bytes.length); // keep the header, wreck every page
      fs.writeFileSync(file, bytes);
      assert.match((await openError(file)).message, /damaged|malformed|not a database/);
    });

    it('a truncated session', async () => {
      const file = path.join(tempDir(), 'truncated.bathy');
      await writeSampleSession(file);
      fs.truncateSync(file, 120);
      assert.match((await openError(file)).message, /damaged|malformed|not a database/);
    });

    it('a SQLite database of another program', async () => {
      const SQL = await loadSqlite();
      const db = new SQL.Database();
      db.run('CREATE TABLE t (x)');
      const file = path.join(tempDir(), 'other.db');
      fs.writeFileSync(file, db.export());
      db.close();
      assert.match((await openError(file)).message, /not a Bathysphere session/);
    });

    it('a session from a newer Bathysphere', async () => {
      const file = path.join(tempDir(), 'future.bathy');
      await writeSampleSession(file);
      const SQL = await loadSqlite();
      const db = new SQL.Database(fs.readFileSync(file));
      db.run(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
      fs.writeFileSync(file, db.export());
      db.close();
      assert.match((await openError(file)).message, /newer Bathysphere/);
    });
  });

  it('a failed save keeps the old file intact and the data in memory', async () => {
    const dir = path.join(tempDir(), 'gone');
    fs.mkdirSync(dir);
    const file = path.join(dir, 's.bathy');
    const store = await SessionStore.open(file, { create: true, flushIntervalMs: 0 });
    store.addRun({ targetKind: 'graph', target: 'g' });
    fs.rmSync(dir, { recursive: true }); // the folder vanishes (unmounted disk, deleted by hand)
    await assert.rejects(store.flush(), /could not save .*kept in memory/);
    assert.equal(store.hasUnsavedChanges, true);
    fs.mkdirSync(dir);
    await store.flush();
    const reader = await SessionStore.open(file, { flushIntervalMs: 0 });
    assert.equal(reader.runs().length, 1);
    await reader.close();
    await store.close();
  });
});
