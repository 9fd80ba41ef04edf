/**
 * The Trace view: the open run's threads, then each thread's invocation tree,
 * with loops grouped into iterations (traceOutline.ts). A step that calls
 * methods expands to the steps of those calls. Children are read a page at a
 * time, so a very long trace opens and scrolls without reading it all.
 */
import * as vscode from 'vscode';
import { describeLocation, describeStep } from '../jvm/navigation';
import {
  bodyIterations,
  iterationEnd,
  outlineIteration,
  outlineSteps,
  type OutlineLoop,
  type OutlinePage,
} from '../jvm/traceOutline';
import type { JvmTraceReader } from '../jvm/traceReader';
import type { TraceEditor } from './traceEditor';

const PAGE = 100;

export type TraceNode =
  | { kind: 'thread'; threadId: number; name: string; steps: number }
  | { kind: 'step'; threadId: number; order: number }
  | { kind: 'loop'; threadId: number; loop: OutlineLoop }
  | { kind: 'iteration'; threadId: number; loop: OutlineLoop; index: number }
  | { kind: 'more'; threadId: number; from: number; until?: number }
  | { kind: 'moreIterations'; threadId: number; loop: OutlineLoop; from: number };

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
    const { threadId } = node;
    switch (node.kind) {
      case 'thread':
        return this.pageNodes(threadId, outlineSteps(reader, threadId, 1));
      case 'step': {
        const first = this.firstCallee(reader, threadId, node.order);
        return first === undefined
          ? []
          : this.pageNodes(threadId, outlineSteps(reader, threadId, first));
      }
      case 'loop':
        return this.iterationNodes(threadId, node.loop, 0);
      case 'moreIterations':
        return this.iterationNodes(threadId, node.loop, node.from);
      case 'iteration': {
        const page = outlineIteration(reader, threadId, node.loop, node.index);
        return this.pageNodes(threadId, page, iterationEnd(node.loop, node.index));
      }
      case 'more':
        return this.pageNodes(
          threadId,
          outlineSteps(reader, threadId, node.from, node.until),
          node.until,
        );
    }
  }

  private pageNodes(threadId: number, page: OutlinePage, until?: number): TraceNode[] {
    const nodes: TraceNode[] = page.entries.map((entry) =>
      entry.kind === 'loop'
        ? { kind: 'loop', threadId, loop: entry }
        : { kind: 'step', threadId, order: entry.order },
    );
    if (page.next !== undefined) {
      nodes.push({
        kind: 'more',
        threadId,
        from: page.next,
        ...(until === undefined ? {} : { until }),
      });
    }
    return nodes;
  }

  private iterationNodes(threadId: number, loop: OutlineLoop, from: number): TraceNode[] {
    const to = Math.min(loop.heads.length, from + PAGE);
    const nodes: TraceNode[] = [];
    for (let index = from; index < to; index++)
      nodes.push({ kind: 'iteration', threadId, loop, index });
    if (to < loop.heads.length) nodes.push({ kind: 'moreIterations', threadId, loop, from: to });
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
    if (node.kind === 'more' || node.kind === 'moreIterations') {
      const what = node.kind === 'more' ? 'steps' : 'iterations';
      const item = new vscode.TreeItem(`More ${what}…`, vscode.TreeItemCollapsibleState.Collapsed);
      item.description =
        node.kind === 'more' ? `from #${node.from}` : `from iteration ${node.from + 1}`;
      return item;
    }
    if (node.kind === 'loop') return this.loopItem(reader, node.threadId, node.loop);
    if (node.kind === 'iteration') return this.iterationItem(node.threadId, node.loop, node.index);
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
    item.command = this.goTo(node.threadId, node.order);
    return item;
  }

  private loopItem(reader: JvmTraceReader, threadId: number, loop: OutlineLoop): vscode.TreeItem {
    const head = reader.step(threadId, loop.heads[0])!;
    const item = new vscode.TreeItem(
      `Loop at ${describeLocation(head)}`,
      vscode.TreeItemCollapsibleState.Collapsed,
    );
    const count = bodyIterations(loop);
    item.description = loop.complete
      ? `${count.toLocaleString()} iteration${count === 1 ? '' : 's'}`
      : `${count.toLocaleString()}+ iterations (more not read yet)`;
    item.iconPath = new vscode.ThemeIcon('sync');
    item.command = this.goTo(threadId, loop.heads[0]);
    return item;
  }

  private iterationItem(threadId: number, loop: OutlineLoop, index: number): vscode.TreeItem {
    const head = loop.heads[index];
    const exitTest = index === bodyIterations(loop);
    const item = new vscode.TreeItem(
      exitTest ? 'Exit test' : `Iteration ${index + 1}`,
      vscode.TreeItemCollapsibleState.Collapsed,
    );
    item.description = `#${head}`;
    item.iconPath = new vscode.ThemeIcon(exitTest ? 'debug-step-out' : 'debug-restart');
    item.command = this.goTo(threadId, head);
    return item;
  }

  private goTo(threadId: number, order: number): vscode.Command {
    return {
      command: 'bathysphere.trace.goToStep',
      title: 'Go to Step',
      arguments: [order, threadId],
    };
  }

  dispose(): void {
    this.changed.dispose();
  }
}
