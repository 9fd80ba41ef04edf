/**
 * Applies a delta to the drawn graph without laying it out again: existing
 * nodes keep their places (and the viewport and selection stay as they are);
 * a new node is put on a spiral around its compound parent or a neighbour that
 * is already drawn, the spot after those already taken there.
 */
import type { CollectionReturnValue, Core, ElementDefinition, NodeSingular } from 'cytoscape';
import type { GraphDelta, GraphEdge, GraphNode } from '../../shared/graphProtocol';
import { CELL_HEIGHT, CELL_WIDTH, spiralSpot, type Position } from './layout';

export function nodeElement(node: GraphNode, position?: Position): ElementDefinition {
  return {
    group: 'nodes',
    data: {
      id: node.id,
      label: node.label,
      kind: node.kind,
      parent: node.parent,
      // Process maps colour nodes by how deeply they are traced.
      level: typeof node.data?.level === 'string' ? node.data.level : undefined,
    },
    position: node.position ?? position,
  };
}

export function edgeElement(edge: GraphEdge): ElementDefinition {
  return {
    group: 'edges',
    data: {
      id: edge.id,
      source: edge.source,
      target: edge.target,
      kind: edge.kind,
      label: edge.label ?? '',
    },
  };
}

export function applyDelta(graph: Core, delta: GraphDelta): void {
  graph.batch(() => {
    addNodes(graph, delta);
    for (const node of delta.nodesChanged) changeNode(graph, node);
    // After the moves above, so that removing a box does not take moved children with it.
    graph.remove(byIds(graph, delta.edgesRemoved));
    graph.remove(byIds(graph, delta.nodesRemoved));
    graph.add(delta.edgesAdded.filter((edge) => endsExist(graph, edge)).map(edgeElement));
    for (const edge of delta.edgesChanged)
      graph.getElementById(edge.id).data('label', edge.label ?? '');
  });
}

function addNodes(graph: Core, delta: GraphDelta): void {
  const placer = new Placer(graph, delta);
  for (const node of parentsFirst(delta.nodesAdded)) {
    const parent =
      node.parent && graph.getElementById(node.parent).nonempty() ? node.parent : undefined;
    graph.add(nodeElement({ ...node, parent }, node.position ?? placer.spotFor(node)));
  }
}

function changeNode(graph: Core, node: GraphNode): void {
  const drawn = graph.getElementById(node.id) as NodeSingular;
  if (drawn.empty()) return;
  const element = nodeElement(node);
  drawn.data({ label: element.data.label, kind: element.data.kind, level: element.data.level });
  const parent = node.parent && graph.getElementById(node.parent).nonempty() ? node.parent : null;
  const currentParent = drawn.isChild() ? drawn.parent().first().id() : null;
  if (parent !== currentParent) drawn.move({ parent });
  if (node.position) drawn.position(node.position);
}

/** Cytoscape needs a compound parent to exist before its children are added. */
function parentsFirst(nodes: readonly GraphNode[]): GraphNode[] {
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

/** Spots for new nodes, remembering how many were put around each anchor during this delta. */
class Placer {
  private readonly taken = new Map<string, number>();
  private readonly neighbours = new Map<string, string[]>();
  /** For a new box: a node moving into it, whose place tells where the box goes. */
  private readonly movingInto = new Map<string, string>();
  private strayCount = 0;
  private strayOrigin: Position | undefined;

  constructor(
    private readonly graph: Core,
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
    const parent = node.parent ? this.graph.getElementById(node.parent) : undefined;
    if (parent?.nonempty() && parent.isParent())
      return this.around(parent as NodeSingular, parent.children().length);
    const neighbour = this.drawnNeighbour(node.id);
    if (neighbour) return this.around(neighbour, neighbour.degree(false));
    const member = this.movingInto.get(node.id);
    const memberNode = member ? this.graph.getElementById(member) : undefined;
    if (memberNode?.nonempty()) return { ...(memberNode as NodeSingular).position() };
    if (parent?.nonempty()) return this.around(parent as NodeSingular, 0);
    return this.stray();
  }

  private around(anchor: NodeSingular, alreadyThere: number): Position {
    const slot = this.taken.get(anchor.id()) ?? alreadyThere;
    this.taken.set(anchor.id(), slot + 1);
    return spiralSpot(anchor.position(), slot);
  }

  private drawnNeighbour(id: string): NodeSingular | undefined {
    for (const other of this.neighbours.get(id) ?? []) {
      const drawn = this.graph.getElementById(other);
      if (drawn.nonempty()) return drawn as NodeSingular;
    }
    return undefined;
  }

  /** Nothing drawn relates to the node: a column to the right of the picture. */
  private stray(): Position {
    if (!this.strayOrigin) {
      const box = this.graph.elements().boundingBox();
      this.strayOrigin = Number.isFinite(box.x2)
        ? { x: box.x2 + CELL_WIDTH, y: box.y1 }
        : { x: 0, y: 0 };
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

function endsExist(graph: Core, edge: GraphEdge): boolean {
  return (
    graph.getElementById(edge.source).nonempty() && graph.getElementById(edge.target).nonempty()
  );
}

/** Looked up by id rather than a selector: thousands of escaped ids make a slow selector. */
export function byIds(graph: Core, ids: readonly string[]): CollectionReturnValue {
  const found = graph.collection();
  for (const id of ids) found.merge(graph.getElementById(id));
  return found;
}
