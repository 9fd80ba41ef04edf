/**
 * The Processes view: the processes of the node being recorded, grouped by
 * application and then by supervisor, with the actions a person takes on one
 * process (explore, listen, stop tracing, details, garbage-collect, kill).
 */
import * as vscode from 'vscode';
import { processGraph, type ProcessGraphNode } from '../erlang/processGraph';
import type { ProcessMap } from './processMap';

export type ProcessTreeNode =
  { kind: 'application'; name: string } | { kind: 'process'; node: ProcessGraphNode };

const NO_APPLICATION = '(no application)';

export class ProcessTree implements vscode.TreeDataProvider<ProcessTreeNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  /** The map as last read; the tree asks for it once per item, so it is read once per update. */
  private cached: ProcessGraphNode[] | undefined;

  constructor(private readonly map: ProcessMap) {
    map.onDidUpdate(() => {
      this.cached = undefined;
      this.changed.fire();
    });
  }

  private processes(): ProcessGraphNode[] {
    if (!this.cached) {
      const recording = this.map.current();
      this.cached = recording ? processGraph(recording.store, recording.runId).nodes : [];
    }
    return this.cached;
  }

  getChildren(parent?: ProcessTreeNode): ProcessTreeNode[] {
    const all = this.processes();
    if (!parent) {
      const applications = new Set(all.map((p) => p.data.application ?? NO_APPLICATION));
      return [...applications].sort().map((name) => ({ kind: 'application', name }));
    }
    const onMap = new Set(all.map((p) => p.id));
    if (parent.kind === 'application') {
      // Top of each application: processes whose supervisor is not on the map.
      return all
        .filter((p) => (p.data.application ?? NO_APPLICATION) === parent.name)
        .filter((p) => !p.parent || !onMap.has(p.parent))
        .map((node) => ({ kind: 'process', node }));
    }
    return all
      .filter((p) => p.parent === parent.node.id)
      .map((node) => ({ kind: 'process', node }));
  }

  getTreeItem(element: ProcessTreeNode): vscode.TreeItem {
    if (element.kind === 'application') {
      const item = new vscode.TreeItem(element.name, vscode.TreeItemCollapsibleState.Expanded);
      item.iconPath = new vscode.ThemeIcon('package');
      return item;
    }
    const { node } = element;
    const hasChildren = this.processes().some((p) => p.parent === node.id);
    const item = new vscode.TreeItem(
      node.label,
      hasChildren ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
    );
    const { level, state, exitReason, pid } = node.data;
    item.description = `${pid} · ${state === 'dead' ? `dead (${exitReason ?? '?'})` : level}`;
    item.contextValue = state === 'dead' ? 'process.dead' : 'process';
    item.iconPath = new vscode.ThemeIcon(
      state === 'dead'
        ? 'circle-slash'
        : node.kind === 'supervisor'
          ? 'organization'
          : level === 'listened'
            ? 'unmute'
            : 'circle-filled',
    );
    item.tooltip = `${node.label} ${pid}\nlevel: ${level}${node.data.boundary ? ' (traps exits: the island stops here)' : ''}`;
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** The commands on one process of the view; each also takes a pid or name when called directly. */
export function registerProcessActions(map: ProcessMap): vscode.Disposable[] {
  const target = (arg?: ProcessTreeNode | string) =>
    typeof arg === 'string' ? arg : arg?.kind === 'process' ? arg.node.data.pid : undefined;
  const session = () => {
    const recording = map.current();
    if (!recording)
      throw new Error('no node is being recorded (Explore Process... starts a recording)');
    return recording.session;
  };
  const run = (body: () => Promise<unknown>) =>
    body().catch(
      (error: Error) => void vscode.window.showErrorMessage(`Bathysphere: ${error.message}`),
    );
  return [
    vscode.commands.registerCommand(
      'bathysphere.process.stopTracing',
      (arg?: ProcessTreeNode | string) =>
        run(async () => {
          const pid = target(arg);
          if (pid) await session().stopTracing(pid);
        }),
    ),
    vscode.commands.registerCommand(
      'bathysphere.process.garbageCollect',
      (arg?: ProcessTreeNode | string) =>
        run(async () => {
          const pid = target(arg);
          if (!pid) return;
          const collected = await session().garbageCollect(pid);
          vscode.window.setStatusBarMessage(
            `Bathysphere: ${pid} ${collected ? 'garbage-collected' : 'is gone'}`,
            4000,
          );
        }),
    ),
    vscode.commands.registerCommand(
      'bathysphere.process.kill',
      (arg?: ProcessTreeNode | string, confirmed?: boolean) =>
        run(async () => {
          const pid = target(arg);
          if (!pid) return;
          const sure =
            confirmed === true ||
            (await vscode.window.showWarningMessage(
              `Kill ${pid}? Its links will see an exit with reason kill.`,
              { modal: true },
              'Kill',
            )) === 'Kill';
          if (sure) await session().kill(pid);
        }),
    ),
    vscode.commands.registerCommand(
      'bathysphere.process.details',
      (arg?: ProcessTreeNode | string) =>
        run(async () => {
          const pid = target(arg);
          if (!pid) return undefined;
          const details = await session().processInfo(pid);
          if (!details) {
            void vscode.window.showInformationMessage(`Bathysphere: ${pid} is not alive.`);
            return undefined;
          }
          const document = await vscode.workspace.openTextDocument({
            language: 'json',
            content: JSON.stringify(details, null, 2),
          });
          await vscode.window.showTextDocument(document, {
            preview: true,
            viewColumn: vscode.ViewColumn.Beside,
          });
          return details;
        }),
    ),
  ];
}
