/**
 * A large graph drawn in two layers: Cytoscape draws and handles the nodes
 * only, and a canvas under Cytoscape's draws the group boxes and the edges.
 *
 * At thousands of elements Cytoscape's compound nodes and edges cost seconds
 * per frame (bench/RESULTS.md, "Process map"): every change in a compound
 * graph walks parents, descendants and connected edges, and every edge is
 * styled, measured and drawn on its own. Here grouping and edges stay data:
 * boxes are computed from their members' positions when something moved, edges
 * are drawn as one path per kind, arrowheads and labels only once zoomed in
 * far enough to see them, and nothing outside the view.
 */
import type { Core, NodeSingular } from 'cytoscape';
import type { GraphDelta, GraphEdge, GraphNode } from '../../shared/graphProtocol';
import { byIds, nodeElement } from './apply';
import {
  arrowhead,
  boxIds,
  centre,
  groupBoxes,
  intersects,
  clipSegment,
  viewExtent,
  type GroupBox,
  type Member,
  type Rect,
} from './geometry';
import type { Position } from './layout';
import { Placer, type PlacementContext } from './placement';
import {
  boxLook,
  EDGE_FONT_SIZE,
  edgeLook,
  MIN_ZOOMED_FONT_SIZE,
  NODE_FONT_SIZE,
  type EdgeLook,
  type Palette,
} from './style';

/** The host's picture as drawn. */
export interface Picture {
  nodes: ReadonlyMap<string, GraphNode>;
  edges: ReadonlyMap<string, GraphEdge>;
}

/**
 * Below this zoom nodes are under 5 px: the whole map shows as boxes and dots,
 * as thousands of edges would only be a grey felt over it.
 */
export const EDGES_MIN_ZOOM = 0.2;
/** Arrowheads, dashes and dots below this zoom would be a pixel or two (and dashes cost time). */
const DETAILS_MIN_ZOOM = 0.5;
/**
 * While the view moves, edges are left out (drawing thousands of them takes
 * longer than a frame); they are drawn again once it has been still this long.
 */
const SETTLE_MS = 150;
const ARROW_LENGTH = 8;
const ARROW_HALF_WIDTH = 4;
/** Between parallel edges of one pair of nodes (a supervisor's spawn and link of a child). */
const PARALLEL_GAP = 5;
/** Cytoscape's default, which the nodes' labels are drawn in. */
const FONT_FAMILY = 'Helvetica Neue, Helvetica, sans-serif';

interface Segment {
  from: Position;
  to: Position;
  target: string;
  label: string;
}

/** A segment as drawn: the part of it in view. */
interface Shown {
  segment: Segment;
  from: Position;
  to: Position;
}

/** Where things are, computed from the nodes' positions when something moved. */
interface Scene {
  positions: Map<string, Position>;
  boxes: GroupBox[];
  boxById: Map<string, GroupBox>;
  segmentsByKind: Map<string, Segment[]>;
  /** Arrowheads stop at the target's rim; looked up only for edges drawn with one. */
  radii: Map<string, number>;
}

export class LargeGraph {
  private readonly canvas: HTMLCanvasElement;
  private picture: Picture = { nodes: new Map(), edges: new Map() };
  private boxes = new Set<string>();
  private scene: Scene | undefined;
  private frame: number | undefined;
  private settling: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly graph: Core,
    private palette: Palette,
  ) {
    const container = graph.container()!;
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'graph-layer';
    // Before Cytoscape's own canvases, so that they are drawn over it.
    container.insertBefore(this.canvas, container.firstChild);
    graph.on('position add remove', () => this.invalidate());
    graph.on('viewport', () => this.moved());
    graph.on('resize', () => this.schedule());
  }

  /** Draws a new picture; the caller has emptied the graph and lays the nodes out after. */
  render(picture: Picture): void {
    this.picture = picture;
    this.boxes = boxIds(picture.nodes.values());
    const plain = [...picture.nodes.values()].filter((node) => !this.boxes.has(node.id));
    this.graph.add(plain.map((node) => plainElement(node)));
    this.invalidate();
  }

  /** Applies a delta; `picture` is the picture with the delta applied. */
  apply(delta: GraphDelta, picture: Picture): void {
    const placer = new Placer(this.placementContext(this.currentScene(), picture), delta);
    const before = this.boxes;
    const boxes = boxIds(picture.nodes.values());
    this.picture = picture;
    this.boxes = boxes;
    const graph = this.graph;
    graph.batch(() => {
      const becameBoxes = [...boxes].filter((id) => !before.has(id));
      graph.remove(byIds(graph, [...delta.nodesRemoved, ...becameBoxes]));
      for (const node of delta.nodesChanged) if (!boxes.has(node.id)) this.change(node);
      const noLongerBoxes = [...before].flatMap((id) => {
        const node = boxes.has(id) ? undefined : picture.nodes.get(id);
        return node ? [node] : [];
      });
      for (const node of [...delta.nodesAdded, ...noLongerBoxes]) {
        if (boxes.has(node.id) || graph.getElementById(node.id).nonempty()) continue;
        graph.add(plainElement(node, node.position ?? placer.spotFor(node)));
      }
    });
    this.invalidate();
  }

  /** Nodes drawn (as nodes or as boxes) and edges whose ends are drawn. */
  counts(): { nodeCount: number; edgeCount: number } {
    let edgeCount = 0;
    for (const edge of this.picture.edges.values())
      if (this.picture.nodes.has(edge.source) && this.picture.nodes.has(edge.target)) edgeCount++;
    return { nodeCount: this.graph.nodes().length + this.boxes.size, edgeCount };
  }

  setPalette(palette: Palette): void {
    this.palette = palette;
    this.schedule();
  }

  destroy(): void {
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    clearTimeout(this.settling);
    this.canvas.remove();
  }

  private change(node: GraphNode): void {
    const drawn = this.graph.getElementById(node.id) as NodeSingular;
    if (drawn.empty()) return;
    const { label, kind, level } = plainElement(node).data;
    drawn.data({ label, kind, level });
    if (node.position) drawn.position(node.position);
  }

  private placementContext(scene: Scene, picture: Picture): PlacementContext {
    let degrees: Map<string, number> | undefined;
    const degree = (id: string) => {
      if (!degrees) {
        degrees = new Map();
        for (const { source, target } of picture.edges.values()) {
          degrees.set(source, (degrees.get(source) ?? 0) + 1);
          degrees.set(target, (degrees.get(target) ?? 0) + 1);
        }
      }
      return degrees.get(id) ?? 0;
    };
    return {
      group: (id) => {
        const box = scene.boxById.get(id);
        return box ? { centre: centre(box), members: box.members } : undefined;
      },
      // Live, so that a node placed earlier in the delta anchors the ones after it.
      node: (id) => {
        const node = this.graph.getElementById(id) as NodeSingular;
        if (node.empty()) return undefined;
        return { position: { ...node.position() }, neighbours: degree(id) };
      },
      extent: () => {
        const box = this.graph.nodes().boundingBox();
        return Number.isFinite(box.x2) ? box : undefined;
      },
    };
  }

  private moved(): void {
    clearTimeout(this.settling);
    this.settling = setTimeout(() => {
      this.settling = undefined;
      this.schedule();
    }, SETTLE_MS);
    this.schedule();
  }

  private invalidate(): void {
    this.scene = undefined;
    this.schedule();
  }

  private schedule(): void {
    this.frame ??= requestAnimationFrame(() => {
      this.frame = undefined;
      this.draw();
    });
  }

  private currentScene(): Scene {
    this.scene ??= this.computeScene();
    return this.scene;
  }

  private computeScene(): Scene {
    const positions = new Map<string, Position>();
    const members: Member[] = [];
    this.graph.nodes().forEach((node: NodeSingular) => {
      const { x, y } = node.position();
      const id = node.id();
      positions.set(id, { x, y });
      const box = this.picture.nodes.get(id)?.parent;
      if (box !== undefined && this.boxes.has(box)) members.push({ box, position: { x, y } });
    });
    const outerOf = new Map<string, string | undefined>();
    for (const id of this.boxes) {
      const outer = this.picture.nodes.get(id)?.parent;
      outerOf.set(id, outer !== undefined && this.boxes.has(outer) ? outer : undefined);
    }
    const boxes = groupBoxes(outerOf, members);
    // An edge to a group ends at its box's centre.
    for (const box of boxes) positions.set(box.id, centre(box));
    return {
      positions,
      boxes,
      boxById: new Map(boxes.map((box) => [box.id, box])),
      segmentsByKind: segments(this.picture.edges.values(), positions),
      radii: new Map(),
    };
  }

  private draw(): void {
    const container = this.graph.container();
    if (!container) return;
    const width = container.clientWidth;
    const height = container.clientHeight;
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const context = this.canvas.getContext('2d')!;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, width, height);
    const scene = this.currentScene();
    const zoom = this.graph.zoom();
    const pan = this.graph.pan();
    const view = viewExtent(zoom, pan, width, height);
    context.setTransform(zoom, 0, 0, zoom, pan.x, pan.y);
    this.drawBoxes(context, scene.boxes, view, zoom);
    if (zoom >= EDGES_MIN_ZOOM && this.settling === undefined)
      this.drawEdges(context, scene, view, zoom);
  }

  private drawBoxes(
    context: CanvasRenderingContext2D,
    boxes: readonly GroupBox[],
    view: Rect,
    zoom: number,
  ): void {
    // Borders at least a pixel wide, dashes in pixels: the grouping stays visible at a whole-map zoom.
    context.lineWidth = Math.max(1, 1 / zoom);
    const labels = NODE_FONT_SIZE * zoom >= MIN_ZOOMED_FONT_SIZE;
    for (const box of boxes) {
      if (!intersects(box, view)) continue;
      const node = this.picture.nodes.get(box.id);
      const look = boxLook(node?.kind ?? '', this.palette);
      const width = box.x2 - box.x1;
      const height = box.y2 - box.y1;
      context.globalAlpha = look.fillOpacity;
      context.fillStyle = look.fill;
      context.fillRect(box.x1, box.y1, width, height);
      context.globalAlpha = 1;
      context.strokeStyle = look.border;
      context.setLineDash(look.dashed ? [5 / zoom, 4 / zoom] : []);
      context.strokeRect(box.x1, box.y1, width, height);
      if (labels && node?.label) {
        context.fillStyle = this.palette.fg;
        context.font = `${NODE_FONT_SIZE}px ${FONT_FAMILY}`;
        context.textAlign = 'center';
        context.textBaseline = 'bottom';
        context.fillText(node.label, (box.x1 + box.x2) / 2, box.y1 - 2);
      }
    }
    context.setLineDash([]);
  }

  private drawEdges(
    context: CanvasRenderingContext2D,
    scene: Scene,
    view: Rect,
    zoom: number,
  ): void {
    const details = zoom >= DETAILS_MIN_ZOOM;
    const labels = EDGE_FONT_SIZE * zoom >= MIN_ZOOMED_FONT_SIZE;
    for (const [kind, all] of scene.segmentsByKind) {
      const shown = inView(all, view);
      if (shown.length === 0) continue;
      const look = edgeLook(kind, this.palette);
      strokeLines(context, shown, look, details);
      if (details && look.arrow !== 'none') this.fillArrowheads(context, shown, look, scene.radii);
      if (labels) fillLabels(context, shown, this.palette.muted);
    }
    context.setLineDash([]);
  }

  private fillArrowheads(
    context: CanvasRenderingContext2D,
    shown: readonly Shown[],
    look: EdgeLook,
    radii: Map<string, number>,
  ): void {
    context.fillStyle = look.color;
    context.beginPath();
    for (const { segment } of shown) {
      const head = arrowhead(
        segment.from,
        segment.to,
        this.radius(segment.target, radii),
        ARROW_LENGTH,
        ARROW_HALF_WIDTH,
      );
      if (!head) continue;
      const [tip, left, right] = head;
      context.moveTo(tip.x, tip.y);
      context.lineTo(left.x, left.y);
      // A vee's back is notched halfway to its tip.
      if (look.arrow === 'vee')
        context.lineTo((tip.x * 2 + left.x + right.x) / 4, (tip.y * 2 + left.y + right.y) / 4);
      context.lineTo(right.x, right.y);
      context.closePath();
    }
    context.fill();
  }

  private radius(id: string, radii: Map<string, number>): number {
    let radius = radii.get(id);
    if (radius === undefined) {
      const node = this.graph.getElementById(id) as NodeSingular;
      radius = node.nonempty() ? node.outerWidth() / 2 : 0;
      radii.set(id, radius);
    }
    return radius;
  }
}

/** A node as Cytoscape holds it here: its group is a box of the layer, not a compound parent. */
function plainElement(node: GraphNode, position?: Position) {
  return nodeElement({ ...node, parent: undefined }, position);
}

/**
 * The edges as line segments by kind. Edges between the same two nodes are
 * drawn side by side rather than over each other, as Cytoscape's bezier edges
 * would bend apart.
 */
function segments(
  edges: Iterable<GraphEdge>,
  positions: ReadonlyMap<string, Position>,
): Map<string, Segment[]> {
  const drawn = [...edges].filter(
    (edge) => positions.has(edge.source) && positions.has(edge.target),
  );
  const pairKey = (edge: GraphEdge) =>
    edge.source < edge.target ? `${edge.source}\n${edge.target}` : `${edge.target}\n${edge.source}`;
  const perPair = new Map<string, number>();
  for (const edge of drawn) perPair.set(pairKey(edge), (perPair.get(pairKey(edge)) ?? 0) + 1);
  const placed = new Map<string, number>();
  const byKind = new Map<string, Segment[]>();
  for (const edge of drawn) {
    const key = pairKey(edge);
    const count = perPair.get(key)!;
    const index = placed.get(key) ?? 0;
    placed.set(key, index + 1);
    const [from, to] = sideBySide(
      positions.get(edge.source)!,
      positions.get(edge.target)!,
      edge.source < edge.target,
      (index - (count - 1) / 2) * PARALLEL_GAP,
    );
    let list = byKind.get(edge.kind);
    if (!list) byKind.set(edge.kind, (list = []));
    list.push({ from, to, target: edge.target, label: edge.label ?? '' });
  }
  return byKind;
}

/** The segment moved sideways by `offset`, measured the same way whichever way it points. */
function sideBySide(
  from: Position,
  to: Position,
  forward: boolean,
  offset: number,
): [Position, Position] {
  if (offset === 0) return [from, to];
  const [a, b] = forward ? [from, to] : [to, from];
  const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
  const dx = (-(b.y - a.y) / length) * offset;
  const dy = ((b.x - a.x) / length) * offset;
  return [
    { x: from.x + dx, y: from.y + dy },
    { x: to.x + dx, y: to.y + dy },
  ];
}

function inView(segments: readonly Segment[], view: Rect): Shown[] {
  const shown: Shown[] = [];
  for (const segment of segments) {
    const part = clipSegment(segment.from, segment.to, view);
    if (part) shown.push({ segment, from: part[0], to: part[1] });
  }
  return shown;
}

function strokeLines(
  context: CanvasRenderingContext2D,
  shown: readonly Shown[],
  look: EdgeLook,
  dashes: boolean,
): void {
  context.strokeStyle = look.color;
  context.lineWidth = look.width;
  // Cytoscape's patterns for dashed and dotted lines.
  const pattern = look.line === 'dashed' ? [6, 3] : look.line === 'dotted' ? [1, 1] : [];
  context.setLineDash(dashes ? pattern : []);
  context.beginPath();
  for (const { from, to } of shown) {
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
  }
  context.stroke();
}

function fillLabels(
  context: CanvasRenderingContext2D,
  shown: readonly Shown[],
  colour: string,
): void {
  context.fillStyle = colour;
  context.font = `${EDGE_FONT_SIZE}px ${FONT_FAMILY}`;
  context.textAlign = 'center';
  context.textBaseline = 'middle';
  for (const { segment } of shown) {
    const { from, to, label } = segment;
    if (label) context.fillText(label, (from.x + to.x) / 2, (from.y + to.y) / 2);
  }
}
