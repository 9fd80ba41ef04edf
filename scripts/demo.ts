/**
 * The demo: a workspace with a recorded session, in code-server with the
 * packaged extension installed. Later features add a demo Erlang node and a
 * demo Java program to the workspace.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import { writeJavaDemo } from '../test/support/javaDemo';
import { writeSampleSession } from '../test/support/sampleSession';
import { installVsix, launchChromium, REPO_ROOT, startCodeServer } from './codeServer';

const DEMO_DIR = path.join(REPO_ROOT, '.demo');
const WORKSPACE = path.join(DEMO_DIR, 'workspace');
const VSIX = path.join(REPO_ROOT, 'dist-vsix/bathysphere.vsix');

const DEMO_NODE = `bathysphere_demo@${os.hostname().split('.')[0]}`;
const DEMO_COOKIE = 'bathysphere_demo';

async function prepareWorkspace(): Promise<void> {
  fs.rmSync(WORKSPACE, { recursive: true, force: true });
  fs.mkdirSync(WORKSPACE, { recursive: true });
  await writeSampleSession(path.join(WORKSPACE, 'sample.bathy'));
  await writeJavaDemo(WORKSPACE);
  fs.writeFileSync(
    path.join(WORKSPACE, 'README.md'),
    [
      '# Bathysphere demo workspace',
      '',
      '- Open the Bathysphere view in the activity bar (the porthole icon).',
      '- Run **Bathysphere: Open Session...** from the command palette and pick `sample.bathy`:',
      '  the graph panel draws the recorded graph.',
      '- Open `src/demo/Main.java` and run **Bathysphere: Record Java Program...**, or start the',
      '  launch configuration "Record the demo program" (Run and Debug): every step of the',
      '  program is recorded into a session that appears in the Bathysphere view.',
      `- Run **Bathysphere: Connect to Erlang Node...** and pick \`${DEMO_NODE}\` (cookie`,
      `  \`${DEMO_COOKIE}\`): Bathysphere joins it as a hidden node; the status bar shows it.`,
      '',
    ].join('\n'),
  );
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A live Erlang node to connect to, when Erlang is installed; stopped with the demo. */
function startDemoNode(): ChildProcess | undefined {
  if (spawnSync('erl', ['-version'], { stdio: 'ignore' }).status !== 0) return undefined;
  spawnSync('epmd', ['-daemon'], { stdio: 'ignore' });
  const name = DEMO_NODE.split('@')[0];
  return spawn('erl', ['-sname', name, '-setcookie', DEMO_COOKIE, '-noshell', '-noinput'], {
    stdio: 'ignore',
  });
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  await prepareWorkspace();
  const demoNode = check ? undefined : startDemoNode();
  process.once('exit', () => demoNode?.kill());
  const stateDir = path.join(DEMO_DIR, 'state');
  installVsix(stateDir, VSIX);
  const wanted = Number(process.env.BATHYSPHERE_DEMO_PORT ?? 8080);
  const port = check || !(await portIsFree(wanted)) ? 0 : wanted;
  const server = await startCodeServer({ stateDir, workspace: WORKSPACE, port });
  const url = `${server.url}?folder=${encodeURIComponent(WORKSPACE)}`;
  if (demoNode) console.log(`Erlang demo node: ${DEMO_NODE} (cookie ${DEMO_COOKIE})`);
  console.log(
    `\nBathysphere demo: open ${url}\n(code-server log: ${path.join(stateDir, 'code-server.log')}; Ctrl-C stops it)`,
  );
  if (check) {
    try {
      await checkDemo(url);
    } finally {
      await server.stop();
    }
    return;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    server.process.once('exit', resolve);
  });
  await server.stop();
}

/** Opens the demo as a person would and confirms the Bathysphere view is there. */
async function checkDemo(url: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(url);
    await page
      .locator('.activitybar .action-item a[aria-label^="Bathysphere"]')
      .click({ timeout: 60_000 });
    await page.locator('.part.sidebar').getByText('No session is open.').waitFor();
    const shot = path.join(DEMO_DIR, 'demo-check.png');
    await page.screenshot({ path: shot });
    console.log(`demo check passed: the workbench shows the Bathysphere view (${shot})`);
  } finally {
    await browser.close();
  }
}

main().catch((error: Error) => {
  console.error(`demo: ${error.message}`);
  process.exit(1);
});
