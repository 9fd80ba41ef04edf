// Simulated feedback debugging over the seeded-bug corpus (test/fixtures/java/bugs): builds the
// corpus, runs `bathysphere java debug-sim --json` on every program, and reports how many root
// causes were located and how many feedbacks it took.
//
//   npx tsx bench/debug-sim-bench.ts [--no-library-flows] [--only NAME] [--corpus DIR]
//
// --corpus test/fixtures/java/bugs-heldout runs the held-out corpus: programs written after the
// search was tuned on the main corpus and not used to tune it since.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { option, optionValue } from './benchArgs';

const REPO = resolve(__dirname, '..');
const BUILD = join(REPO, 'test/fixtures/java/bugs/build.sh');

interface Outcome {
  name: string;
  located: boolean;
  feedbacks: number;
  reachedAfter: number;
  steps: number;
  rootCause?: { class: string; method: string; line: number };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function main(): void {
  const extra = process.argv.includes('--no-library-flows') ? ['--no-library-flows'] : [];
  const only = optionValue('only');
  const CORPUS = resolve(option('corpus', join(REPO, 'test/fixtures/java/bugs')));
  const out = mkdtempSync(join(tmpdir(), 'bathy-bugs-'));
  const build = spawnSync('bash', [BUILD, out, CORPUS], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`corpus build failed:\n${build.stderr}`);
  const names = readdirSync(CORPUS)
    .filter((name) => !name.startsWith('.') && statSync(join(CORPUS, name)).isDirectory())
    .filter((name) => only === undefined || name === only)
    .sort();
  const outcomes: Outcome[] = [];
  for (const name of names) {
    const run = spawnSync(
      'npx',
      [
        'tsx',
        join(REPO, 'src/extension/cli/main.ts'),
        'java',
        'debug-sim',
        '--buggy',
        join(out, 'buggy'),
        '--fixed',
        join(out, 'fixed'),
        '--buggy-src',
        join(CORPUS, name, 'buggy'),
        '--fixed-src',
        join(CORPUS, name, 'fixed'),
        '--main',
        `${name}.Main`,
        '--json',
        ...extra,
      ],
      { encoding: 'utf8', cwd: REPO },
    );
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (!line.startsWith('{')) {
      console.log(`${name}: debug-sim failed: ${run.stderr.trim().slice(0, 300)}`);
      outcomes.push({ name, located: false, feedbacks: NaN, reachedAfter: -1, steps: 0 });
      continue;
    }
    const result = JSON.parse(line);
    const outcome: Outcome = {
      name,
      located: result.located,
      feedbacks: result.feedbacks,
      reachedAfter: result.reachedAfter,
      steps: result.steps.buggy,
      rootCause: result.rootCause,
    };
    outcomes.push(outcome);
    const where = outcome.rootCause ? `${outcome.rootCause.method}:${outcome.rootCause.line}` : '-';
    console.log(
      `${name.padEnd(12)} ${outcome.located ? 'located' : 'MISSED '} ` +
        `${String(outcome.feedbacks).padStart(3)} feedbacks  ended at ${where.padEnd(22)} ` +
        `(${outcome.steps} steps)`,
    );
  }
  const located = outcomes.filter((o) => o.located);
  const counts = located.map((o) => o.feedbacks);
  const mean = counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length);
  const steps = outcomes.map((o) => o.steps);
  console.log(
    `\n${located.length}/${outcomes.length} located (${((100 * located.length) / outcomes.length).toFixed(1)}%); ` +
      `feedbacks on located bugs: median ${median(counts)}, mean ${mean.toFixed(1)}, max ${Math.max(...counts)}; ` +
      `trace length median ${median(steps)} steps, max ${Math.max(...steps)}` +
      (extra.length ? ' [without library flows]' : ''),
  );
}

main();
