// `npm run demo`: sets the machine up, builds and packages the extension, then
// serves a real VS Code workbench (code-server on 127.0.0.1) with Bathysphere
// installed and a demo workspace open, and prints the URL.
//   npm run demo                  serve until Ctrl-C
//   npm run demo -- --check       open it once in headless Chromium, screenshot, stop
//   BATHYSPHERE_DEMO_PORT=8080    the port (default 8080; a free one when taken)
import { bootstrap, run } from './bootstrap.mjs';

try {
  bootstrap();
  run('npm', ['run', 'package']);
  run(process.execPath, ['--require', 'tsx/cjs', 'scripts/demo.ts', ...process.argv.slice(2)]);
} catch (error) {
  console.error(`npm run demo: ${error.message}`);
  process.exit(1);
}
