/** `bathysphere export` records for Erlang runs: one per trace event, in time order. */
import type { SessionStore } from '../store/sessionStore';

export interface ErlangEventExportRecord {
  type: 'erlang_event';
  run: number;
  seq: number;
  ts: number;
  kind: string;
  subject: string | null;
  other: string | null;
  [detail: string]: unknown;
}

interface EventRow {
  seq: number;
  ts_us: number;
  kind: string;
  subject: string | null;
  other: string | null;
  detail: string | null;
}

const PAGE = 10_000;

export function* erlangEventRecords(
  store: SessionStore,
  runId: number,
): Generator<ErlangEventExportRecord> {
  // Paged so a long recording is never all in memory at once.
  for (let offset = 0; ; offset += PAGE) {
    const rows = store.query<EventRow>(
      `SELECT seq, ts_us, kind, subject, other, detail FROM erlang_events
       WHERE run_id = ? ORDER BY ts_us, seq LIMIT ? OFFSET ?`,
      [runId, PAGE, offset],
    );
    for (const row of rows) {
      const detail = row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : {};
      yield {
        ...detail,
        type: 'erlang_event',
        run: runId,
        seq: row.seq,
        ts: row.ts_us,
        kind: row.kind,
        subject: row.subject,
        other: row.other,
      };
    }
    if (rows.length < PAGE) return;
  }
}
