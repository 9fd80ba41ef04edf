import * as assert from 'node:assert/strict';
import {
  deltaSize,
  diffGraphs,
  type GraphContent,
  type GraphDelta,
  type GraphEdge,
  type GraphNode,
} from '../../../src/shared/graphProtocol';

/** What the webview does with a delta, on plain maps: the result must equal `after`. */
function applyToContent(before: GraphContent, delta: GraphDelta): GraphContent {
  const nodes = new Map(before.nodes.map((n) => [n.id, n]));
  const edges = new Map(before.edges.map((e) => [e.id, e]));
  delta.nodesRemoved.forEach((id) => nodes.delete(id));
  delta.edgesRemoved.forEach((id) => edges.delete(id));
  [...delta.nodesAdded, ...delta.nodesChanged].forEach((n) => nodes.set(n.id, n));
  [...delta.edgesAdded, ...delta.edgesChanged].forEach((e) => edges.set(e.id, e));
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

function sorted(content: GraphContent): GraphContent {
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
  return { nodes: [...content.nodes].sort(byId), edges: [...content.edges].sort(byId) };
}

const node = (id: string, extra: Partial<GraphNode> = {}): GraphNode => ({
  id,
  label: id,
  kind: 'process',
  ...extra,
});
const edge = (source: string, target: string, extra: Partial<GraphEdge> = {}): GraphEdge => ({
  id: `link:${source}:${target}`,
  source,
  target,
  kind: 'link',
  ...extra,
});

describe('diffGraphs (deltas between two pictures of a graph)', () => {
  it('reports nothing for the same picture, whatever the order of fields and elements', () => {
    const before = {
      nodes: [node('a', { data: { level: 'explored', pid: 'a' } }), node('b')],
      edges: [edge('a', 'b')],
    };
    const after = {
      nodes: [
        node('b'),
        { data: { pid: 'a', level: 'explored' }, kind: 'process', label: 'a', id: 'a' },
      ],
      edges: [edge('a', 'b')],
    };
    assert.equal(deltaSize(diffGraphs(before, after)), 0);
  });

  it('sorts nodes and edges into added, changed and removed', () => {
    const before = {
      nodes: [node('sup', { kind: 'supervisor' }), node('a'), node('gone')],
      edges: [
        edge('sup', 'a'),
        edge('a', 'gone'),
        edge('sup', 'x', { kind: 'message', label: '1' }),
      ],
    };
    const after = {
      nodes: [
        node('sup', { kind: 'supervisor' }),
        node('a', { kind: 'dead' }),
        node('new', { parent: 'sup' }),
      ],
      edges: [edge('sup', 'x', { kind: 'message', label: '2' }), edge('sup', 'new')],
    };
    const delta = diffGraphs(before, after);
    assert.deepEqual(
      delta.nodesAdded.map((n) => n.id),
      ['new'],
    );
    assert.deepEqual(
      delta.nodesChanged.map((n) => [n.id, n.kind]),
      [['a', 'dead']],
    );
    assert.deepEqual(delta.nodesRemoved, ['gone']);
    assert.deepEqual(
      delta.edgesAdded.map((e) => e.id),
      ['link:sup:new'],
    );
    assert.deepEqual(
      delta.edgesChanged.map((e) => e.label),
      ['2'],
    );
    assert.deepEqual(delta.edgesRemoved.sort(), ['link:a:gone', 'link:sup:a']);
    assert.equal(deltaSize(delta), 7);
    assert.deepEqual(sorted(applyToContent(before, delta)), sorted(after));
  });

  it('reports a node that moved into a group as changed, with its new parent', () => {
    const before = { nodes: [node('sup'), node('w')], edges: [] };
    const after = {
      nodes: [
        node('group:sup', { kind: 'group' }),
        node('sup', { parent: 'group:sup' }),
        node('w', { parent: 'group:sup' }),
      ],
      edges: [],
    };
    const delta = diffGraphs(before, after);
    assert.deepEqual(
      delta.nodesAdded.map((n) => n.id),
      ['group:sup'],
    );
    assert.deepEqual(
      delta.nodesChanged.map((n) => [n.id, n.parent]),
      [
        ['sup', 'group:sup'],
        ['w', 'group:sup'],
      ],
    );
  });

  it('removes and re-adds an edge whose endpoints changed under the same id', () => {
    const before = {
      nodes: [node('a'), node('b'), node('c')],
      edges: [{ id: 'e', source: 'a', target: 'b', kind: 'x' }],
    };
    const after = { ...before, edges: [{ id: 'e', source: 'a', target: 'c', kind: 'x' }] };
    const delta = diffGraphs(before, after);
    assert.deepEqual(delta.edgesRemoved, ['e']);
    assert.deepEqual(
      delta.edgesAdded.map((e) => e.target),
      ['c'],
    );
    assert.deepEqual(delta.edgesChanged, []);
    assert.deepEqual(sorted(applyToContent(before, delta)), sorted(after));
  });

  it('turns random pictures into each other', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const picture = (): GraphContent => {
      const ids = Array.from({ length: 40 }, (_, i) => `n${i}`).filter(() => rand() < 0.7);
      const nodes = ids.map((id) =>
        node(id, {
          kind: rand() < 0.2 ? 'dead' : 'process',
          ...(rand() < 0.3 ? { parent: ids[0] } : {}),
        }),
      );
      const edges = ids.flatMap((a) =>
        ids
          .filter(() => rand() < 0.05)
          .map((b) => edge(a, b, rand() < 0.5 ? { label: `${Math.floor(rand() * 3)}` } : {})),
      );
      return { nodes, edges };
    };
    for (let round = 0; round < 50; round++) {
      const before = picture();
      const after = picture();
      assert.deepEqual(sorted(applyToContent(before, diffGraphs(before, after))), sorted(after));
    }
  });
});
