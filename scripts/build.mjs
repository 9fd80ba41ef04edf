// Bundles everything with esbuild: the extension (Node, `vscode` external), the
// CLI, each webview (browser) and the in-host test suite; copies sql.js's wasm
// and the agents' build products into dist/.
//   node scripts/build.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
};

const node = { ...common, platform: 'node', target: 'node20', format: 'cjs', external: ['vscode'] };

const builds = [
  { ...node, entryPoints: ['src/extension/vscode/extension.ts'], outfile: 'dist/extension.js' },
  {
    ...node,
    entryPoints: ['src/extension/cli/main.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    platform: 'browser',
    target: 'chrome120',
    format: 'iife',
    entryPoints: { graph: 'src/webview/graph/main.ts' },
    outdir: 'dist/webview',
  },
  {
    ...common,
    platform: 'browser',
    entryPoints: { graph: 'src/webview/graph/graph.css' },
    outdir: 'dist/webview',
  },
  {
    // The in-host suite runs inside the extension host; mocha stays external
    // because it loads reporters dynamically.
    ...node,
    sourcemap: 'inline',
    minify: false,
    entryPoints: ['test/host/index.ts'],
    outfile: 'out/test/host/index.js',
    external: ['vscode', 'mocha'],
  },
];

function copyRuntimeFiles() {
  fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
  fs.copyFileSync(
    path.join(root, 'node_modules/sql.js/dist/sql-wasm.wasm'),
    path.join(root, 'dist/sql-wasm.wasm'),
  );
  // Agents built by scripts/build-agents.sh ship inside dist/ so the .vsix carries them.
  copyDirIfPresent('agents/erlang/ebin', 'dist/agents/erlang/ebin');
  copyDirIfPresent('agents/erlang/src', 'dist/agents/erlang/src');
  copyFileIfPresent(
    'agents/jvm/build/bathysphere-agent.jar',
    'dist/agents/jvm/bathysphere-agent.jar',
  );
}

function copyDirIfPresent(from, to) {
  const source = path.join(root, from);
  if (!fs.existsSync(source)) return;
  fs.rmSync(path.join(root, to), { recursive: true, force: true });
  fs.cpSync(source, path.join(root, to), { recursive: true });
}

function copyFileIfPresent(from, to) {
  const source = path.join(root, from);
  if (!fs.existsSync(source)) return;
  fs.mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
  fs.copyFileSync(source, path.join(root, to));
}

if (watch) {
  copyRuntimeFiles();
  for (const options of builds) await (await esbuild.context(options)).watch();
  console.log('watching for changes…');
} else {
  fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
  await Promise.all(builds.map((options) => esbuild.build(options)));
  copyRuntimeFiles();
  fs.chmodSync(path.join(root, 'dist/cli.js'), 0o755);
  console.log(`built dist/ (${production ? 'production' : 'development'})`);
}
