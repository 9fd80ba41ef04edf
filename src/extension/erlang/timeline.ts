/**
 * Process lifetimes on a time axis, drawn by the graph panel with fixed
 * positions: one row per process (in order of first appearance), a bar from
 * when it was first seen (or spawned) to its exit, the exit marked with its
 * reason. Mentioned processes show faintly; live ones run to the last event.
 */
import type { GraphEdge, GraphNode } from '../../shared/graphProtocol';
import type { SessionStore } from '../store/sessionStore';

/** Width of the time axis and height of a row, in graph units. */
const AXIS_WIDTH = 1000;
const ROW_HEIGHT = 36;

interface LifetimeRow {
  pid: string;
  level: string;
  state: 'alive' | 'dead';
  exit_reason: string | null;
  registered_name: string | null;
  initial_call: string | null;
  first_ts_us: number;
  spawned_ts_us: number | null;
  exited_ts_us: number | null;
}

export function processTimeline(
  store: SessionStore,
  runId: number,
): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const rows = store.query<LifetimeRow>(
    `SELECT pid, level, state, exit_reason, registered_name, initial_call, first_ts_us, spawned_ts_us, exited_ts_us
     FROM erlang_processes WHERE run_id = ? ORDER BY coalesce(spawned_ts_us, first_ts_us), pid`,
    [runId],
  );
  if (rows.length === 0) return { nodes: [], edges: [] };
  const lastEvent = Number(
    store.query<{ ts: number | null }>(
      'SELECT max(max_ts_us) AS ts FROM erlang_event_chunks WHERE run_id = ?',
      [runId],
    )[0].ts ?? 0,
  );
  const start = Math.min(...rows.map(begin));
  const end = Math.max(lastEvent, ...rows.map((row) => row.exited_ts_us ?? begin(row)));
  const x = (ts: number) => (end === start ? 0 : ((ts - start) / (end - start)) * AXIS_WIDTH);
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  rows.forEach((row, index) => {
    const y = index * ROW_HEIGHT;
    const name = row.registered_name ?? row.initial_call ?? row.pid;
    const from = `${row.pid}@start`;
    const to = `${row.pid}@end`;
    nodes.push({
      id: from,
      label: name,
      kind: 'process',
      position: { x: x(begin(row)), y },
      data: { level: row.level },
    });
    const dead = row.state === 'dead';
    nodes.push({
      id: to,
      label: dead ? `exit: ${row.exit_reason ?? '?'}` : '',
      kind: dead ? 'dead' : 'alive',
      position: { x: x(row.exited_ts_us ?? end), y },
    });
    edges.push({ id: `${row.pid}@life`, source: from, target: to, kind: 'lifetime' });
  });
  return { nodes, edges };
}

function begin(row: LifetimeRow): number {
  return row.spawned_ts_us ?? row.first_ts_us;
}
