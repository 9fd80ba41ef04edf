/**
 * Starts and stops a real VS Code workbench (code-server, installed by
 * scripts/install-code-server.sh into .tools/) and opens it in headless Debian
 * Chromium through playwright-core. Used by the in-host test runner, the
 * end-to-end tests and `npm run demo`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';

export const REPO_ROOT = path.resolve(__dirname, '..');
export const CODE_SERVER_ENTRY = path.join(
  REPO_ROOT,
  '.tools/code-server/node_modules/code-server/out/node/entry.js',
);
export const CHROMIUM = process.env.BATHYSPHERE_CHROMIUM ?? '/usr/bin/chromium';

/** Chromium flags that keep it quiet on a closed network and usable as root. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** User settings that keep the workbench from showing tours, tips and trust prompts. */
const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

export interface CodeServerOptions {
  /** Folder holding user data, extensions and logs for this instance. */
  stateDir: string;
  workspace: string;
  /** 0 picks a free port. */
  port?: number;
  env?: NodeJS.ProcessEnv;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Where the server's output goes; defaults to stateDir/code-server.log. */
  logFile?: string;
}

export interface RunningCodeServer {
  url: string;
  port: number;
  process: ChildProcess;
  extensionsDir: string;
  stop(): Promise<void>;
}

export function assertCodeServerInstalled(): void {
  if (!fs.existsSync(CODE_SERVER_ENTRY)) {
    throw new Error(
      `code-server is not installed in .tools/ (run: bash scripts/install-code-server.sh, or npm run setup)`,
    );
  }
}

export function extensionsDirOf(stateDir: string): string {
  return path.join(stateDir, 'extensions');
}

function baseArgs(stateDir: string): string[] {
  return [
    CODE_SERVER_ENTRY,
    '--config',
    path.join(stateDir, 'config.yaml'),
    '--user-data-dir',
    path.join(stateDir, 'user-data'),
    '--extensions-dir',
    extensionsDirOf(stateDir),
  ];
}

/** Installs a .vsix into the instance's extensions folder (what a user's "Install from VSIX" does). */
export function installVsix(stateDir: string, vsix: string): void {
  fs.mkdirSync(stateDir, { recursive: true });
  const result = spawnSync(
    process.execPath,
    [...baseArgs(stateDir), '--install-extension', vsix, '--force'],
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0 || !/successfully installed/i.test(result.stdout + result.stderr)) {
    throw new Error(`installing ${vsix} failed:\n${result.stdout}\n${result.stderr}`);
  }
}

export async function startCodeServer(options: CodeServerOptions): Promise<RunningCodeServer> {
  assertCodeServerInstalled();
  const { stateDir, workspace } = options;
  const userDir = path.join(stateDir, 'user-data', 'User');
  fs.mkdirSync(userDir, { recursive: true });
  fs.writeFileSync(
    path.join(userDir, 'settings.json'),
    JSON.stringify({ ...QUIET_SETTINGS, ...options.settings }, null, 2),
  );
  fs.writeFileSync(path.join(stateDir, 'config.yaml'), 'auth: none\ncert: false\n');
  const logFile = options.logFile ?? path.join(stateDir, 'code-server.log');
  const log = fs.createWriteStream(logFile);
  const child = spawn(
    process.execPath,
    [
      ...baseArgs(stateDir),
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${options.port ?? 0}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      workspace,
    ],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const port = await listeningPort(child, logFile);
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    port,
    process: child,
    extensionsDir: extensionsDirOf(stateDir),
    stop: () => stopProcessGroup(child),
  };
}

function listeningPort(child: ChildProcess, logFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => fail(new Error('code-server did not start within 60 s')),
      60_000,
    );
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(new Error(`${error.message}; see ${logFile}:\n${seen.slice(-2000)}`));
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => fail(new Error(`code-server exited (${code ?? signal})`)));
  });
}

/** Stops code-server and everything it started (extension hosts, terminals). */
export function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const done = setTimeout(() => {
      signalGroup(child, 'SIGKILL');
      resolve();
    }, 5_000);
    child.once('exit', () => {
      clearTimeout(done);
      signalGroup(child, 'SIGKILL'); // stragglers of the group
      resolve();
    });
    signalGroup(child, 'SIGTERM');
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* already gone */
  }
}

/**
 * The workbench URL that loads this repository as the development extension
 * and runs `testsModule` in the extension host, as VS Code's own browser
 * integration tests do. The workbench reports the outcome by calling
 * window.codeAutomationExit(code).
 */
export function developmentUrl(
  server: RunningCodeServer,
  workspace: string,
  testsModule: string,
): string {
  const remote = (file: string) => `vscode-remote://127.0.0.1:${server.port}${file}`;
  const payload = [
    ['extensionDevelopmentPath', remote(REPO_ROOT)],
    ['extensionTestsPath', remote(testsModule)],
  ];
  return `${server.url}?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

export const HOST_SUITE = path.join(REPO_ROOT, 'out/test/host/index.js');

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM} (Debian package chromium; npm run setup installs it)`,
    );
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}
