/** Runs the bundled CLI (dist/cli.js) as a user would, building it first when missing. */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './repoRoot';

export { REPO_ROOT };
export const CLI = path.join(REPO_ROOT, 'dist/cli.js');

export function ensureBuilt(): void {
  if (!fs.existsSync(CLI))
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts/build.mjs')]);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    env: { ...process.env, ...options.env },
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
