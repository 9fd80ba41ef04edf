/**
 * Geometry of the large-graph layer (largeGraph.ts), where groups are boxes
 * drawn behind the nodes rather than Cytoscape compound nodes: which nodes are
 * boxes, where each box goes given where its members are, what lies in view,
 * and where an arrowhead goes. Pure functions of plain data, tested without a
 * browser.
 */
import { acyclicParents, type Position } from './layout';

export interface Rect {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface GroupBox extends Rect {
  id: string;
  /** 0 for a box in no other box; drawn outermost first. */
  depth: number;
  /** Nodes drawn directly in the box (not counting those of nested boxes). */
  members: number;
}

/**
 * Room a member takes in its box: its body (22 px wide as styled) and its
 * label below it, about as much as packLayout's cell gives it.
 */
export const MEMBER_EXTENT = { left: 30, right: 30, top: 16, bottom: 32 };
/** Between a box and what it holds, so nested boxes stay apart. */
export const BOX_PADDING = 10;

/** The nodes that other nodes name as their parent: these are drawn as boxes, not nodes. */
export function boxIds(nodes: Iterable<{ id: string; parent?: string }>): Set<string> {
  const ids = new Set<string>();
  const parents = new Set<string>();
  for (const node of nodes) {
    ids.add(node.id);
    if (node.parent !== undefined) parents.add(node.parent);
  }
  for (const parent of parents) if (!ids.has(parent)) parents.delete(parent);
  return parents;
}

export interface Member {
  /** The box the member is drawn in. */
  box: string;
  position: Position;
}

/**
 * The box of every group with a member drawn in it or in a box nested in it:
 * around its members' extents and its nested boxes, plus BOX_PADDING;
 * outermost first. `outerOf` names each box's enclosing box (a cycle in it is
 * cut where a walk outwards closes it).
 */
export function groupBoxes(
  outerOf: ReadonlyMap<string, string | undefined>,
  members: Iterable<Member>,
): GroupBox[] {
  const outer = acyclicParents([...outerOf].map(([id, parent]) => ({ id, parent })));
  const extents = new Map<string, Rect>();
  const counts = new Map<string, number>();
  for (const { box, position } of members) {
    extents.set(box, union(extents.get(box), memberExtent(position)));
    counts.set(box, (counts.get(box) ?? 0) + 1);
  }
  const depthOf = depths(outer, new Set([...outerOf.keys(), ...extents.keys()]));
  // Innermost first, so that a box is complete before it is added to its enclosing one.
  const innermostFirst = [...depthOf].sort((a, b) => b[1] - a[1]);
  const boxes: GroupBox[] = [];
  for (const [id, depth] of innermostFirst) {
    const extent = extents.get(id);
    if (!extent) continue;
    const box = pad(extent, BOX_PADDING);
    boxes.push({ id, depth, members: counts.get(id) ?? 0, ...box });
    const enclosing = outer.get(id);
    if (enclosing !== undefined) extents.set(enclosing, union(extents.get(enclosing), box));
  }
  return boxes.reverse();
}

/** How deep each box is nested; iterative, as a chain of nested boxes may be long. */
function depths(
  outer: ReadonlyMap<string, string | undefined>,
  ids: ReadonlySet<string>,
): Map<string, number> {
  const depthOf = new Map<string, number>();
  for (const id of ids) {
    const chain: string[] = [];
    let at: string | undefined = id;
    while (at !== undefined && !depthOf.has(at)) {
      chain.push(at);
      at = outer.get(at);
    }
    let depth = at === undefined ? -1 : depthOf.get(at)!;
    for (let i = chain.length - 1; i >= 0; i--) depthOf.set(chain[i], ++depth);
  }
  return depthOf;
}

export function memberExtent({ x, y }: Position): Rect {
  return {
    x1: x - MEMBER_EXTENT.left,
    y1: y - MEMBER_EXTENT.top,
    x2: x + MEMBER_EXTENT.right,
    y2: y + MEMBER_EXTENT.bottom,
  };
}

export function union(a: Rect | undefined, b: Rect): Rect {
  if (!a) return { ...b };
  return {
    x1: Math.min(a.x1, b.x1),
    y1: Math.min(a.y1, b.y1),
    x2: Math.max(a.x2, b.x2),
    y2: Math.max(a.y2, b.y2),
  };
}

function pad(rect: Rect, by: number): Rect {
  return { x1: rect.x1 - by, y1: rect.y1 - by, x2: rect.x2 + by, y2: rect.y2 + by };
}

export function centre(rect: Rect): Position {
  return { x: (rect.x1 + rect.x2) / 2, y: (rect.y1 + rect.y2) / 2 };
}

export function intersects(a: Rect, b: Rect): boolean {
  return a.x1 <= b.x2 && b.x1 <= a.x2 && a.y1 <= b.y2 && b.y1 <= a.y2;
}

/**
 * The part of the segment inside `rect` (Liang-Barsky), or undefined when it
 * misses it. Drawing only that part matters for dashed lines: a canvas lays
 * dashes along the whole length, off-screen too.
 */
export function clipSegment(
  from: Position,
  to: Position,
  rect: Rect,
): [Position, Position] | undefined {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  let enter = 0;
  let leave = 1;
  const sides: [number, number][] = [
    [-dx, from.x - rect.x1],
    [dx, rect.x2 - from.x],
    [-dy, from.y - rect.y1],
    [dy, rect.y2 - from.y],
  ];
  for (const [towards, room] of sides) {
    if (towards === 0) {
      if (room < 0) return undefined;
      continue;
    }
    const t = room / towards;
    if (towards < 0) enter = Math.max(enter, t);
    else leave = Math.min(leave, t);
    if (enter > leave) return undefined;
  }
  return [
    { x: from.x + enter * dx, y: from.y + enter * dy },
    { x: from.x + leave * dx, y: from.y + leave * dy },
  ];
}

/** The graph's coordinates shown in a viewport of `width` x `height` pixels. */
export function viewExtent(zoom: number, pan: Position, width: number, height: number): Rect {
  return {
    x1: -pan.x / zoom,
    y1: -pan.y / zoom,
    x2: (width - pan.x) / zoom,
    y2: (height - pan.y) / zoom,
  };
}

/**
 * An arrowhead pointing from `from` to `to` with its tip `inset` short of `to`
 * (on the target's rim): tip, then the two back corners; undefined when the
 * ends are too close for the arrow to fit outside the target.
 */
export function arrowhead(
  from: Position,
  to: Position,
  inset: number,
  length: number,
  halfWidth: number,
): [Position, Position, Position] | undefined {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const distance = Math.hypot(dx, dy);
  if (distance <= inset + length) return undefined;
  const ux = dx / distance;
  const uy = dy / distance;
  const tip = { x: to.x - ux * inset, y: to.y - uy * inset };
  const back = { x: tip.x - ux * length, y: tip.y - uy * length };
  return [
    tip,
    { x: back.x - uy * halfWidth, y: back.y + ux * halfWidth },
    { x: back.x + uy * halfWidth, y: back.y - ux * halfWidth },
  ];
}
