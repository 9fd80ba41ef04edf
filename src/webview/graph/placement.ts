/**
 * Where a node that arrives in a delta goes, so that nothing drawn moves: on a
 * spiral around its group or a neighbour that is already drawn, the spot after
 * those already taken there. Asks a PlacementContext what is drawn, so the
 * same rules serve Cytoscape's compound nodes and the large-graph layer's boxes.
 */
import type { GraphDelta, GraphNode } from '../../shared/graphProtocol';
import type { Rect } from './geometry';
import { CELL_HEIGHT, CELL_WIDTH, spiralSpot, type Position } from './layout';

export interface PlacementContext {
  /** A group drawn with members: its centre and how many members it has. */
  group(id: string): { centre: Position; members: number } | undefined;
  /** A drawn node: its place and how many neighbours it has. */
  node(id: string): { position: Position; neighbours: number } | undefined;
  /** What is drawn spans this, or nothing is drawn. */
  extent(): Rect | undefined;
}

/** Spots for new nodes, remembering how many were put around each anchor during this delta. */
export class Placer {
  private readonly taken = new Map<string, number>();
  private readonly neighbours = new Map<string, string[]>();
  /** For a new group: a node moving into it, whose place tells where the group goes. */
  private readonly movingInto = new Map<string, string>();
  private strayCount = 0;
  private strayOrigin: Position | undefined;

  constructor(
    private readonly drawn: PlacementContext,
    delta: GraphDelta,
  ) {
    for (const edge of delta.edgesAdded) {
      this.neighbourOf(edge.source).push(edge.target);
      this.neighbourOf(edge.target).push(edge.source);
    }
    for (const node of [...delta.nodesChanged, ...delta.nodesAdded])
      if (node.parent && !this.movingInto.has(node.parent))
        this.movingInto.set(node.parent, node.id);
  }

  spotFor(node: GraphNode): Position {
    const group = node.parent ? this.drawn.group(node.parent) : undefined;
    if (node.parent && group) return this.around(node.parent, group.centre, group.members);
    const neighbour = this.drawnNeighbour(node.id);
    if (neighbour) return this.around(neighbour.id, neighbour.position, neighbour.neighbours);
    const member = this.movingInto.get(node.id);
    const memberNode = member ? this.drawn.node(member) : undefined;
    if (memberNode) return { ...memberNode.position };
    const parent = node.parent ? this.drawn.node(node.parent) : undefined;
    if (node.parent && parent) return this.around(node.parent, parent.position, 0);
    return this.stray();
  }

  private around(anchor: string, at: Position, alreadyThere: number): Position {
    const slot = this.taken.get(anchor) ?? alreadyThere;
    this.taken.set(anchor, slot + 1);
    return spiralSpot(at, slot);
  }

  private drawnNeighbour(
    id: string,
  ): { id: string; position: Position; neighbours: number } | undefined {
    for (const other of this.neighbours.get(id) ?? []) {
      const drawn = this.drawn.node(other);
      if (drawn) return { id: other, ...drawn };
    }
    return undefined;
  }

  /** Nothing drawn relates to the node: a column to the right of the picture. */
  private stray(): Position {
    if (!this.strayOrigin) {
      const extent = this.drawn.extent();
      this.strayOrigin = extent ? { x: extent.x2 + CELL_WIDTH, y: extent.y1 } : { x: 0, y: 0 };
    }
    const index = this.strayCount++;
    return { x: this.strayOrigin.x, y: this.strayOrigin.y + index * CELL_HEIGHT };
  }

  private neighbourOf(id: string): string[] {
    let list = this.neighbours.get(id);
    if (!list) this.neighbours.set(id, (list = []));
    return list;
  }
}

/** Cytoscape needs a compound parent to exist before its children are added. */
export function parentsFirst(nodes: readonly GraphNode[]): GraphNode[] {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const ordered: GraphNode[] = [];
  const done = new Set<string>();
  const visit = (node: GraphNode, depth: number) => {
    if (done.has(node.id)) return;
    done.add(node.id);
    const parent = node.parent ? byId.get(node.parent) : undefined;
    // The depth bound cuts parent cycles in malformed input.
    if (parent && depth < nodes.length) visit(parent, depth + 1);
    ordered.push(node);
  };
  for (const node of nodes) visit(node, 0);
  return ordered;
}
