/**
 * The shape every CLI command takes. Commands live next to the feature they
 * expose (store, erlang, jvm) and are listed in one registry (cli/registry.ts);
 * the CLI entry point only parses the command path and dispatches.
 */

/** Exit codes shared by all commands. */
export const ExitCode = {
  ok: 0,
  /** The operation ran and reported a failure (an evaluation error, a failed check). */
  failed: 1,
  /** Bad input: unusable file, unreachable target, bad arguments. */
  usage: 2,
} as const;

/** An error meant for the person at the terminal: printed as one line, no stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.usage,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Where a command writes; tests pass in collectors instead of process streams. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Aborted when the user presses Ctrl-C; long operations must honour it. */
  signal: AbortSignal;
}

export interface CliCommand {
  /** Path of words after `bathysphere`, e.g. ['erlang', 'eval']. */
  path: string[];
  /** One line for the command list. */
  summary: string;
  /** Full help text printed by `--help` (usage line first). */
  help: string;
  /** Runs with the arguments after the command path; resolves to an exit code. */
  run(args: string[], io: CliIo): Promise<number>;
}
