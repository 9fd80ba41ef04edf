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
