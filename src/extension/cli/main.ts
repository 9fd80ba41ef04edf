/** The `bathysphere` command-line front end: the same core as the extension, no VS Code. */
import type { CliIo } from './command';
import { dispatch } from './dispatch';
import { commands } from './registry';

async function main(): Promise<void> {
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  // `bathysphere export ... | head` closes the pipe early: stop quietly, as Unix tools do.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const io: CliIo = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    signal: abort.signal,
  };
  const code = await dispatch(commands, process.argv.slice(2), io);
  process.exitCode = code;
}

void main();
