/** Writes a small session with one graph run, as tests and the demo use. */
import { SessionStore } from '../../src/extension/store/sessionStore';

export const SAMPLE_GRAPH = {
  nodes: [
    { id: 'sup', label: 'demo_sup', kind: 'supervisor' },
    { id: 'a', label: 'worker_a', kind: 'process', parent: undefined },
    { id: 'b', label: 'worker_b', kind: 'process' },
    { id: 'c', label: 'cache', kind: 'process', data: { memory: 4096 } },
    { id: 'd', label: 'logger', kind: 'dead' },
  ],
  edges: [
    { id: 'sup-a', source: 'sup', target: 'a', kind: 'link' },
    { id: 'sup-b', source: 'sup', target: 'b', kind: 'link' },
    { id: 'a-c', source: 'a', target: 'c', kind: 'monitor', data: { label: 'monitor' } },
    { id: 'b-d', source: 'b', target: 'd', kind: 'link' },
  ],
};

export async function writeSampleSession(file: string): Promise<void> {
  const store = await SessionStore.open(file, { create: true, flushIntervalMs: 0 });
  const run = store.addRun({ targetKind: 'graph', target: 'sample graph', project: 'demo' });
  store.putGraph(run.id, SAMPLE_GRAPH.nodes, SAMPLE_GRAPH.edges);
  await store.close();
}
