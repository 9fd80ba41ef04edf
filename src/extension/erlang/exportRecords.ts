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

/** One event as stored in a chunk: seq, ts_us, kind, subject, other, detail. */
type StoredEvent = [
  number,
  number,
  string,
  string | null,
  string | null,
  Record<string, unknown> | null,
];

interface ChunkHead {
  first_seq: number;
  min_ts_us: number;
}

/** A chunk being merged: its events sorted by (ts, seq), and the next one to emit. */
interface OpenChunk {
  events: StoredEvent[];
  next: number;
}

export function* erlangEventRecords(
  store: SessionStore,
  runId: number,
): Generator<ErlangEventExportRecord> {
  for (const event of eventsInTimeOrder(store, runId)) {
    const [seq, ts, kind, subject, other, detail] = event;
    yield { ...detail, type: 'erlang_event', run: runId, seq, ts, kind, subject, other };
  }
}

/**
 * Every event of a run ordered by (ts_us, seq). Batches overlap in time a little (trace
 * messages from different schedulers), so chunks are merged: a chunk is read once the
 * merge reaches its earliest timestamp, and only chunks that overlap are in memory at once.
 */
export function* eventsInTimeOrder(store: SessionStore, runId: number): Generator<StoredEvent> {
  const heads = store.query<ChunkHead>(
    `SELECT first_seq, min_ts_us FROM erlang_event_chunks WHERE run_id = ?
     ORDER BY min_ts_us, first_seq`,
    [runId],
  );
  const open: OpenChunk[] = [];
  let unread = 0;
  for (;;) {
    const earliest = earliestOpen(open);
    const head = open[earliest]?.events[open[earliest].next];
    if (unread < heads.length && (head === undefined || heads[unread].min_ts_us <= head[1])) {
      const events = readChunk(store, runId, heads[unread].first_seq);
      if (events.length > 0) open.push({ events, next: 0 });
      unread += 1;
      continue;
    }
    if (head === undefined) return;
    yield head;
    const chunk = open[earliest];
    chunk.next += 1;
    if (chunk.next === chunk.events.length) open.splice(earliest, 1);
  }
}

/** Index of the open chunk whose next event comes first; -1 when none is open. */
function earliestOpen(open: OpenChunk[]): number {
  let best = -1;
  for (let i = 0; i < open.length; i++) {
    const candidate = open[i].events[open[i].next];
    if (best < 0 || compareEvents(candidate, open[best].events[open[best].next]) < 0) best = i;
  }
  return best;
}

/** Export order: by timestamp, then by seq. */
function compareEvents(a: StoredEvent, b: StoredEvent): number {
  return a[1] - b[1] || a[0] - b[0];
}

function readChunk(store: SessionStore, runId: number, firstSeq: number): StoredEvent[] {
  const [row] = store.query<{ events: string }>(
    'SELECT events FROM erlang_event_chunks WHERE run_id = ? AND first_seq = ?',
    [runId, firstSeq],
  );
  const events = JSON.parse(row.events) as StoredEvent[];
  // Chunks are written sorted; sorting again keeps the merge right for any chunk.
  return events.sort(compareEvents);
}
