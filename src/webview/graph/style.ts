/** The graph's Cytoscape stylesheet, in the colours of the VS Code theme. */
import type { StylesheetJson } from 'cytoscape';

function themeColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

/** Below this on-screen size labels are not drawn: at a whole-map zoom they are unreadable clutter and most of the drawing time. */
export const MIN_ZOOMED_FONT_SIZE = 6;
export const NODE_FONT_SIZE = 11;
export const EDGE_FONT_SIZE = 9;

/** The theme's colours the graph is drawn in. */
export interface Palette {
  fg: string;
  bg: string;
  accent: string;
  focus: string;
  muted: string;
  warn: string;
  supervisor: string;
  listened: string;
}

export function themePalette(): Palette {
  return {
    fg: themeColor('--vscode-editor-foreground', '#cccccc'),
    bg: themeColor('--vscode-editor-background', '#1e1e1e'),
    accent: themeColor('--vscode-charts-blue', '#3794ff'),
    focus: themeColor('--vscode-focusBorder', '#007fd4'),
    muted: themeColor('--vscode-descriptionForeground', '#8b8b8b'),
    warn: themeColor('--vscode-charts-orange', '#d18616'),
    supervisor: themeColor('--vscode-charts-purple', '#b180d7'),
    listened: themeColor('--vscode-charts-green', '#89d185'),
  };
}

/**
 * How an edge is drawn. One table for both ways the graph is drawn: Cytoscape's
 * stylesheet (small graphs) and the edge layer of large graphs (largeGraph.ts).
 */
export interface EdgeLook {
  width: number;
  color: string;
  line: 'solid' | 'dashed' | 'dotted';
  arrow: 'triangle' | 'vee' | 'none';
  /** A straight line even where parallel edges would bend apart. */
  straight: boolean;
}

function baseEdgeLook(palette: Palette): EdgeLook {
  return { width: 1.5, color: palette.muted, line: 'solid', arrow: 'triangle', straight: false };
}

/** What differs from the base look, by edge kind. */
const EDGE_KIND_LOOKS: Record<string, (palette: Palette) => Partial<EdgeLook>> = {
  control: () => ({ line: 'dashed' }),
  lifetime: () => ({ width: 6, arrow: 'none', straight: true }),
  monitor: () => ({ line: 'dashed' }),
  spawn: () => ({ line: 'dotted', arrow: 'vee' }),
  message: (palette) => ({ color: palette.listened }),
};

export function edgeLook(kind: string, palette: Palette): EdgeLook {
  return { ...baseEdgeLook(palette), ...EDGE_KIND_LOOKS[kind]?.(palette) };
}

function cytoscapeEdgeStyle(look: Partial<EdgeLook>): Record<string, string | number> {
  const style: Record<string, string | number> = {};
  if (look.width !== undefined) style.width = look.width;
  if (look.color !== undefined) {
    style['line-color'] = look.color;
    style['target-arrow-color'] = look.color;
  }
  if (look.line !== undefined) style['line-style'] = look.line;
  if (look.arrow !== undefined) style['target-arrow-shape'] = look.arrow;
  if (look.straight !== undefined) style['curve-style'] = look.straight ? 'straight' : 'bezier';
  return style;
}

/** How a box grouping nodes is drawn (a Cytoscape compound node, or a box of the large-graph layer). */
export interface BoxLook {
  fill: string;
  fillOpacity: number;
  border: string;
  dashed: boolean;
}

export function boxLook(kind: string, palette: Palette): BoxLook {
  // A supervisor's group box is fainter and dashed: the supervisor is drawn inside it, at its head.
  const group = kind === 'group';
  return {
    fill: palette.accent,
    fillOpacity: group ? 0.04 : 0.08,
    border: palette.muted,
    dashed: group,
  };
}

export function stylesheet(): StylesheetJson {
  const palette = themePalette();
  const { fg, bg, accent, focus, muted, warn, supervisor, listened } = palette;
  return [
    {
      selector: 'node',
      style: {
        'background-color': accent,
        label: 'data(label)',
        color: fg,
        'font-size': NODE_FONT_SIZE,
        'text-valign': 'bottom',
        'text-margin-y': 4,
        'text-outline-color': bg,
        'text-outline-width': 2,
        width: 22,
        height: 22,
        'min-zoomed-font-size': MIN_ZOOMED_FONT_SIZE,
      },
    },
    // Before the rules for kinds of edges, which override parts of it.
    {
      selector: 'edge',
      style: {
        ...cytoscapeEdgeStyle(baseEdgeLook(palette)),
        label: 'data(label)',
        'font-size': EDGE_FONT_SIZE,
        color: muted,
        'min-zoomed-font-size': MIN_ZOOMED_FONT_SIZE,
      },
    },
    {
      selector: ':parent',
      style: {
        'background-opacity': boxLook('', palette).fillOpacity,
        'border-color': boxLook('', palette).border,
        'border-width': 1,
        'text-valign': 'top',
      },
    },
    {
      selector: 'node[kind = "group"]',
      style: {
        'background-opacity': boxLook('group', palette).fillOpacity,
        'border-style': 'dashed',
      },
    },
    {
      selector: 'node[kind = "supervisor"]',
      style: { shape: 'round-rectangle', 'background-color': supervisor },
    },
    { selector: 'node[level = "mentioned"]', style: { 'background-opacity': 0.35 } },
    { selector: 'node[level = "listened"]', style: { 'background-color': listened } },
    { selector: 'node[kind = "dead"]', style: { 'background-color': muted, opacity: 0.6 } },
    {
      selector: 'node[kind = "current"]',
      style: { 'background-color': warn, width: 30, height: 30 },
    },
    { selector: 'node[kind = "alive"]', style: { width: 6, height: 6 } },
    ...Object.entries(EDGE_KIND_LOOKS).map(([kind, look]) => ({
      selector: `edge[kind = "${kind}"]`,
      style: cytoscapeEdgeStyle(look(palette)),
    })),
    { selector: 'node[kind = "warning"]', style: { 'background-color': warn } },
    { selector: ':selected', style: { 'border-width': 3, 'border-color': focus } },
  ];
}
