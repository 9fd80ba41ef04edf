import * as assert from 'node:assert/strict';
import {
  emptyGraphDelta,
  type GraphDelta,
  type GraphNode,
} from '../../../src/shared/graphProtocol';
import {
  CELL_HEIGHT,
  CELL_WIDTH,
  spiralSpot,
  type Position,
} from '../../../src/webview/graph/layout';
import { Placer, type PlacementContext } from '../../../src/webview/graph/placement';

const delta = (extra: Partial<GraphDelta>): GraphDelta => ({ ...emptyGraphDelta(), ...extra });
const node = (id: string, parent?: string): GraphNode => ({
  id,
  label: id,
  kind: 'process',
  parent,
});

/** A drawn picture: groups with members, nodes with neighbours, and what it spans. */
function drawn(
  groups: Record<string, { centre: Position; members: number }>,
  nodes: Record<string, { position: Position; neighbours: number }>,
): PlacementContext {
  return {
    group: (id) => groups[id],
    node: (id) => nodes[id],
    extent: () => ({ x1: -100, y1: -40, x2: 300, y2: 200 }),
  };
}

describe('placing nodes that arrive in a delta (nothing drawn moves)', () => {
  const context = drawn(
    { 'group:sup': { centre: { x: 50, y: 60 }, members: 7 } },
    { peer: { position: { x: -80, y: 10 }, neighbours: 3 } },
  );

  it('puts new members of a drawn group on its spiral, after the members it has', () => {
    const added = [node('a', 'group:sup'), node('b', 'group:sup')];
    const placer = new Placer(context, delta({ nodesAdded: added }));
    assert.deepEqual(placer.spotFor(added[0]), spiralSpot({ x: 50, y: 60 }, 7));
    assert.deepEqual(placer.spotFor(added[1]), spiralSpot({ x: 50, y: 60 }, 8));
  });

  it('puts a node without a drawn group next to a drawn neighbour', () => {
    const added = node('c', 'group:new');
    const placer = new Placer(
      context,
      delta({
        nodesAdded: [added],
        edgesAdded: [{ id: 'link:c:peer', source: 'c', target: 'peer', kind: 'link' }],
      }),
    );
    assert.deepEqual(placer.spotFor(added), spiralSpot({ x: -80, y: 10 }, 3));
  });

  it('puts a new group where a drawn node moving into it is', () => {
    const placer = new Placer(
      context,
      delta({ nodesAdded: [node('group:new')], nodesChanged: [node('peer', 'group:new')] }),
    );
    assert.deepEqual(placer.spotFor(node('group:new')), { x: -80, y: 10 });
  });

  it('stacks unrelated nodes in a column right of the picture', () => {
    const added = [node('x'), node('y')];
    const placer = new Placer(context, delta({ nodesAdded: added }));
    assert.deepEqual(placer.spotFor(added[0]), { x: 300 + CELL_WIDTH, y: -40 });
    assert.deepEqual(placer.spotFor(added[1]), { x: 300 + CELL_WIDTH, y: -40 + CELL_HEIGHT });
  });
});
