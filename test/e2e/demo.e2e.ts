import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from '../../scripts/codeServer';

describe('end to end: the demo that README promises', () => {
  it('serves a workbench that shows the Bathysphere view (npm run demo -- --check, after set-up)', () => {
    // npm run demo = set-up + package + this script; the package exists at this stage.
    const result = spawnSync(
      process.execPath,
      ['--require', 'tsx/cjs', path.join(REPO_ROOT, 'scripts/demo.ts'), '--check'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 170_000,
      },
    );
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /Bathysphere demo: open http:\/\/127\.0\.0\.1:\d+\/\?folder=/);
    assert.match(result.stdout, /demo check passed: the workbench shows the Bathysphere view/);
  });
});
