/** The Sessions view: open session files, and the runs inside each. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Run, SessionStore } from '../store/sessionStore';
import type { OpenSessions } from './sessions';

export type SessionsNode =
  { kind: 'session'; file: string } | { kind: 'run'; file: string; run: Run };

export class SessionsView implements vscode.TreeDataProvider<SessionsNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly sessions: OpenSessions) {
    sessions.onDidChange(() => this.changed.fire());
  }

  getChildren(element?: SessionsNode): SessionsNode[] {
    if (!element)
      return this.sessions.all().map((store) => ({ kind: 'session', file: store.file }));
    if (element.kind === 'session') {
      const store = this.sessions.get(element.file);
      return store ? store.runs().map((run) => ({ kind: 'run', file: element.file, run })) : [];
    }
    return [];
  }

  getTreeItem(element: SessionsNode): vscode.TreeItem {
    if (element.kind === 'session')
      return sessionItem(element.file, this.sessions.get(element.file));
    return runItem(element);
  }
}

function sessionItem(file: string, store: SessionStore | undefined): vscode.TreeItem {
  const item = new vscode.TreeItem(path.basename(file), vscode.TreeItemCollapsibleState.Expanded);
  item.id = `session:${file}`;
  item.contextValue = 'session';
  item.resourceUri = vscode.Uri.file(file);
  item.tooltip = file;
  if (store) {
    const counts = store.counts();
    item.description = `${counts.runs} run(s)`;
  }
  item.iconPath = new vscode.ThemeIcon('database');
  return item;
}

function runItem(node: Extract<SessionsNode, { kind: 'run' }>): vscode.TreeItem {
  const { run } = node;
  const item = new vscode.TreeItem(`${run.target}`, vscode.TreeItemCollapsibleState.None);
  item.id = `run:${node.file}:${run.id}`;
  item.contextValue = `run.${run.targetKind}`;
  item.description = `${run.targetKind} · run ${run.id}`;
  item.tooltip = `${run.targetKind} run ${run.id}\ncreated ${run.createdAt}${run.project ? `\nproject ${run.project}` : ''}`;
  item.iconPath = new vscode.ThemeIcon(
    run.targetKind === 'erlang'
      ? 'server-process'
      : run.targetKind === 'jvm'
        ? 'debug-alt'
        : 'type-hierarchy',
  );
  // A recorded program opens where its steps are; other runs show their graph.
  item.command =
    run.targetKind === 'jvm'
      ? { command: 'bathysphere.trace.open', title: 'Open Trace', arguments: [node] }
      : { command: 'bathysphere.showGraph', title: 'Show Graph', arguments: [node] };
  return item;
}
