/**
 * Everything in a session as a stream of plain JSON records, one concept per
 * `type`. `bathysphere export --format jsonl` prints one per line; other
 * features (Erlang events, JVM steps) add their own record types here.
 */
import type { GraphEdgeRecord, GraphNodeRecord, Run, SessionStore } from './sessionStore';
import { SCHEMA_VERSION } from './schema';
import { jvmStepRecords, type JvmStepExportRecord } from '../jvm/traceReader';
import { erlangEventRecords, type ErlangEventExportRecord } from '../erlang/exportRecords';

export type ExportRecord =
  | { type: 'session'; file: string; schemaVersion: number }
  | ({ type: 'run' } & Run)
  | ({ type: 'node'; run: number } & GraphNodeRecord)
  | ({ type: 'edge'; run: number } & GraphEdgeRecord)
  | JvmStepExportRecord
  | ErlangEventExportRecord;

export function* exportRecords(store: SessionStore): Generator<ExportRecord> {
  yield { type: 'session', file: store.file, schemaVersion: SCHEMA_VERSION };
  for (const run of store.runs()) {
    yield { type: 'run', ...run };
    const { nodes, edges } = store.graph(run.id);
    for (const node of nodes) yield { type: 'node', run: run.id, ...node };
    for (const edge of edges) yield { type: 'edge', run: run.id, ...edge };
    if (run.targetKind === 'jvm') yield* jvmStepRecords(store, run.id);
    if (run.targetKind === 'erlang') yield* erlangEventRecords(store, run.id);
  }
}
