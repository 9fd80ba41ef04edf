// What the navigation benchmark's workbench scenario (navigationBench.ts, inside the extension
// host) and its driver (bench/navigation-bench.ts, in plain Node) share: no `vscode` import.

/** The trace navigation commands (`bathysphere.trace.*`) that keybindings run. */
export const NAVIGATION_COMMANDS = [
  'stepForward',
  'stepBack',
  'stepOverForward',
  'stepOverBack',
  'stepInto',
  'stepOut',
  'goToControlDominator',
  'goToWriter',
  'nextExecution',
  'previousExecution',
] as const;

export type NavigationCommand = (typeof NAVIGATION_COMMANDS)[number];

export interface NavigationBenchReport {
  steps: number;
  samples: number;
  /** Milliseconds per command, one entry per sample. */
  timings: Record<string, number[]>;
}
