/**
 * Finds the command named by the leading words of argv, handles help, and turns
 * every failure into an exit code with a one-line message (stack traces only
 * with BATHYSPHERE_DEBUG=1). Kept apart from main.ts so tests can call it.
 */
import { CliError, ExitCode, type CliCommand, type CliIo } from './command';

export async function dispatch(commands: CliCommand[], argv: string[], io: CliIo): Promise<number> {
  // Only our own options count: after `--` the words belong to the program being run.
  const separator = argv.indexOf('--');
  const ours = separator < 0 ? argv : argv.slice(0, separator);
  const wantsHelp = ours.includes('--help') || ours.includes('-h');
  const words = ours.filter((arg) => arg !== '--help' && arg !== '-h');
  if (words[0] === 'help') return printHelp(commands, words.slice(1), io);

  const match = longestMatch(commands, words);
  if (!match) {
    if (wantsHelp || words.length === 0) return printHelp(commands, words, io);
    const group = commandsUnder(commands, words.slice(0, 1));
    const hint = group.length > 0 ? `bathysphere ${words[0]} --help` : 'bathysphere --help';
    io.err(`bathysphere: unknown command '${words.join(' ')}' (see '${hint}')\n`);
    return ExitCode.usage;
  }
  if (wantsHelp) {
    io.out(match.help.trimEnd() + '\n');
    return ExitCode.ok;
  }
  try {
    return await match.run(argv.slice(match.path.length), io);
  } catch (error) {
    return reportFailure(error, match, io);
  }
}

function longestMatch(commands: CliCommand[], words: string[]): CliCommand | undefined {
  let best: CliCommand | undefined;
  for (const command of commands) {
    const matches = command.path.every((word, i) => words[i] === word);
    if (matches && (!best || command.path.length > best.path.length)) best = command;
  }
  return best;
}

function commandsUnder(commands: CliCommand[], prefix: string[]): CliCommand[] {
  return commands.filter((command) => prefix.every((word, i) => command.path[i] === word));
}

function printHelp(commands: CliCommand[], words: string[], io: CliIo): number {
  const exact = commands.find((command) => command.path.join(' ') === words.join(' '));
  if (exact && words.length > 0) {
    io.out(exact.help.trimEnd() + '\n');
    return ExitCode.ok;
  }
  const listed = commandsUnder(commands, words);
  if (listed.length === 0) {
    io.err(`bathysphere: no command '${words.join(' ')}' (see 'bathysphere --help')\n`);
    return ExitCode.usage;
  }
  const width = Math.max(...listed.map((command) => command.path.join(' ').length));
  io.out(
    [
      `usage: bathysphere ${words.length ? words.join(' ') + ' ' : ''}<command> [options]`,
      '',
      'Bathysphere records what Erlang nodes and JVM programs do, into session files (.bathy).',
      '',
      'commands:',
      ...listed.map((command) => `  ${command.path.join(' ').padEnd(width)}  ${command.summary}`),
      '',
      "Run 'bathysphere <command> --help' for a command's options.",
    ].join('\n') + '\n',
  );
  return ExitCode.ok;
}

function reportFailure(error: unknown, command: CliCommand, io: CliIo): number {
  const name = `bathysphere ${command.path.join(' ')}`;
  if (error instanceof CliError) {
    io.err(`${name}: ${error.message}\n`);
    return error.exitCode;
  }
  if (isArgumentError(error)) {
    io.err(`${name}: ${(error as Error).message} (see '${name} --help')\n`);
    return ExitCode.usage;
  }
  io.err(`${name}: internal error: ${(error as Error)?.message ?? String(error)}\n`);
  if (process.env.BATHYSPHERE_DEBUG) io.err(`${(error as Error)?.stack ?? ''}\n`);
  return ExitCode.failed;
}

function isArgumentError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
