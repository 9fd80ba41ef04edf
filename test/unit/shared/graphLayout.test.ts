import * as assert from 'node:assert/strict';
import { CELL_HEIGHT, CELL_WIDTH, packLayout, spiralSpot } from '../../../src/webview/graph/layout';

describe('packLayout and spiralSpot (layouts for large graphs)', () => {
  const tree = [
    { id: 'group:top', parent: undefined },
    { id: 'top', parent: 'group:top', head: true },
    { id: 'group:mid', parent: 'group:top' },
    { id: 'mid', parent: 'group:mid', head: true },
    ...Array.from({ length: 30 }, (_, i) => ({ id: `w${i}`, parent: 'group:mid' })),
    ...Array.from({ length: 5 }, (_, i) => ({ id: `t${i}`, parent: 'group:top' })),
    { id: 'loner' },
  ];

  it('places every node without children, one cell apart, and no box', () => {
    const positions = packLayout(tree);
    const leaves = tree.filter((n) => !tree.some((m) => m.parent === n.id)).map((n) => n.id);
    assert.deepEqual([...positions.keys()].sort(), leaves.sort());
    const spots = [...positions.values()];
    for (let i = 0; i < spots.length; i++)
      for (let j = i + 1; j < spots.length; j++) {
        const apart =
          Math.abs(spots[i].x - spots[j].x) >= CELL_WIDTH - 1e-9 ||
          Math.abs(spots[i].y - spots[j].y) >= CELL_HEIGHT - 1e-9;
        assert.ok(apart, `${JSON.stringify(spots[i])} and ${JSON.stringify(spots[j])} overlap`);
      }
  });

  it("keeps each box's members together and puts its head first", () => {
    const positions = packLayout(tree);
    const box = (ids: string[]) => {
      const xs = ids.map((id) => positions.get(id)!.x);
      const ys = ids.map((id) => positions.get(id)!.y);
      return { x1: Math.min(...xs), x2: Math.max(...xs), y1: Math.min(...ys), y2: Math.max(...ys) };
    };
    const mid = box(['mid', ...Array.from({ length: 30 }, (_, i) => `w${i}`)]);
    for (const id of ['top', 'loner', 't0', 't4']) {
      const { x, y } = positions.get(id)!;
      assert.ok(x < mid.x1 || x > mid.x2 || y < mid.y1 || y > mid.y2, `${id} is inside mid's box`);
    }
    assert.deepEqual(positions.get('mid'), { x: mid.x1, y: mid.y1 });
  });

  it('survives a parent cycle', () => {
    const positions = packLayout([
      { id: 'a', parent: 'b' },
      { id: 'b', parent: 'a' },
      { id: 'c', parent: 'a' },
    ]);
    assert.ok(positions.has('c'));
  });

  it('gives successive spiral slots distinct spots moving outwards', () => {
    const anchor = { x: 10, y: -5 };
    const spots = Array.from({ length: 50 }, (_, slot) => spiralSpot(anchor, slot));
    const distance = (p: { x: number; y: number }) => Math.hypot(p.x - anchor.x, p.y - anchor.y);
    for (let i = 1; i < spots.length; i++) assert.ok(distance(spots[i]) > distance(spots[i - 1]));
    const keys = new Set(spots.map((p) => `${Math.round(p.x)},${Math.round(p.y)}`));
    assert.equal(keys.size, spots.length);
  });
});
