/**
 * Layouts that cost one pass over the nodes, for graphs too large for a
 * force-directed layout to finish while someone waits (fcose takes seconds at a
 * few thousand nodes): boxes packed by their nesting (a supervision tree), and
 * spots on a spiral around an anchor for nodes that arrive later. Pure
 * functions of plain data, so they are tested without a browser.
 */

export interface Position {
  x: number;
  y: number;
}

export interface PackNode {
  id: string;
  parent?: string;
  /** Placed first among its siblings (a supervisor at the head of its group). */
  head?: boolean;
}

/** Room for a node and its label below it. */
export const CELL_WIDTH = 90;
export const CELL_HEIGHT = 48;
/** Between sibling boxes, leaving room for a compound's border and padding. */
const GAP = 40;

interface Block {
  width: number;
  height: number;
  /** Writes the positions of everything in the block, its top-left corner at (x, y). */
  place(x: number, y: number, out: Map<string, Position>): void;
}

/**
 * Positions for every node that has no children: each compound's own children
 * in a grid (heads first), its nested compounds as blocks beside the grid,
 * blocks packed in rows of about square overall shape. Compounds get no
 * position of their own: Cytoscape derives a compound's box from its children.
 */
export function packLayout(nodes: readonly PackNode[]): Map<string, Position> {
  const parentOf = acyclicParents(nodes);
  const childrenOf = new Map<string | undefined, PackNode[]>();
  for (const node of nodes) {
    const parent = parentOf.get(node.id);
    const siblings = childrenOf.get(parent) ?? [];
    siblings.push(node);
    childrenOf.set(parent, siblings);
  }
  const positions = new Map<string, Position>();
  containerBlock(undefined, childrenOf).place(0, 0, positions);
  return positions;
}

/** Parents that exist, with any parent cycle (malformed input) cut where a walk up closes it. */
export function acyclicParents(
  nodes: readonly { id: string; parent?: string }[],
): Map<string, string | undefined> {
  const ids = new Set(nodes.map((node) => node.id));
  const parentOf = new Map(
    nodes.map((node) => [node.id, node.parent && ids.has(node.parent) ? node.parent : undefined]),
  );
  for (const node of nodes) {
    const seen = new Set<string>();
    for (let at = parentOf.get(node.id); at !== undefined && !seen.has(at); at = parentOf.get(at)) {
      if (at === node.id) parentOf.set(node.id, undefined);
      seen.add(at);
    }
  }
  return parentOf;
}

function containerBlock(
  id: string | undefined,
  childrenOf: Map<string | undefined, PackNode[]>,
): Block {
  const children = childrenOf.get(id) ?? [];
  const compounds = new Set(children.filter((c) => childrenOf.has(c.id)));
  const leaves = children.filter((c) => !compounds.has(c));
  const nested = [...compounds].map((c) => containerBlock(c.id, childrenOf));
  const blocks = [...(leaves.length ? [gridBlock(leaves)] : []), ...nested];
  return shelfPack(blocks);
}

function gridBlock(leaves: readonly PackNode[]): Block {
  const ordered = [...leaves.filter((leaf) => leaf.head), ...leaves.filter((leaf) => !leaf.head)];
  // Columns such that the grid is about as tall as it is wide.
  const columns = Math.max(1, Math.ceil(Math.sqrt((ordered.length * CELL_HEIGHT) / CELL_WIDTH)));
  const rows = Math.ceil(ordered.length / columns);
  return {
    width: columns * CELL_WIDTH,
    height: rows * CELL_HEIGHT,
    place(x, y, out) {
      ordered.forEach((leaf, index) => {
        out.set(leaf.id, {
          x: x + (index % columns) * CELL_WIDTH + CELL_WIDTH / 2,
          y: y + Math.floor(index / columns) * CELL_HEIGHT + CELL_HEIGHT / 2,
        });
      });
    },
  };
}

/** Rows of blocks, tallest first, wrapped at about the width of a square of their area. */
function shelfPack(blocks: readonly Block[]): Block {
  const sorted = [...blocks].sort((a, b) => b.height - a.height);
  const area = sorted.reduce((sum, b) => sum + (b.width + GAP) * (b.height + GAP), 0);
  const widest = sorted.reduce((max, b) => Math.max(max, b.width), 0);
  const rowWidth = Math.max(widest, Math.sqrt(area));
  const spots: { block: Block; x: number; y: number }[] = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  let width = 0;
  for (const block of sorted) {
    if (x > 0 && x + block.width > rowWidth) {
      y += rowHeight + GAP;
      x = 0;
      rowHeight = 0;
    }
    spots.push({ block, x, y });
    width = Math.max(width, x + block.width);
    rowHeight = Math.max(rowHeight, block.height);
    x += block.width + GAP;
  }
  return {
    width,
    height: y + rowHeight,
    place(left, top, out) {
      for (const spot of spots) spot.block.place(left + spot.x, top + spot.y, out);
    },
  };
}

const GOLDEN_ANGLE = Math.PI * (3 - Math.sqrt(5));
/** Spiral spacing giving each spot about the area of a grid cell. */
const SPIRAL_SPACING = Math.sqrt((CELL_WIDTH * CELL_HEIGHT) / Math.PI);

/**
 * The `slot`-th spot of a sunflower spiral around `anchor`: successive slots
 * never coincide, and slot n lies about where an n-node grid centred on the
 * anchor ends, so a compound's new child lands at the rim of its siblings.
 */
export function spiralSpot(anchor: Position, slot: number): Position {
  const radius = SPIRAL_SPACING * Math.sqrt(slot + 1);
  const angle = slot * GOLDEN_ANGLE;
  return { x: anchor.x + radius * Math.cos(angle), y: anchor.y + radius * Math.sin(angle) };
}
