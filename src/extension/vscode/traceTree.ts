/**
 * The Trace view: the open run's threads, then each thread's invocation tree.
 * A step that calls methods expands to the steps of those calls. Children are
 * found with step-over moves (which skip whole chunks that run deeper), a page
 * at a time, so a very long trace opens and scrolls without reading it all.
 */
import * as vscode from 'vscode';
import { describeStep } from '../jvm/navigation';
import type { JvmTraceReader } from '../jvm/traceReader';
import type { TraceEditor } from './traceEditor';

const PAGE = 100;

export type TraceNode =
  | { kind: 'thread'; threadId: number; name: string; steps: number }
  | { kind: 'step'; threadId: number; order: number; parent?: number }
  | { kind: 'more'; threadId: number; from: number; parent?: number };

export class TraceTree implements vscode.TreeDataProvider<TraceNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private shownRun: string | undefined;

  constructor(private readonly traceEditor: TraceEditor) {
    // Rebuild when another run opens; moving within a run keeps the tree as it is.
    traceEditor.onDidChangeStep((status) => {
      const run = status ? `${status.sessionFile}#${status.runId}` : undefined;
      if (run !== this.shownRun) {
        this.shownRun = run;
        this.changed.fire();
      }
    });
  }

  private get reader(): JvmTraceReader | undefined {
    return this.traceEditor.currentReader();
  }

  getChildren(node?: TraceNode): TraceNode[] {
    const reader = this.reader;
    if (!reader) return [];
    if (!node) {
      return reader
        .threads()
        .map((t) => ({ kind: 'thread', threadId: t.threadId, name: t.name, steps: t.steps }));
    }
    if (node.kind === 'thread') return this.siblings(reader, node.threadId, 1, undefined);
    if (node.kind === 'step') {
      const first = this.firstCallee(reader, node.threadId, node.order);
      return first === undefined ? [] : this.siblings(reader, node.threadId, first, node.order);
    }
    return this.siblings(reader, node.threadId, node.from, node.parent); // the next page
  }

  /** Steps at the same depth as `from`, in order, until the invocation returns; one page. */
  private siblings(
    reader: JvmTraceReader,
    threadId: number,
    from: number,
    parent: number | undefined,
  ): TraceNode[] {
    const depth = reader.step(threadId, from)?.depth;
    if (depth === undefined) return [];
    const nodes: TraceNode[] = [];
    let order: number | undefined = from;
    while (order !== undefined && nodes.length < PAGE) {
      nodes.push({ kind: 'step', threadId, order, parent });
      const next = reader.stepOver(threadId, order, 'next');
      order = next !== undefined && reader.step(threadId, next)?.depth === depth ? next : undefined;
    }
    if (order !== undefined) nodes.push({ kind: 'more', threadId, from: order, parent });
    return nodes;
  }

  /** The first step of the calls a step makes, when the next step runs deeper. */
  private firstCallee(reader: JvmTraceReader, threadId: number, order: number): number | undefined {
    const here = reader.step(threadId, order);
    const next = reader.step(threadId, order + 1);
    return here && next && next.depth > here.depth ? order + 1 : undefined;
  }

  getTreeItem(node: TraceNode): vscode.TreeItem {
    const reader = this.reader!;
    if (node.kind === 'thread') {
      const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Collapsed);
      item.description = `${node.steps.toLocaleString()} steps`;
      item.iconPath = new vscode.ThemeIcon('list-tree');
      return item;
    }
    if (node.kind === 'more') {
      const item = new vscode.TreeItem('More steps…', vscode.TreeItemCollapsibleState.Collapsed);
      item.description = `from #${node.from}`;
      return item;
    }
    const step = reader.step(node.threadId, node.order)!;
    const calls = this.firstCallee(reader, node.threadId, node.order) !== undefined;
    const item = new vscode.TreeItem(
      describeStep(step),
      calls ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    const current = this.traceEditor.current();
    const isCurrent = current?.threadId === node.threadId && current.order === node.order;
    item.iconPath = new vscode.ThemeIcon(
      isCurrent ? 'debug-stackframe' : calls ? 'symbol-method' : 'circle-small',
    );
    item.description = [...step.writes.map((w) => `${w.name}=${w.value}`)].join(', ').slice(0, 80);
    item.command = {
      command: 'bathysphere.trace.goToStep',
      title: 'Go to Step',
      arguments: [node.order, node.threadId],
    };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
