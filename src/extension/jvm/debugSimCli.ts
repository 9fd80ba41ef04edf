/**
 * `bathysphere java debug-sim`: simulated feedback debugging (research mode). Records a buggy
 * and a fixed version of a program, lets the fixed run answer the recommender's questions, and
 * reports whether the search ended on a line the fix changed, and after how many feedbacks.
 * Exit 0 when located, 1 when not, 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import * as path from 'node:path';
import { CliError, ExitCode, type CliCommand, type CliIo } from '../cli/command';
import {
  simulateDebugging,
  ProgramRunError,
  TraceTooLongError,
  type SimulationResult,
} from './debugging/simulation';
import { defaultAgentJar, JvmRecordError } from './record';

const help = `usage: bathysphere java debug-sim --buggy CLASSPATH --fixed CLASSPATH --main CLASS [options] [-- ARGS...]

Records both versions of a program with the agent, aligns their traces, and simulates a
person giving Microbat-style feedback with the fixed run as the answer key: a step with no
counterpart is on the wrong path, a read whose value differs is a wrong value, anything else
is correct. The search starts where the output first differs. The root cause for scoring is
the lines the fix changed (a diff of the two versions' sources).

  --buggy CLASSPATH      classes of the buggy version
  --fixed CLASSPATH      classes of the fixed version
  --main CLASS           the main class (same in both)
  --buggy-src DIR        sources of the buggy version (default: the buggy class path)
  --fixed-src DIR        sources of the fixed version (default: the fixed class path)
  --max-feedbacks N      give up after N feedbacks (default 300)
  --max-steps N          refuse a run of more than N steps (default 500000; both traces
                         are held in memory, about 2 KB a step)
  --no-library-flows     plain Microbat dependencies (no links through JDK calls)
  --json                 print one JSON object: located, feedbacks, rootCause, path, ...

Exit status: 0 when the root cause was located, 1 when not, 2 on bad arguments.`;

const debugSim: CliCommand = {
  path: ['java', 'debug-sim'],
  summary: 'Simulate feedback debugging of a buggy program against its fixed version',
  help,
  async run(args: string[], io: CliIo) {
    const at = args.indexOf('--');
    const own = at < 0 ? args : args.slice(0, at);
    const programArgs = at < 0 ? [] : args.slice(at + 1);
    const { values } = parseArgs({
      args: own,
      options: {
        buggy: { type: 'string' },
        fixed: { type: 'string' },
        main: { type: 'string' },
        'buggy-src': { type: 'string' },
        'fixed-src': { type: 'string' },
        'max-feedbacks': { type: 'string' },
        'max-steps': { type: 'string' },
        'no-library-flows': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      strict: true,
    });
    if (!values.buggy || !values.fixed || !values.main) {
      throw new CliError('--buggy, --fixed and --main are required');
    }
    const maxFeedbacks = positiveInteger(values['max-feedbacks'], '--max-feedbacks');
    const maxSteps = positiveInteger(values['max-steps'], '--max-steps');
    let result: SimulationResult;
    try {
      result = simulateDebugging({
        buggy: { classPath: values.buggy, sourceRoots: roots(values['buggy-src']) },
        fixed: { classPath: values.fixed, sourceRoots: roots(values['fixed-src']) },
        mainClass: values.main,
        args: programArgs,
        agentJar: defaultAgentJar(),
        maxFeedbacks,
        maxSteps,
        withoutLibraryFlows: values['no-library-flows'] === true,
      });
    } catch (error) {
      if (
        error instanceof JvmRecordError ||
        error instanceof TraceTooLongError ||
        error instanceof ProgramRunError
      ) {
        throw new CliError(error.message);
      }
      throw error;
    }
    io.out(values.json ? `${JSON.stringify(result)}\n` : describe(result));
    return result.located ? ExitCode.ok : ExitCode.failed;
  },
};

function positiveInteger(option: string | undefined, name: string): number | undefined {
  if (option === undefined) return undefined;
  const value = Number(option);
  if (!(Number.isSafeInteger(value) && value > 0)) {
    throw new CliError(`${name} expects a positive integer`);
  }
  return value;
}

function roots(option: string | undefined): string[] | undefined {
  return option === undefined ? undefined : option.split(path.delimiter);
}

function describe(result: SimulationResult): string {
  const where = (l: { class: string; method: string; line: number }) =>
    `${l.class}.${l.method}:${l.line}`;
  const lines = [
    `traces: ${result.steps.buggy} buggy steps, ${result.steps.fixed} fixed, ${result.steps.aligned} aligned`,
    `failure: ${where(result.failureStep)} (${result.failureStep.how})`,
  ];
  for (const [i, record] of result.path.entries()) {
    const judged = record.variable ? `${record.feedback} ${record.variable}` : record.feedback;
    lines.push(`  ${i + 1}. ${where(record)} #${record.order}: ${judged}`);
  }
  const expected = result.expected.map((e) => `${e.class}:${e.lines.join(',')}`).join('; ');
  lines.push(
    result.rootCause
      ? `ended at ${where(result.rootCause)} after ${result.feedbacks} feedback(s): ` +
          (result.located ? 'root cause located' : `not the root cause (fix changed ${expected})`)
      : `gave up after ${result.feedbacks} feedback(s) (fix changed ${expected})`,
  );
  return lines.join('\n') + '\n';
}

export const debugSimCommands: CliCommand[] = [debugSim];
