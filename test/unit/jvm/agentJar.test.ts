// Which agent jar a checkout or a bundle uses: a copy an earlier bundle left in dist/ must not
// shadow the agent just built from the sources (a stale agent speaks an older trace format).

import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_JAR_NAME, resolveAgentJar } from '../../../src/extension/jvm/record';

describe('agent jar resolution', () => {
  const place = (base: string, folder: string) => {
    mkdirSync(join(base, folder), { recursive: true });
    writeFileSync(join(base, folder, AGENT_JAR_NAME), '');
    return join(base, folder, AGENT_JAR_NAME);
  };

  it('prefers the agent built in a checkout over an older copy in dist/', () => {
    const base = mkdtempSync(join(tmpdir(), 'bathy-jar-'));
    place(base, 'dist/agents/jvm');
    const built = place(base, 'agents/jvm/build');
    assert.equal(resolveAgentJar(base), built);
  });

  it('finds the bundled copy when nothing was built', () => {
    const base = mkdtempSync(join(tmpdir(), 'bathy-jar-'));
    const bundled = place(base, 'dist/agents/jvm');
    assert.equal(resolveAgentJar(base), bundled);
  });
});
