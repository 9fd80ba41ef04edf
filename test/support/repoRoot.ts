/**
 * The repository root, found by walking up from this module. Test helpers are
 * also bundled into out/test/host/index.js, where __dirname-relative paths of
 * the source tree no longer hold.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (
      fs.existsSync(manifest) &&
      JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'bathysphere'
    )
      return dir;
    if (path.dirname(dir) === dir) throw new Error(`no bathysphere package.json above ${start}`);
  }
}

export const REPO_ROOT = findRepoRoot(__dirname);
