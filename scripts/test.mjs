// `npm test`: everything, from a fresh clone. Sets the machine up (see
// bootstrap.mjs), builds and packages, checks types, lint and format, then runs
// the three test layers: unit/integration in plain Node, the in-extension-host
// suite inside a real VS Code workbench, and end-to-end tests of the packaged
// extension in code-server driven through headless Chromium.
//   npm test                 all of it
//   npm test -- unit host    only the named stages (setup, build, checks, unit, host, e2e)
import { spawn } from 'node:child_process';
import { bootstrap, ROOT } from './bootstrap.mjs';

const MOCHA_SUMMARY = /^\s*(\d+) (passing|failing|pending)\b/;
const totals = { passed: 0, failed: 0, skipped: 0 };
const stageResults = [];

/** Runs a command, echoing its output and adding mocha's closing counts to the totals. */
function stage(name, command, args) {
  return new Promise((resolve) => {
    const started = Date.now();
    console.log(`\n=== ${name}: ${command} ${args.join(' ')}`);
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let pendingLine = '';
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const scan = (text) => {
      pendingLine += text;
      const lines = pendingLine.split('\n');
      pendingLine = lines.pop();
      for (const line of lines) {
        const match = MOCHA_SUMMARY.exec(line);
        if (!match) continue;
        const n = Number(match[1]);
        if (match[2] === 'passing') counts.passed += n;
        else if (match[2] === 'failing') counts.failed += n;
        else counts.skipped += n;
      }
    };
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      scan(chunk.toString());
    });
    child.stderr.on('data', (chunk) => process.stderr.write(chunk));
    child.on('close', (code) => {
      scan('\n');
      for (const key of Object.keys(totals)) totals[key] += counts[key];
      const ok = code === 0;
      stageResults.push({ name, ok, seconds: (Date.now() - started) / 1000, counts });
      resolve(ok);
    });
  });
}

const npx = (bin, ...args) => ['npx', ['--no-install', bin, ...args]];
const tsNode = (file) => [process.execPath, ['--require', 'tsx/cjs', file]];

const STAGES = {
  build: [['package', 'npm', ['run', 'package']]],
  checks: [
    ['typecheck', ...npx('tsc', '--noEmit', '-p', '.')],
    ['lint', ...npx('eslint', '.')],
    ['format', ...npx('prettier', '--check', '.')],
  ],
  unit: [['unit', ...npx('mocha')]],
  host: [['in-host', ...tsNode('test/host/runInCodeServer.ts')]],
  e2e: [['end-to-end', ...npx('mocha', '--config', 'test/e2e/.mocharc.json')]],
};

async function main() {
  const wanted = process.argv.slice(2);
  const selected = wanted.length ? wanted : ['setup', ...Object.keys(STAGES)];
  for (const name of selected) {
    if (name !== 'setup' && !STAGES[name]) throw new Error(`unknown stage '${name}'`);
  }
  if (selected.includes('setup')) bootstrap();
  for (const name of selected) {
    for (const [label, command, args] of STAGES[name] ?? []) {
      const ok = await stage(label, command, args);
      // Later stages need a package; without one they can only fail noisily.
      if (!ok && name === 'build') return finish();
    }
  }
  return finish();
}

function finish() {
  console.log('\n=== summary');
  for (const { name, ok, seconds, counts } of stageResults) {
    const tests =
      counts.passed + counts.failed + counts.skipped > 0
        ? ` (${counts.passed} passed, ${counts.failed} failed)`
        : '';
    console.log(
      `  ${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(12)} ${seconds.toFixed(1).padStart(6)} s${tests}`,
    );
  }
  const failedStages = stageResults.filter((result) => !result.ok).length;
  // A failed stage that ran no test (a type error, a lint error) still counts as a failure.
  const failed = totals.failed + (failedStages > 0 && totals.failed === 0 ? failedStages : 0);
  console.log(`\n${totals.passed} passed, ${failed} failed, ${totals.skipped} skipped`);
  return failedStages === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`npm test: ${error.message}`);
    process.exit(1);
  },
);
