// Everything a fresh machine needs before the project can build or test, using
// only Node's standard library (node_modules may not exist yet):
//   1. Debian packages (installed when running as root, otherwise listed);
//   2. npm dependencies (npm ci when node_modules is missing or stale);
//   3. code-server into .tools/ (scripts/install-code-server.sh);
//   4. Erlang/OTP 27 into .tools/otp27 (scripts/install-otp27.sh), for the tests of trace
//      sessions: Debian 12's own Erlang is OTP 25;
//   5. the agents (Erlang BEAMs, the Java agent jar) from their build scripts.
// Each step is idempotent and fast when already done.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..');

/** What the project needs from Debian, and why. */
export const DEBIAN_PACKAGES = {
  'erlang-nox': 'real Erlang nodes for tests and the demo; erlc builds the Erlang agent',
  'openjdk-17-jdk-headless': 'builds the Java agent and runs the JVM fixtures',
  'libasm-java': 'ASM, the bytecode library the Java agent is built with',
  chromium: 'the real browser the end-to-end tests drive through playwright-core',
  ripgrep: "code-server's search (its npm package would download a binary)",
  'libkrb5-dev': "headers for code-server's native kerberos module",
  sqlite3: 'tests check that session files open in the sqlite3 command as-is',
  'build-essential': "compilers for code-server's native modules",
  python3: 'node-gyp, for native modules',
  patchelf: "points OTP 27's binaries, unpacked from Debian 13's packages, at their own C library",
};

export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: ROOT, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed with exit code ${result.status}`);
  }
}

function missingDebianPackages() {
  return Object.keys(DEBIAN_PACKAGES).filter((name) => {
    const query = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return query.status !== 0 || !query.stdout.includes('install ok installed');
  });
}

function ensureDebianPackages() {
  if (!fs.existsSync('/usr/bin/dpkg-query')) {
    console.log(
      '[setup] not a Debian system: install the equivalents of',
      Object.keys(DEBIAN_PACKAGES).join(', '),
    );
    return;
  }
  const missing = missingDebianPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    const lines = missing.map((name) => `  ${name.padEnd(26)} ${DEBIAN_PACKAGES[name]}`);
    throw new Error(
      `these Debian packages are missing; as root, run\n  apt-get install -y ${missing.join(' ')}\n${lines.join('\n')}`,
    );
  }
  console.log(`[setup] installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

function ensureNodeModules() {
  const marker = path.join(ROOT, 'node_modules/.package-lock.json');
  const lock = path.join(ROOT, 'package-lock.json');
  if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs) return;
  console.log('[setup] installing npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

function buildAgents() {
  for (const script of ['scripts/build-erlang-agent.sh', 'agents/jvm/build.sh']) {
    if (fs.existsSync(path.join(ROOT, script))) run('bash', [script]);
  }
}

export function bootstrap() {
  ensureDebianPackages();
  ensureNodeModules();
  run('bash', ['scripts/install-code-server.sh']);
  run('bash', ['scripts/install-otp27.sh']);
  buildAgents();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    bootstrap();
    console.log('[setup] done');
  } catch (error) {
    console.error(`[setup] ${error.message}`);
    process.exit(1);
  }
}
