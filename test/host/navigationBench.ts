/**
 * Not a test suite: the scenario of the navigation benchmark (bench/navigation-bench.ts). Inside
 * the real extension host it opens a long recorded run and times each trace navigation command
 * the way a keybinding runs it, until the window has applied the result: the trace query, the
 * editor selecting and revealing the line, the decorations and the status bar. Random steps
 * of the main thread; before each timed command the current step is reset (untimed). A bare
 * round trip to the window is timed too, as the floor under every command. The timings go to
 * the report file as JSON.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { JvmTraceReader } from '../../src/extension/jvm/traceReader';
import { activateExtension } from './extensionUnderTest';
import { NAVIGATION_COMMANDS, type NavigationBenchReport } from './navigationCommands';

export async function runNavigationBench(
  reportFile: string,
  sessionFile: string,
  samples: number,
): Promise<void> {
  const api = await activateExtension();
  const store = await api.sessions.open(sessionFile);
  const run = store.runs().find((r) => r.targetKind === 'jvm');
  if (!run) throw new Error(`${sessionFile} holds no JVM run`);
  await vscode.commands.executeCommand('bathysphere.trace.open', {
    file: sessionFile,
    run: { id: run.id },
  });
  const reader = new JvmTraceReader(store, run.id);
  const main = reader.threads().find((t) => t.isMain) ?? reader.threads()[0];
  const timings: Record<string, number[]> = { windowRoundTrip: [], goToStep: [] };
  for (const command of NAVIGATION_COMMANDS) timings[command] = [];
  const goTo = (order: number) =>
    vscode.commands.executeCommand('bathysphere.trace.goToStep', order, main.threadId);
  // A command that runs in the window: its reply comes after the window has applied every
  // update sent before it (selection, reveal, decorations, status bar travel on one ordered
  // channel), so the time includes the window's part, not just the extension host's.
  let probe = 0;
  const windowCaughtUp = () =>
    vscode.commands.executeCommand('setContext', 'bathysphere.benchProbe', ++probe);
  const timed = async (name: string, run: () => Thenable<unknown>) => {
    const started = performance.now();
    await run();
    await windowCaughtUp();
    timings[name].push(performance.now() - started);
  };
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let sample = 0; sample < samples; sample++) {
    // Away from both ends, so every move has somewhere to go.
    const order = 2 + Math.floor(random() * (main.steps - 3));
    await timed('windowRoundTrip', () => Promise.resolve());
    await timed('goToStep', () => goTo(order));
    for (const command of NAVIGATION_COMMANDS) {
      await goTo(order);
      const firstRead = reader.step(main.threadId, order)?.reads[0]?.name;
      // The read's name spares the picker that goToWriter shows when a step reads several.
      const args = command === 'goToWriter' && firstRead ? [firstRead] : [];
      await timed(command, () =>
        vscode.commands.executeCommand(`bathysphere.trace.${command}`, ...args),
      );
    }
  }
  const report: NavigationBenchReport = { steps: main.steps, samples, timings };
  fs.writeFileSync(reportFile, JSON.stringify(report));
}
