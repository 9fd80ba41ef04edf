/**
 * A recorded session: one SQLite file (extension .bathy) held in memory by
 * sql.js and written back atomically.
 *
 * sql.js keeps the whole database in memory (a file of its in-memory file
 * system). `Database.export()` copies it through SQLite's backup API; sql.js
 * before 1.12 closed and reopened the database instead, freeing prepared
 * statements and resetting pragmas. So, as a rule that holds either way:
 * statements are prepared per operation, never cached across a flush; flushes
 * run on a timer and on close, never on the write path; and a flush only
 * happens between transactions.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import { removeStaleTemporaries, replaceFileAtomically } from './atomicFile';
import { APPLICATION_ID, migrate, SCHEMA_VERSION, schemaVersion } from './schema';
import { loadSqlite } from './sqlite';

export const SESSION_EXTENSION = '.bathy';
export const DEFAULT_FLUSH_INTERVAL_MS = 2000;
/** Room a recording reserves in the in-memory file before it starts (see reserveRoom). */
export const RECORDING_ROOM_BYTES = 64 * 1024 * 1024;

export type TargetKind = 'erlang' | 'jvm' | 'graph';

export interface NewRun {
  targetKind: TargetKind;
  /** Node name (Erlang), main class (JVM), or a free name for plain graphs. */
  target: string;
  project?: string;
  /** How the run was started, e.g. `Main.main` or a connect string. */
  launch?: string;
  metadata?: Record<string, unknown>;
  createdAt?: Date;
}

export interface Run {
  id: number;
  targetKind: TargetKind;
  target: string;
  project: string | null;
  launch: string | null;
  createdAt: string;
  endedAt: string | null;
  metadata: Record<string, unknown>;
}

export interface GraphNodeRecord {
  id: string;
  label: string;
  kind?: string;
  /** Compound parent (e.g. a supervisor grouping its children). */
  parent?: string;
  data?: Record<string, unknown>;
}

export interface GraphEdgeRecord {
  id: string;
  source: string;
  target: string;
  kind?: string;
  data?: Record<string, unknown>;
}

export interface SessionCounts {
  runs: number;
  graphNodes: number;
  graphEdges: number;
}

export interface OpenOptions {
  /** Create the file when it does not exist (default false). */
  create?: boolean;
  /** Write unsaved changes this often; 0 disables the timer (flush and close still write). */
  flushIntervalMs?: number;
  /** Called when a timed flush fails; the data stays in memory and the next flush retries. */
  onFlushError?: (error: Error) => void;
}

/** A session file that cannot be used, with a message fit for one line of output. */
export class SessionFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionFileError';
  }
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

export class SessionStore {
  private dirty = false;
  /** Length of the in-memory file as last laid out by reserveRoom (0: never). */
  private fileLength = 0;
  private closed = false;
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lastFlushError: Error | undefined;

  private constructor(
    readonly file: string,
    private db: Database,
    options: OpenOptions,
  ) {
    this.applyConnectionPragmas();
    const interval = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    if (interval > 0) {
      this.timer = setInterval(() => {
        this.flush().then(
          () => (this.lastFlushError = undefined),
          (error: Error) => {
            this.lastFlushError = error;
            options.onFlushError?.(error);
          },
        );
      }, interval);
      this.timer.unref();
    }
  }

  /** Opens an existing session (or creates one with `create`), migrating it to the current schema. */
  static async open(file: string, options: OpenOptions = {}): Promise<SessionStore> {
    const SQL = await loadSqlite();
    const bytes = readSessionBytes(file, options.create ?? false);
    const db = bytes.length === 0 ? new SQL.Database() : openDatabase(SQL, bytes, file);
    try {
      checkIsSession(db, file);
      const migrated = migrate(db);
      const store = new SessionStore(file, db, options);
      if (bytes.length === 0 || migrated > 0) {
        store.dirty = true;
        await store.flush();
      }
      removeStaleTemporaries(file);
      return store;
    } catch (error) {
      db.close();
      throw error instanceof SessionFileError
        ? error
        : new SessionFileError(`${file}: ${(error as Error).message}`);
    }
  }

  get hasUnsavedChanges(): boolean {
    return this.dirty;
  }

  /** The error of the last failed timed flush, cleared by the next success. */
  get flushError(): Error | undefined {
    return this.lastFlushError;
  }

  addRun(run: NewRun): Run {
    const createdAt = (run.createdAt ?? new Date()).toISOString();
    this.write(() =>
      this.db.run(
        `INSERT INTO runs (target_kind, project, target, launch, created_at, metadata)
         VALUES (?, ?, ?, ?, ?, ?)`,
        [
          run.targetKind,
          run.project ?? null,
          run.target,
          run.launch ?? null,
          createdAt,
          JSON.stringify(run.metadata ?? {}),
        ],
      ),
    );
    const id = Number(this.db.exec('SELECT last_insert_rowid()')[0].values[0][0]);
    return this.run(id)!;
  }

  endRun(runId: number, endedAt = new Date()): void {
    this.write(() =>
      this.db.run('UPDATE runs SET ended_at = ? WHERE id = ?', [endedAt.toISOString(), runId]),
    );
  }

  run(runId: number): Run | undefined {
    return this.query<RunRow>('SELECT * FROM runs WHERE id = ?', [runId]).map(toRun)[0];
  }

  runs(): Run[] {
    return this.query<RunRow>('SELECT * FROM runs ORDER BY id').map(toRun);
  }

  /** Inserts or replaces graph nodes and edges of a run in one transaction. */
  putGraph(runId: number, nodes: GraphNodeRecord[], edges: GraphEdgeRecord[] = []): void {
    this.transaction(() => {
      const nodeInsert = this.db.prepare(
        `INSERT OR REPLACE INTO graph_nodes (run_id, node_id, label, kind, parent, data)
         VALUES (?, ?, ?, ?, ?, ?)`,
      );
      const edgeInsert = this.db.prepare(
        `INSERT OR REPLACE INTO graph_edges (run_id, edge_id, source, target, kind, data)
         VALUES (?, ?, ?, ?, ?, ?)`,
      );
      try {
        for (const n of nodes) {
          nodeInsert.run([
            runId,
            n.id,
            n.label,
            n.kind ?? '',
            n.parent ?? null,
            JSON.stringify(n.data ?? {}),
          ]);
        }
        for (const e of edges) {
          edgeInsert.run([
            runId,
            e.id,
            e.source,
            e.target,
            e.kind ?? '',
            JSON.stringify(e.data ?? {}),
          ]);
        }
      } finally {
        nodeInsert.free();
        edgeInsert.free();
      }
    });
  }

  graph(runId: number): { nodes: GraphNodeRecord[]; edges: GraphEdgeRecord[] } {
    const nodes = this.query<GraphNodeRow>(
      'SELECT node_id, label, kind, parent, data FROM graph_nodes WHERE run_id = ? ORDER BY node_id',
      [runId],
    ).map(toGraphNode);
    const edges = this.query<GraphEdgeRow>(
      'SELECT edge_id, source, target, kind, data FROM graph_edges WHERE run_id = ? ORDER BY edge_id',
      [runId],
    ).map((row) => ({
      id: row.edge_id,
      source: row.source,
      target: row.target,
      kind: row.kind,
      data: JSON.parse(row.data) as Record<string, unknown>,
    }));
    return { nodes, edges };
  }

  graphNode(runId: number, nodeId: string): GraphNodeRecord | undefined {
    return this.query<GraphNodeRow>(
      'SELECT node_id, label, kind, parent, data FROM graph_nodes WHERE run_id = ? AND node_id = ?',
      [runId, nodeId],
    ).map(toGraphNode)[0];
  }

  counts(): SessionCounts {
    const row = this.query<{ runs: number; nodes: number; edges: number }>(
      `SELECT (SELECT count(*) FROM runs) AS runs,
              (SELECT count(*) FROM graph_nodes) AS nodes,
              (SELECT count(*) FROM graph_edges) AS edges`,
    )[0];
    return { runs: row.runs, graphNodes: row.nodes, graphEdges: row.edges };
  }

  /** Runs `body` in one transaction; rolls back and rethrows on error. */
  transaction<T>(body: () => T): T {
    this.assertOpen();
    this.db.run('BEGIN');
    try {
      const result = body();
      this.db.run('COMMIT');
      this.dirty = true;
      return result;
    } catch (error) {
      this.db.run('ROLLBACK');
      throw error;
    }
  }

  /**
   * Rows of a query as objects; for analysis code and exporters. BLOB parameters and columns
   * are Uint8Array. Feature code that writes (JVM trace chunks) calls it inside transaction().
   */
  query<Row>(sql: string, params: (string | number | null | Uint8Array)[] = []): Row[] {
    this.assertOpen();
    const statement = this.db.prepare(sql, params);
    try {
      const rows: Row[] = [];
      while (statement.step()) rows.push(statement.getAsObject() as Row);
      return rows;
    } finally {
      statement.free();
    }
  }

  /**
   * Runs one statement once per parameter row, prepared once: for bulk writes inside
   * transaction(). As fast as multi-row INSERTs on the Erlang ingest, whose long texts cost
   * about a millisecond each to prepare (bench/RESULTS.md), and simpler.
   */
  runForEach(sql: string, rows: Iterable<(string | number | null | Uint8Array)[]>): void {
    this.assertOpen();
    const statement = this.db.prepare(sql);
    try {
      for (const row of rows) statement.run(row);
    } finally {
      statement.free();
    }
  }

  /**
   * Writes the database to its file if anything changed. Concurrent calls are
   * serialised; the file on disk is always a complete database.
   */
  flush(): Promise<void> {
    const next = this.flushing.then(() => this.writeToDisk());
    // Keep the chain alive after a failure so later flushes still run.
    this.flushing = next.catch(() => undefined);
    return next;
  }

  /** Flushes and releases the database. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    try {
      await this.flush();
    } finally {
      this.closed = true;
      this.db.close();
    }
  }

  /**
   * Gives the in-memory database file `bytes` of room past its last page, for a recording
   * about to write a lot. sql.js keeps the file in one array that grows by 12.5% when a
   * page lands past its end, copying the whole file each time: a 60 MB session allocated
   * and copied about 500 MB on the way, a third of the host's time in an Erlang recording
   * (bench/RESULTS.md). SQLite only uses the pages its header counts, so zeroed room after
   * them fills page by page without regrowing, and saves (a backup of those pages) leave
   * it out. Costs one copy of the database when the room left is smaller than asked.
   */
  async reserveRoom(bytes = RECORDING_ROOM_BYTES): Promise<void> {
    this.assertOpen();
    // Loaded before the copy so that nothing can write between the copy and the swap.
    const SQL = await loadSqlite();
    if (this.fileLength - this.databaseBytes() >= bytes) return;
    const image = this.db.export();
    const roomy = new Uint8Array(image.length + bytes);
    roomy.set(image);
    const reopened = new SQL.Database(roomy);
    this.db.close();
    this.db = reopened;
    this.fileLength = roomy.length;
    this.applyConnectionPragmas();
  }

  /** Bytes of the pages SQLite counts in the database (the in-memory file may be longer). */
  private databaseBytes(): number {
    const [row] = this.query<{ bytes: number }>(
      'SELECT (SELECT page_count FROM pragma_page_count) * (SELECT page_size FROM pragma_page_size) AS bytes',
    );
    return row.bytes;
  }

  private async writeToDisk(): Promise<void> {
    if (!this.dirty || this.closed) return;
    // export() must not run inside a transaction (older sql.js also reopened the database,
    // ending prepared statements): writes are synchronous and self-contained, so neither bites.
    const bytes = this.db.export();
    this.applyConnectionPragmas();
    this.dirty = false;
    try {
      await replaceFileAtomically(this.file, bytes);
    } catch (error) {
      this.dirty = true;
      throw new SessionFileError(
        `could not save ${this.file}: ${(error as Error).message} (the recording is kept in memory and saving will be retried)`,
      );
    }
  }

  private write(body: () => void): void {
    this.assertOpen();
    body();
    this.dirty = true;
  }

  private applyConnectionPragmas(): void {
    this.db.run('PRAGMA foreign_keys = ON');
  }

  private assertOpen(): void {
    if (this.closed) throw new SessionFileError(`${this.file} is closed`);
  }
}

interface RunRow {
  id: number;
  target_kind: TargetKind;
  project: string | null;
  target: string;
  launch: string | null;
  created_at: string;
  ended_at: string | null;
  metadata: string;
}

interface GraphNodeRow {
  node_id: string;
  label: string;
  kind: string;
  parent: string | null;
  data: string;
}

interface GraphEdgeRow {
  edge_id: string;
  source: string;
  target: string;
  kind: string;
  data: string;
}

function toRun(row: RunRow): Run {
  return {
    id: row.id,
    targetKind: row.target_kind,
    target: row.target,
    project: row.project,
    launch: row.launch,
    createdAt: row.created_at,
    endedAt: row.ended_at,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  };
}

function toGraphNode(row: GraphNodeRow): GraphNodeRecord {
  return {
    id: row.node_id,
    label: row.label,
    kind: row.kind,
    ...(row.parent === null ? {} : { parent: row.parent }),
    data: JSON.parse(row.data) as Record<string, unknown>,
  };
}

function readSessionBytes(file: string, create: boolean): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && create) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      return new Uint8Array(0);
    }
    if (code === 'ENOENT') throw new SessionFileError(`${file}: no such file`);
    if (code === 'EISDIR')
      throw new SessionFileError(`${file}: is a directory, not a session file`);
    throw new SessionFileError(`${file}: cannot read (${(error as Error).message})`);
  }
}

function openDatabase(
  SQL: Awaited<ReturnType<typeof loadSqlite>>,
  bytes: Uint8Array,
  file: string,
): Database {
  if (bytes.length < 100 || !Buffer.from(bytes.subarray(0, 16)).equals(SQLITE_HEADER)) {
    throw new SessionFileError(`${file}: not a Bathysphere session (not a SQLite database)`);
  }
  const db = new SQL.Database(bytes);
  try {
    const check = db.exec('PRAGMA quick_check')[0].values.map((row) => String(row[0]));
    if (check.length !== 1 || check[0] !== 'ok') {
      throw new Error(check.slice(0, 3).join('; '));
    }
  } catch (error) {
    db.close();
    throw new SessionFileError(
      `${file}: the session file is damaged (${(error as Error).message})`,
    );
  }
  return db;
}

function checkIsSession(db: Database, file: string): void {
  const applicationId = Number(db.exec('PRAGMA application_id')[0].values[0][0]);
  if (applicationId === APPLICATION_ID) return;
  const tables = Number(
    db.exec("SELECT count(*) FROM sqlite_schema WHERE type = 'table'")[0].values[0][0],
  );
  if (applicationId !== 0 || tables > 0 || schemaVersion(db) > 0) {
    throw new SessionFileError(
      `${file}: a SQLite database, but not a Bathysphere session (schema ${SCHEMA_VERSION} expected)`,
    );
  }
}
