/** The graph's Cytoscape stylesheet, in the colours of the VS Code theme. */
import type { StylesheetJson } from 'cytoscape';

function themeColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

/** Below this on-screen size labels are not drawn: at a whole-map zoom they are unreadable clutter and most of the drawing time. */
const MIN_ZOOMED_FONT_SIZE = 6;

export function stylesheet(): StylesheetJson {
  const fg = themeColor('--vscode-editor-foreground', '#cccccc');
  const bg = themeColor('--vscode-editor-background', '#1e1e1e');
  const accent = themeColor('--vscode-charts-blue', '#3794ff');
  const focus = themeColor('--vscode-focusBorder', '#007fd4');
  const muted = themeColor('--vscode-descriptionForeground', '#8b8b8b');
  const warn = themeColor('--vscode-charts-orange', '#d18616');
  const supervisor = themeColor('--vscode-charts-purple', '#b180d7');
  const listened = themeColor('--vscode-charts-green', '#89d185');
  return [
    {
      selector: 'node',
      style: {
        'background-color': accent,
        label: 'data(label)',
        color: fg,
        'font-size': 11,
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
        width: 1.5,
        'line-color': muted,
        'target-arrow-color': muted,
        'target-arrow-shape': 'triangle',
        'curve-style': 'bezier',
        label: 'data(label)',
        'font-size': 9,
        color: muted,
        'min-zoomed-font-size': MIN_ZOOMED_FONT_SIZE,
      },
    },
    {
      selector: ':parent',
      style: {
        'background-opacity': 0.08,
        'border-color': muted,
        'border-width': 1,
        'text-valign': 'top',
      },
    },
    // A supervisor's group box: the supervisor is drawn inside it, at its head.
    {
      selector: 'node[kind = "group"]',
      style: { 'background-opacity': 0.04, 'border-style': 'dashed' },
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
    { selector: 'edge[kind = "control"]', style: { 'line-style': 'dashed' } },
    {
      selector: 'edge[kind = "lifetime"]',
      style: { width: 6, 'target-arrow-shape': 'none', 'curve-style': 'straight' },
    },
    { selector: 'node[kind = "alive"]', style: { width: 6, height: 6 } },
    { selector: 'edge[kind = "monitor"]', style: { 'line-style': 'dashed' } },
    {
      selector: 'edge[kind = "spawn"]',
      style: { 'line-style': 'dotted', 'target-arrow-shape': 'vee' },
    },
    {
      selector: 'edge[kind = "message"]',
      style: { 'line-color': listened, 'target-arrow-color': listened },
    },
    { selector: 'node[kind = "warning"]', style: { 'background-color': warn } },
    { selector: ':selected', style: { 'border-width': 3, 'border-color': focus } },
  ];
}
