import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeJavaDemo } from '../support/javaDemo';
import type { FeedbackOutcome } from '../../src/extension/vscode/feedbackCommands';
import type { TraceNode } from '../../src/extension/vscode/traceTree';
import { activateExtension, waitFor } from './extensionUnderTest';

/** The demo program's lines (test/fixtures/demo/java/demo/Main.java). */
const LINE = {
  mainNew: 40,
  mainAverage: 41,
  averageCount: 24,
  sumReset: 16,
  sumLoop: 17,
  sumAdd: 18,
  maxCompare: 32,
  maxAssign: 33,
  mainReport: 43,
  mainPrint: 44,
};

describe('Bathysphere in the extension host: travelling through a Java trace', () => {
  let workspace: string;
  let sessionFile: string;

  before(async function () {
    workspace = vscode.workspace.workspaceFolders![0].uri.fsPath;
    await writeJavaDemo(workspace);
    sessionFile = path.join(workspace, 'navigation.bathy');
    const ended = new Promise<void>((resolve) => {
      const listener = vscode.debug.onDidTerminateDebugSession(() => {
        listener.dispose();
        resolve();
      });
    });
    await vscode.debug.startDebugging(vscode.workspace.workspaceFolders![0], {
      type: 'bathysphere-java',
      request: 'launch',
      name: 'Record for navigation',
      mainClass: 'demo.Main',
      classPaths: [path.join(workspace, 'out')],
      sessionFile,
    });
    await ended;
    assert.ok(fs.existsSync(sessionFile));
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  async function at(): Promise<
    NonNullable<ReturnType<Awaited<ReturnType<typeof activateExtension>>['currentStep']>>
  > {
    const api = await activateExtension();
    return waitFor('a current step', () => api.currentStep());
  }

  it('opens the run at its first step and shows the source line', async () => {
    const api = await activateExtension();
    const store = api.sessions.get(sessionFile)!;
    await vscode.commands.executeCommand('bathysphere.trace.open', {
      file: sessionFile,
      run: store.runs()[0],
    });
    const step = await at();
    assert.equal(step.order, 1);
    assert.equal(step.className, 'demo.Main');
    assert.equal(step.method, 'main');
    assert.equal(step.line, LINE.mainNew);
    assert.equal(step.threadName, 'main');
    assert.equal(step.sourceFile, path.join(workspace, 'src/demo/Main.java'));
    const editor = vscode.window.activeTextEditor!;
    assert.equal(editor.document.uri.fsPath, step.sourceFile);
    assert.equal(editor.selection.active.line, LINE.mainNew - 1);
  });

  it('steps into, over and out, forwards and backwards', async () => {
    await vscode.commands.executeCommand('bathysphere.trace.stepInto'); // into the constructor
    const constructor = await at();
    assert.equal(constructor.method, '<init>');
    await vscode.commands.executeCommand('bathysphere.trace.stepOut');
    assert.equal((await at()).order, 1);
    await vscode.commands.executeCommand('bathysphere.trace.stepOverForward');
    const average = await at();
    assert.equal(average.line, LINE.mainAverage);
    assert.equal(average.method, 'main');
    await vscode.commands.executeCommand('bathysphere.trace.stepOverBack');
    assert.equal((await at()).order, 1);
    await vscode.commands.executeCommand('bathysphere.trace.stepForward');
    assert.equal((await at()).order, 2);
    await vscode.commands.executeCommand('bathysphere.trace.stepBack');
    assert.equal((await at()).order, 1);
  });

  it('shows the reads and writes of the current step with their values', async () => {
    // The first execution of `total += readings[i]` reads total = 0 and readings[0] = 4.
    const editor = vscode.window.activeTextEditor!;
    editor.selection = new vscode.Selection(LINE.sumAdd - 1, 0, LINE.sumAdd - 1, 0);
    await vscode.commands.executeCommand('bathysphere.trace.nextExecution');
    const add = await at();
    assert.equal(add.line, LINE.sumAdd);
    assert.ok(
      add.readsText.some((text) => /\[0\] = 4$/.test(text)),
      add.readsText.join('; '),
    );
    assert.ok(
      add.writesText.some((text) => /total = 4$/.test(text)),
      add.writesText.join('; '),
    );
    await vscode.commands.executeCommand('bathysphere.trace.nextExecution');
    const second = await at();
    assert.equal(second.line, LINE.sumAdd);
    assert.ok(second.order > add.order);
    assert.ok(
      second.writesText.some((text) => /total = 12$/.test(text)),
      second.writesText.join('; '),
    );
    await vscode.commands.executeCommand('bathysphere.trace.previousExecution');
    assert.equal((await at()).order, add.order);
  });

  it('goes to the control dominator and to the step that wrote a read variable', async () => {
    await vscode.commands.executeCommand('bathysphere.trace.goToControlDominator');
    const loop = await at();
    assert.equal(loop.line, LINE.sumLoop, 'the loop condition controls the loop body');
    await vscode.commands.executeCommand('bathysphere.trace.nextExecution');
    await vscode.commands.executeCommand('bathysphere.trace.stepForward');
    const add = await at();
    assert.equal(add.line, LINE.sumAdd);
    await vscode.commands.executeCommand('bathysphere.trace.goToWriter', 'total');
    const writer = await at();
    assert.ok(writer.order < add.order);
    assert.ok(
      [LINE.sumReset, LINE.sumAdd].includes(writer.line),
      `wrote total at line ${writer.line}`,
    );
  });

  it('goes to a numbered step', async () => {
    await vscode.commands.executeCommand('bathysphere.trace.goToStep', 3);
    assert.equal((await at()).order, 3);
  });

  it('proposes the next step to inspect from feedback, keeps it in the session, and undoes', async () => {
    const api = await activateExtension();
    await vscode.commands.executeCommand('bathysphere.trace.goToStep', 1);
    const editor = vscode.window.activeTextEditor!;
    editor.selection = new vscode.Selection(LINE.mainPrint - 1, 0, LINE.mainPrint - 1, 0);
    await vscode.commands.executeCommand('bathysphere.trace.nextExecution');
    assert.equal((await at()).line, LINE.mainPrint);

    // The printed report is wrong: the suggestion is the step that built it.
    const first = await vscode.commands.executeCommand<FeedbackOutcome>(
      'bathysphere.feedback.wrongValue',
      'report',
    );
    assert.equal(first.feedbacks, 1);
    assert.equal(first.suggestion!.rootCause, false);
    assert.ok(first.suggestion!.reason.length > 10, first.suggestion!.reason);
    const built = await at();
    assert.equal(built.line, LINE.mainReport);
    assert.equal(built.order, first.suggestion!.step.order);

    // Its `average` is wrong: the suggestion is where average was assigned.
    const second = await vscode.commands.executeCommand<FeedbackOutcome>(
      'bathysphere.feedback.wrongValue',
      'average',
    );
    assert.equal(second.feedbacks, 2);
    assert.equal((await at()).line, LINE.mainAverage);

    const store = api.sessions.get(sessionFile)!;
    const stored = store.query<{ kind: string }>('SELECT kind FROM jvm_feedback ORDER BY seq');
    assert.deepEqual(
      stored.map((row) => row.kind),
      ['wrong-value', 'wrong-value'],
    );

    // "Right, but not updated since": the search looks for the update that went missing.
    const third = await vscode.commands.executeCommand<FeedbackOutcome>(
      'bathysphere.feedback.notUpdated',
    );
    assert.equal(third.feedbacks, 3);
    assert.ok(third.suggestion!.reason.length > 10, third.suggestion!.reason);
    assert.deepEqual(
      store
        .query<{ kind: string }>('SELECT kind FROM jvm_feedback ORDER BY seq')
        .map((r) => r.kind),
      ['wrong-value', 'wrong-value', 'missing-update'],
    );
    await vscode.commands.executeCommand('bathysphere.feedback.undo');

    const undone = await vscode.commands.executeCommand<FeedbackOutcome>(
      'bathysphere.feedback.undo',
    );
    assert.equal(undone.feedbacks, 1);
    assert.equal((await at()).order, built.order);
    assert.equal(store.query('SELECT seq FROM jvm_feedback').length, 1);
  });

  it('lists threads and the invocation tree in the Trace view', async () => {
    const api = await activateExtension();
    const threads = api.traceTree.getChildren();
    assert.deepEqual(
      threads.map((node) => node.kind === 'thread' && node.name),
      ['main'],
    );
    const top = api.traceTree.getChildren(threads[0]);
    const first = top[0];
    assert.equal(first.kind, 'step');
    assert.equal((first as { order: number }).order, 1);
    // main's own steps: every one at main's depth, in order, the constructor call expandable.
    const item = api.traceTree.getTreeItem(first);
    assert.equal(item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    assert.match(String(item.label), /Main\.main:40$/);
    const constructor = api.traceTree.getChildren(first);
    assert.ok(constructor.length > 0);
    assert.match(String(api.traceTree.getTreeItem(constructor[0]).label), /Main\.<init>:\d+$/);
    const lines = top.map((node) => String(api.traceTree.getTreeItem(node).label));
    assert.ok(
      lines.every((label) => label.includes('Main.main:')),
      lines.join(', '),
    );
    const orders = top.map((node) => (node as { order: number }).order);
    assert.deepEqual(
      orders,
      [...orders].sort((a, b) => a - b),
    );
  });

  it('groups a loop into its iterations in the Trace view', async () => {
    const api = await activateExtension();
    const tree = api.traceTree;
    const label = (node: TraceNode) => String(tree.getTreeItem(node).label);
    const [thread] = tree.getChildren();
    const averageCall = tree
      .getChildren(thread)
      .find((node) => label(node).endsWith(`Main.main:${LINE.mainAverage}`))!;
    const sumCall = tree.getChildren(averageCall).find((node) => tree.getChildren(node).length)!;
    const sumSteps = tree.getChildren(sumCall);
    // sum(): total = 0, the loop over five of the six readings, return.
    assert.deepEqual(
      sumSteps.map((node) => node.kind),
      ['step', 'loop', 'step'],
    );
    const loop = sumSteps[1];
    assert.equal(label(loop), `Loop at Main.sum:${LINE.sumLoop}`);
    assert.equal(tree.getTreeItem(loop).description, '5 iterations');
    const iterations = tree.getChildren(loop);
    assert.deepEqual(iterations.map(label), [
      'Iteration 1',
      'Iteration 2',
      'Iteration 3',
      'Iteration 4',
      'Iteration 5',
      'Exit test',
    ]);
    const body = tree.getChildren(iterations[2]).map((node) => tree.getTreeItem(node));
    assert.deepEqual(
      body.map((item) => String(item.label).split(':').pop()),
      [`${LINE.sumLoop}`, `${LINE.sumAdd}`],
    );
    // Selecting an iteration moves the current step to its condition step.
    const goTo = tree.getTreeItem(iterations[2]).command!;
    await vscode.commands.executeCommand(goTo.command, ...(goTo.arguments ?? []));
    const current = await at();
    assert.equal(current.line, LINE.sumLoop);
  });

  it('draws the current step’s dependencies and follows the step', async () => {
    const api = await activateExtension();
    const editor = vscode.window.activeTextEditor!;
    await vscode.commands.executeCommand('bathysphere.trace.goToStep', 1);
    editor.selection = new vscode.Selection(LINE.sumAdd - 1, 0, LINE.sumAdd - 1, 0);
    await vscode.commands.executeCommand('bathysphere.trace.nextExecution');
    const add = await at();
    await vscode.commands.executeCommand('bathysphere.trace.showDependencies');
    // total += readings[i]: controlled by the loop condition, reading total, readings and i.
    const first = await waitFor('the dependency graph', () =>
      api.graphPanels().find((p) => p.source.focus?.order === add.order && p.rendered),
    );
    assert.ok(first.rendered!.nodeCount >= 4, `${first.rendered!.nodeCount} steps`);
    assert.ok(first.rendered!.edgeCount >= 3, `${first.rendered!.edgeCount} dependences`);
    await vscode.commands.executeCommand('bathysphere.trace.stepForward');
    const next = await at();
    await waitFor('the graph to follow the step', () =>
      api.graphPanels().find((p) => p.source.focus?.order === next.order && p.rendered),
    );
  });
});
