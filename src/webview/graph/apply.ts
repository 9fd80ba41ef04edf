/**
 * Applies a delta to the drawn graph without laying it out again: existing
 * nodes keep their places (and the viewport and selection stay as they are);
 * a new node is put on a spiral around its compound parent or a neighbour that
 * is already drawn (placement.ts).
 */
import type { CollectionReturnValue, Core, ElementDefinition, NodeSingular } from 'cytoscape';
import type { GraphDelta, GraphEdge, GraphNode } from '../../shared/graphProtocol';
import type { Position } from './layout';
import { parentsFirst, Placer, type PlacementContext } from './placement';

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
  const placer = new Placer(compoundContext(graph), delta);
  for (const node of parentsFirst(delta.nodesAdded)) {
    const parent =
      node.parent && graph.getElementById(node.parent).nonempty() ? node.parent : undefined;
    graph.add(nodeElement({ ...node, parent }, node.position ?? placer.spotFor(node)));
  }
}

/** What is drawn, read from Cytoscape: groups are compound nodes, neighbours are edges. */
function compoundContext(graph: Core): PlacementContext {
  return {
    group(id) {
      const parent = graph.getElementById(id);
      if (parent.empty() || !parent.isParent()) return undefined;
      return {
        centre: { ...(parent as NodeSingular).position() },
        members: parent.children().length,
      };
    },
    node(id) {
      const node = graph.getElementById(id);
      if (node.empty()) return undefined;
      return { position: { ...(node as NodeSingular).position() }, neighbours: node.degree(false) };
    },
    extent() {
      const box = graph.elements().boundingBox();
      return Number.isFinite(box.x2) ? box : undefined;
    },
  };
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
