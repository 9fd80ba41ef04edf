/**
 * The session file's schema, as an ordered list of migrations.
 *
 * `PRAGMA user_version` holds the number of migrations applied; opening a file
 * applies the missing ones in one transaction. Never edit a released
 * migration: append a new one. docs/session-schema.md documents the result for
 * researchers who query session files directly.
 */
import type { Database } from 'sql.js';

/** 'BATH' in ASCII: marks a SQLite file as a Bathysphere session. */
export const APPLICATION_ID = 0x42415448;

export const MIGRATIONS: readonly string[] = [
  // 1: runs and the generic graph that graph panels draw.
  `
  CREATE TABLE session_info (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    target_kind   TEXT NOT NULL CHECK (target_kind IN ('erlang', 'jvm', 'graph')),
    project       TEXT,
    target        TEXT NOT NULL,
    launch        TEXT,
    created_at    TEXT NOT NULL,
    ended_at      TEXT,
    metadata      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata))
  );

  CREATE TABLE graph_nodes (
    run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    node_id  TEXT NOT NULL,
    label    TEXT NOT NULL,
    kind     TEXT NOT NULL DEFAULT '',
    parent   TEXT,
    data     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
    PRIMARY KEY (run_id, node_id)
  ) WITHOUT ROWID;

  CREATE TABLE graph_edges (
    run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    edge_id  TEXT NOT NULL,
    source   TEXT NOT NULL,
    target   TEXT NOT NULL,
    kind     TEXT NOT NULL DEFAULT '',
    data     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
    PRIMARY KEY (run_id, edge_id)
  ) WITHOUT ROWID;
  CREATE INDEX graph_edges_by_source ON graph_edges (run_id, source);
  CREATE INDEX graph_edges_by_target ON graph_edges (run_id, target);
  `,
  // 2: JVM traces: dictionaries in plain tables, steps in compressed per-thread chunks
  // (encoding in docs/session-schema.md and src/extension/jvm/chunkCodec.ts).
  `
  CREATE TABLE jvm_threads (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    thread_id   INTEGER NOT NULL,
    name        TEXT NOT NULL,
    is_main     INTEGER NOT NULL DEFAULT 0,
    trace_id    TEXT NOT NULL DEFAULT '',
    step_count  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, thread_id)
  ) WITHOUT ROWID;

  CREATE TABLE jvm_methods (
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    method_id    INTEGER NOT NULL,
    class_name   TEXT NOT NULL,
    source_file  TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL,
    descriptor   TEXT NOT NULL,
    is_static    INTEGER NOT NULL DEFAULT 0,
    lines        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(lines)),
    PRIMARY KEY (run_id, method_id)
  ) WITHOUT ROWID;

  CREATE TABLE jvm_locations (
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    location_id  INTEGER NOT NULL,
    method_id    INTEGER NOT NULL,
    line         INTEGER NOT NULL,
    PRIMARY KEY (run_id, location_id)
  ) WITHOUT ROWID;
  CREATE INDEX jvm_locations_by_line ON jvm_locations (run_id, line);

  CREATE TABLE jvm_names (
    run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name_id  INTEGER NOT NULL,
    name     TEXT NOT NULL,
    PRIMARY KEY (run_id, name_id)
  ) WITHOUT ROWID;

  CREATE TABLE jvm_chunks (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    thread_id    INTEGER NOT NULL,
    first_order  INTEGER NOT NULL,
    step_count   INTEGER NOT NULL,
    first_seq    INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL,
    min_depth    INTEGER NOT NULL,
    encoding     INTEGER NOT NULL,
    raw_bytes    INTEGER NOT NULL,
    data         BLOB NOT NULL
  );
  CREATE UNIQUE INDEX jvm_chunks_by_order ON jvm_chunks (run_id, thread_id, first_order);

  CREATE TABLE jvm_chunk_locations (
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    thread_id    INTEGER NOT NULL,
    location_id  INTEGER NOT NULL,
    first_order  INTEGER NOT NULL,
    PRIMARY KEY (run_id, thread_id, location_id, first_order)
  ) WITHOUT ROWID;

  CREATE VIEW jvm_step_counts AS
    SELECT run_id, count(*) AS threads, sum(step_count) AS steps
    FROM jvm_threads GROUP BY run_id;
  `,
  // 3: Erlang tracing: the event stream plus tables materialised from it for the process map
  // (written by src/extension/erlang/ingest.ts; documented in docs/session-schema.md).
  `
  CREATE TABLE erlang_events (
    run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    ts_us    INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    subject  TEXT,
    other    TEXT,
    detail   TEXT CHECK (detail IS NULL OR json_valid(detail)),
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX erlang_events_by_subject ON erlang_events (run_id, subject, ts_us);
  CREATE INDEX erlang_events_by_time ON erlang_events (run_id, ts_us);

  CREATE TABLE erlang_processes (
    run_id           INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    pid              TEXT NOT NULL,
    level            TEXT NOT NULL CHECK (level IN ('mentioned', 'explored', 'listened')),
    chosen           INTEGER NOT NULL DEFAULT 0,
    boundary         INTEGER NOT NULL DEFAULT 0,
    state            TEXT NOT NULL CHECK (state IN ('alive', 'dead')),
    exit_reason      TEXT,
    registered_name  TEXT,
    initial_call     TEXT,
    parent           TEXT,
    ancestors        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(ancestors)),
    application      TEXT,
    trap_exit        INTEGER,
    first_ts_us      INTEGER NOT NULL,
    spawned_ts_us    INTEGER,
    exited_ts_us     INTEGER,
    changed          INTEGER NOT NULL,
    PRIMARY KEY (run_id, pid)
  ) WITHOUT ROWID;

  CREATE TABLE erlang_links (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    a           TEXT NOT NULL,
    b           TEXT NOT NULL,
    active      INTEGER NOT NULL,
    since_ts_us INTEGER NOT NULL,
    until_ts_us INTEGER,
    changed     INTEGER NOT NULL,
    PRIMARY KEY (run_id, a, b)
  ) WITHOUT ROWID;

  CREATE TABLE erlang_monitors (
    run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    watcher  TEXT NOT NULL,
    target   TEXT NOT NULL,
    active   INTEGER NOT NULL,
    ts_us    INTEGER NOT NULL,
    changed  INTEGER NOT NULL,
    PRIMARY KEY (run_id, watcher, target)
  ) WITHOUT ROWID;

  CREATE TABLE erlang_messages (
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    sender       TEXT NOT NULL,
    receiver     TEXT NOT NULL,
    messages     INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    summarised   INTEGER NOT NULL,
    first_ts_us  INTEGER NOT NULL,
    last_ts_us   INTEGER NOT NULL,
    changed      INTEGER NOT NULL,
    PRIMARY KEY (run_id, sender, receiver)
  ) WITHOUT ROWID;

  CREATE TABLE erlang_ports (
    run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    port          TEXT NOT NULL,
    name          TEXT,
    owner         TEXT,
    state         TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    close_reason  TEXT,
    first_ts_us   INTEGER NOT NULL,
    closed_ts_us  INTEGER,
    PRIMARY KEY (run_id, port)
  ) WITHOUT ROWID;

  CREATE TABLE erlang_ets_tables (
    run_id         INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    table_id       TEXT NOT NULL,
    name           TEXT,
    owner          TEXT,
    heir           TEXT,
    type           TEXT,
    protection     TEXT,
    size           INTEGER,
    memory_words   INTEGER,
    state          TEXT NOT NULL CHECK (state IN ('live', 'deleted')),
    first_ts_us    INTEGER NOT NULL,
    deleted_ts_us  INTEGER,
    PRIMARY KEY (run_id, table_id)
  ) WITHOUT ROWID;
  `,
  // 4: feedback debugging: each judgement a person gave on a step, with the suggestion it
  // produced, so a session reopens where the search stood (and undo survives a restart).
  `
  CREATE TABLE jvm_feedback (
    run_id            INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq               INTEGER NOT NULL,
    thread_id         INTEGER NOT NULL,
    step_order        INTEGER NOT NULL,
    kind              TEXT NOT NULL
                      CHECK (kind IN ('correct', 'wrong-value', 'wrong-path', 'unclear', 'missing-update')),
    read_index        INTEGER,
    suggested_thread  INTEGER NOT NULL,
    suggested_order   INTEGER NOT NULL,
    reason            TEXT NOT NULL,
    root_cause        INTEGER NOT NULL CHECK (root_cause IN (0, 1)),
    given_at          TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;
  `,
  // 5: Erlang events in chunks of up to a few thousand (one row each, a JSON array of
  // events) instead of a row per event, which capped recording speed; erlang_events stays
  // as a view over the chunks, so queries written against the table still run.
  `
  CREATE TABLE erlang_event_chunks (
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    first_seq    INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL,
    event_count  INTEGER NOT NULL,
    min_ts_us    INTEGER NOT NULL,
    max_ts_us    INTEGER NOT NULL,
    events       TEXT NOT NULL,
    PRIMARY KEY (run_id, first_seq)
  );

  INSERT INTO erlang_event_chunks
  SELECT run_id, min(seq), max(seq), count(*), min(ts_us), max(ts_us),
         json_group_array(json_array(seq, ts_us, kind, subject, other, json(detail)) ORDER BY seq)
  FROM (SELECT *, (row_number() OVER (PARTITION BY run_id ORDER BY seq) - 1) / 4096 AS chunk
        FROM erlang_events)
  GROUP BY run_id, chunk;

  DROP TABLE erlang_events;

  CREATE VIEW erlang_events AS
  SELECT c.run_id AS run_id,
         json_extract(e.value, '$[0]') AS seq,
         json_extract(e.value, '$[1]') AS ts_us,
         json_extract(e.value, '$[2]') AS kind,
         json_extract(e.value, '$[3]') AS subject,
         json_extract(e.value, '$[4]') AS other,
         json_extract(e.value, '$[5]') AS detail
  FROM erlang_event_chunks AS c, json_each(c.events) AS e;
  `,
  // 6: each JVM method's decisions and the lines each controls, as the agent declared them,
  // so that feedback debugging on a reopened session can see code that never ran.
  `
  ALTER TABLE jvm_methods ADD COLUMN branches TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(branches));
  `,
  // 7: erlang_processes' level check as equalities. SQLite evaluates `x IN (a, b, c)` through
  // a small temporary index built once per statement execution, which is once per row
  // written: it cost about a third of writing a process row (bench/RESULTS.md). Same rule.
  `
  CREATE TABLE erlang_processes_v7 (
    run_id           INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    pid              TEXT NOT NULL,
    level            TEXT NOT NULL
                     CHECK (level = 'mentioned' OR level = 'explored' OR level = 'listened'),
    chosen           INTEGER NOT NULL DEFAULT 0,
    boundary         INTEGER NOT NULL DEFAULT 0,
    state            TEXT NOT NULL CHECK (state = 'alive' OR state = 'dead'),
    exit_reason      TEXT,
    registered_name  TEXT,
    initial_call     TEXT,
    parent           TEXT,
    ancestors        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(ancestors)),
    application      TEXT,
    trap_exit        INTEGER,
    first_ts_us      INTEGER NOT NULL,
    spawned_ts_us    INTEGER,
    exited_ts_us     INTEGER,
    changed          INTEGER NOT NULL,
    PRIMARY KEY (run_id, pid)
  ) WITHOUT ROWID;
  INSERT INTO erlang_processes_v7 SELECT * FROM erlang_processes;
  DROP TABLE erlang_processes;
  ALTER TABLE erlang_processes_v7 RENAME TO erlang_processes;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Database): number {
  return Number(db.exec('PRAGMA user_version')[0].values[0][0]);
}

/** Brings a database up to SCHEMA_VERSION; returns how many migrations ran. */
export function migrate(db: Database): number {
  const from = schemaVersion(db);
  if (from > SCHEMA_VERSION) {
    throw new Error(
      `the session was written by a newer Bathysphere (schema ${from}; this version reads up to ${SCHEMA_VERSION})`,
    );
  }
  if (from === SCHEMA_VERSION) return 0;
  db.run('BEGIN');
  try {
    for (let version = from; version < SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS[version]);
    }
    db.exec(`PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = ${SCHEMA_VERSION};`);
    db.run('COMMIT');
  } catch (error) {
    db.run('ROLLBACK');
    throw error;
  }
  return SCHEMA_VERSION - from;
}
