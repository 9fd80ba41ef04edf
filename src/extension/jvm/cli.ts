/**
 * `bathysphere java record`: runs a Java program with the agent and records it into a session.
 * Exit 0 once something was recorded (whatever the program's own exit code, which is
 * reported), 2 on usage errors or when the agent never connected.
 */
import { parseArgs } from 'node:util';
import { CliError, ExitCode, type CliCommand, type CliIo } from '../cli/command';
import { SessionFileError } from '../store/sessionStore';
import { JvmRecordError, recordJavaProgram } from './record';

const recordHelp = `usage: bathysphere java record --out FILE [options] -- JAVA_COMMAND...

Runs JAVA_COMMAND (a java executable and its arguments, e.g. java -cp out demo.Main)
with the Bathysphere agent and records every executed step into the session FILE
(created if needed; each JVM becomes a new run). The program's output passes through.
Ctrl-C stops the program and keeps what was recorded.

  --out FILE         the session file (.bathy)
  --include GLOB     record only classes matching GLOB (repeatable; ** any, * one segment)
  --exclude GLOB     do not record classes matching GLOB (repeatable)
  --max-steps N      stop recording after about N steps (the program runs on)
  --agent-option K=V extra agent option, e.g. mode=lines (repeatable)

Exit status: 0 when recorded (the program's exit code is reported), 2 on bad
arguments or when the JVM's agent did not connect.`;

function splitAtDoubleDash(args: string[]): { own: string[]; command: string[] } {
  const at = args.indexOf('--');
  return at < 0
    ? { own: args, command: [] }
    : { own: args.slice(0, at), command: args.slice(at + 1) };
}

function positiveInteger(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new CliError(`${option} expects a positive integer, got '${text}'`);
  }
  return value;
}

const record: CliCommand = {
  path: ['java', 'record'],
  summary: 'Run a Java program with the agent and record it into a session file',
  help: recordHelp,
  async run(args: string[], io: CliIo) {
    const { own, command } = splitAtDoubleDash(args);
    const { values, positionals } = parseArgs({
      args: own,
      options: {
        out: { type: 'string' },
        include: { type: 'string', multiple: true },
        exclude: { type: 'string', multiple: true },
        'max-steps': { type: 'string' },
        'agent-option': { type: 'string', multiple: true },
      },
      allowPositionals: true,
      strict: true,
    });
    if (!values.out) throw new CliError('--out FILE is required');
    const javaCommand = [...positionals, ...command];
    if (javaCommand.length < 2) {
      throw new CliError('expected a java command line after --, e.g. -- java -cp out demo.Main');
    }
    const showProgress = process.stderr.isTTY === true;
    let lastProgress = 0;
    try {
      const result = await recordJavaProgram({
        javaCommand,
        sessionFile: values.out,
        include: values.include,
        exclude: values.exclude,
        maxSteps: positiveInteger(values['max-steps'], '--max-steps'),
        agentOptions: values['agent-option'],
        signal: io.signal,
        onOutput: (text, stream) => (stream === 'stdout' ? io.out(text) : io.err(text)),
        onProgress: ({ steps, threads }) => {
          if (!showProgress || Date.now() - lastProgress < 250) return;
          lastProgress = Date.now();
          io.err(`\rrecording: ${steps.toLocaleString('en')} steps, ${threads} thread(s)`);
        },
      });
      if (showProgress) io.err('\r\x1b[K');
      const ending = result.cancelled
        ? 'stopped (cancelled)'
        : `exited with code ${result.exitCode}`;
      io.out(
        `recorded run ${result.runIds.join(', ')} into ${values.out}: ${result.steps} step(s), ` +
          `${result.threads} thread(s); the program ${ending}\n`,
      );
      for (const warning of result.warnings.slice(0, 20)) io.err(`warning: ${warning}\n`);
      return ExitCode.ok;
    } catch (error) {
      if (error instanceof JvmRecordError || error instanceof SessionFileError) {
        throw new CliError(error.message, ExitCode.usage);
      }
      throw error;
    }
  },
};

export const javaCommands: CliCommand[] = [record];
