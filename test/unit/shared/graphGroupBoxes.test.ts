import * as assert from 'node:assert/strict';
import {
  arrowhead,
  BOX_PADDING,
  boxIds,
  clipSegment,
  groupBoxes,
  intersects,
  memberExtent,
  viewExtent,
  type GroupBox,
  type Member,
  type Rect,
} from '../../../src/webview/graph/geometry';
import { packLayout } from '../../../src/webview/graph/layout';

const inside = (inner: Rect, outer: Rect) =>
  inner.x1 >= outer.x1 && inner.y1 >= outer.y1 && inner.x2 <= outer.x2 && inner.y2 <= outer.y2;

/** A supervision tree as the process map draws it: group boxes holding a supervisor and its children. */
function tree() {
  const nodes: { id: string; parent?: string; head?: boolean }[] = [
    { id: 'group:top' },
    { id: 'top', parent: 'group:top', head: true },
  ];
  for (let g = 0; g < 3; g++) {
    nodes.push({ id: `group:mid${g}`, parent: 'group:top' });
    nodes.push({ id: `mid${g}`, parent: `group:mid${g}`, head: true });
    for (let w = 0; w < 5 + g * 7; w++) nodes.push({ id: `w${g}.${w}`, parent: `group:mid${g}` });
  }
  nodes.push({ id: 'loner' });
  return nodes;
}

function boxesOf(nodes: ReturnType<typeof tree>): { boxes: GroupBox[]; members: Member[] } {
  const boxes = boxIds(nodes);
  const positions = packLayout(nodes);
  const outerOf = new Map(
    [...boxes].map((id) => {
      const outer = nodes.find((node) => node.id === id)!.parent;
      return [id, outer && boxes.has(outer) ? outer : undefined];
    }),
  );
  const members = nodes.flatMap((node) =>
    node.parent && boxes.has(node.parent) && positions.has(node.id)
      ? [{ box: node.parent, position: positions.get(node.id)! }]
      : [],
  );
  return { boxes: groupBoxes(outerOf, members), members };
}

describe('group boxes of large graphs (drawn behind the nodes)', () => {
  it('draws as boxes exactly the nodes that others name as parent, if they exist', () => {
    const ids = boxIds([
      { id: 'a', parent: 'box' },
      { id: 'box' },
      { id: 'b', parent: 'missing' },
      { id: 'c', parent: 'a' },
    ]);
    assert.deepEqual([...ids].sort(), ['a', 'box']);
  });

  it("holds each member's extent, and nested boxes inside their enclosing box", () => {
    const nodes = tree();
    const { boxes, members } = boxesOf(nodes);
    const byId = new Map(boxes.map((box) => [box.id, box]));
    assert.deepEqual([...byId.keys()].sort(), [
      'group:mid0',
      'group:mid1',
      'group:mid2',
      'group:top',
    ]);
    for (const member of members)
      assert.ok(inside(memberExtent(member.position), byId.get(member.box)!), `${member.box}`);
    for (let g = 0; g < 3; g++) {
      const mid = byId.get(`group:mid${g}`)!;
      const top = byId.get('group:top')!;
      assert.ok(mid.x1 - top.x1 >= BOX_PADDING && top.y2 - mid.y2 >= BOX_PADDING);
      assert.equal(mid.depth, 1);
      assert.equal(mid.members, 6 + g * 7);
    }
    assert.equal(byId.get('group:top')!.members, 1);
  });

  it('keeps sibling boxes of packLayout apart and lists enclosing boxes first', () => {
    const { boxes } = boxesOf(tree());
    const mids = boxes.filter((box) => box.id.startsWith('group:mid'));
    for (let i = 0; i < mids.length; i++)
      for (let j = i + 1; j < mids.length; j++)
        assert.ok(!intersects(mids[i], mids[j]), `${mids[i].id} overlaps ${mids[j].id}`);
    const depths = boxes.map((box) => box.depth);
    assert.deepEqual(
      depths,
      [...depths].sort((a, b) => a - b),
    );
    assert.equal(boxes[0].id, 'group:top');
  });

  it('gives a box holding only a nested box a box of its own, and an empty one none', () => {
    const outerOf = new Map<string, string | undefined>([
      ['outer', undefined],
      ['inner', 'outer'],
      ['empty', undefined],
    ]);
    const boxes = groupBoxes(outerOf, [{ box: 'inner', position: { x: 0, y: 0 } }]);
    assert.deepEqual(
      boxes.map((box) => [box.id, box.depth, box.members]),
      [
        ['outer', 0, 0],
        ['inner', 1, 1],
      ],
    );
    assert.ok(inside(boxes[1], boxes[0]) && boxes[0].x1 < boxes[1].x1);
  });

  it('moves a box with its members', () => {
    const outerOf = new Map([['g', undefined]]);
    const before = groupBoxes(outerOf, [{ box: 'g', position: { x: 0, y: 0 } }])[0];
    const after = groupBoxes(outerOf, [
      { box: 'g', position: { x: 0, y: 0 } },
      { box: 'g', position: { x: 500, y: 0 } },
    ])[0];
    assert.equal(after.x1, before.x1);
    assert.equal(after.x2 - before.x2, 500);
  });

  it('survives boxes nested in a cycle', () => {
    const outerOf = new Map([
      ['a', 'b'],
      ['b', 'a'],
    ]);
    const boxes = groupBoxes(outerOf, [
      { box: 'a', position: { x: 0, y: 0 } },
      { box: 'b', position: { x: 100, y: 0 } },
    ]);
    assert.deepEqual(boxes.map((box) => box.id).sort(), ['a', 'b']);
  });
});

describe('what the large-graph layer draws in view', () => {
  it('maps the viewport to graph coordinates', () => {
    assert.deepEqual(viewExtent(2, { x: 100, y: -50 }, 800, 600), {
      x1: -50,
      y1: 25,
      x2: 350,
      y2: 325,
    });
  });

  it('draws the part of an edge in view, whole when inside, nothing when beside it', () => {
    const view = { x1: 0, y1: 0, x2: 100, y2: 100 };
    assert.deepEqual(clipSegment({ x: -50, y: 50 }, { x: 150, y: 50 }, view), [
      { x: 0, y: 50 },
      { x: 100, y: 50 },
    ]);
    assert.deepEqual(clipSegment({ x: 150, y: 150 }, { x: 50, y: 50 }, view), [
      { x: 100, y: 100 },
      { x: 50, y: 50 },
    ]);
    assert.deepEqual(clipSegment({ x: 10, y: 20 }, { x: 30, y: 40 }, view), [
      { x: 10, y: 20 },
      { x: 30, y: 40 },
    ]);
    assert.equal(clipSegment({ x: 150, y: -50 }, { x: 150, y: 150 }, view), undefined);
    // Its bounding box meets the view, the segment does not.
    assert.equal(
      clipSegment({ x: -10, y: 80 }, { x: 80, y: -10 }, { x1: 50, y1: 50, x2: 100, y2: 100 }),
      undefined,
    );
  });

  it("puts an arrowhead's tip on the target's rim, pointing at it", () => {
    const head = arrowhead({ x: 0, y: 0 }, { x: 100, y: 0 }, 11, 8, 4)!;
    assert.deepEqual(head[0], { x: 89, y: 0 });
    assert.deepEqual(
      head.slice(1).map((p) => [p.x, Math.abs(p.y)]),
      [
        [81, 4],
        [81, 4],
      ],
    );
    assert.equal(arrowhead({ x: 0, y: 0 }, { x: 15, y: 0 }, 11, 8, 4), undefined);
  });
});
