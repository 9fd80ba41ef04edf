import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AGENT_MODULES,
  AGENT_VERSION,
  injectAgent,
  resolveErlangAgentPaths,
} from '../../../src/extension/erlang/agent';
import { ErlangConnection } from '../../../src/extension/erlang/connection';
import { ErlMap, Pid, Tuple, atom, isAtom } from '../../../src/extension/erlang/terms';
import {
  REPO_ROOT,
  buildAgent,
  startNode,
  stopAllNodes,
  type TestNode,
} from './helpers/erlang-node';

/** Names of loaded modules that start with bathysphere_ (the fixtures' test module excluded). */
async function agentModulesLoaded(conn: ErlangConnection): Promise<string[]> {
  const loaded = (await conn.rpc('code', 'all_loaded', [])) as Tuple[];
  return loaded
    .map((entry) => (entry.elements[0] as ReturnType<typeof atom>).name)
    .filter((name) => name.startsWith('bathysphere_') && name !== 'bathysphere_test_termgen')
    .sort();
}

async function alive(conn: ErlangConnection, pid: Pid): Promise<boolean> {
  return isAtom(await conn.rpc('erlang', 'is_process_alive', [pid]), 'true');
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Erlang agent injection', function () {
  this.timeout(60_000);
  let target: TestNode;
  const connect = () => ErlangConnection.connect({ node: target.node, cookie: target.cookie });

  before(async () => {
    buildAgent();
    target = await startNode();
  });
  after(stopAllNodes);

  it('ships a version that matches the Erlang source', () => {
    const source = fs.readFileSync(
      path.join(resolveErlangAgentPaths(REPO_ROOT).srcDir, 'bathysphere_agent.erl'),
      'utf8',
    );
    assert.ok(source.includes(`version() -> <<"${AGENT_VERSION}">>.`));
  });

  it('loads the BEAMs once, reuses them, and removal leaves the node as it was', async () => {
    const first = await connect();
    assert.deepEqual(await agentModulesLoaded(first), []);
    const agentA = await injectAgent(first, { baseDir: REPO_ROOT });
    assert.equal(agentA.loadMethod, 'beam');
    assert.deepEqual(await agentModulesLoaded(first), [...AGENT_MODULES].sort());
    const snapshot = (await agentA.snapshot()) as ErlMap;
    assert.deepEqual(snapshot.get(atom('node')), atom(target.node));

    const second = await connect();
    const agentB = await injectAgent(second, { baseDir: REPO_ROOT });
    assert.equal(agentB.loadMethod, 'already-loaded');
    const child = await agentA.startChild('timer', 'sleep', [atom('infinity')]);
    assert.deepEqual(await agentA.children(), [child]);

    // Another client's agent still runs: modules stay, our processes go.
    assert.deepEqual(await agentA.remove(), { modulesRemoved: false });
    assert.equal(await alive(first, agentA.owner), false);
    assert.equal(await alive(first, child), false);
    assert.deepEqual(await agentModulesLoaded(first), [...AGENT_MODULES].sort());

    assert.deepEqual(await agentB.remove(), { modulesRemoved: true });
    assert.deepEqual(await agentModulesLoaded(first), []);
    assert.deepEqual(
      await first.rpc('code', 'is_loaded', [atom('bathysphere_agent')]),
      atom('false'),
    );
    await assert.rejects(first.rpc('bathysphere_agent', 'version', []), /undef/);
    first.close();
    second.close();
  });

  it('stops its processes when the client goes away without removing it', async () => {
    const client = await connect();
    const agent = await injectAgent(client, { baseDir: REPO_ROOT });
    const child = await agent.startChild('timer', 'sleep', [atom('infinity')]);
    const observer = await connect();
    assert.ok(await alive(observer, agent.owner));
    client.close();
    await eventually(async () => !(await alive(observer, agent.owner)), 'the owner has stopped');
    assert.equal(await alive(observer, child), false);
    assert.deepEqual(await observer.rpc('bathysphere_agent', 'owners', []), []);
    const cleanup = await injectAgent(observer, { baseDir: REPO_ROOT });
    await cleanup.remove();
    assert.deepEqual(await agentModulesLoaded(observer), []);
    observer.close();
  });

  it('compiles the shipped source on the node when a BEAM does not load', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'bathysphere-agent-'));
    const { ebinDir, srcDir } = resolveErlangAgentPaths(base);
    fs.mkdirSync(ebinDir, { recursive: true });
    fs.cpSync(resolveErlangAgentPaths(REPO_ROOT).srcDir, srcDir, { recursive: true });
    for (const module of AGENT_MODULES)
      fs.writeFileSync(path.join(ebinDir, `${module}.beam`), 'not a beam');
    const conn = await connect();
    const agent = await injectAgent(conn, { baseDir: base });
    assert.equal(agent.loadMethod, 'source');
    assert.equal(
      ((await conn.rpc('bathysphere_agent', 'version', [])) as Buffer).toString(),
      AGENT_VERSION,
    );
    assert.deepEqual(await agent.remove(), { modulesRemoved: true });
    assert.deepEqual(await agentModulesLoaded(conn), []);
    conn.close();
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('injects (connect + load) quickly', async () => {
    const started = Date.now();
    const conn = await connect();
    const agent = await injectAgent(conn, { baseDir: REPO_ROOT });
    const elapsed = Date.now() - started;
    await agent.remove();
    conn.close();
    assert.ok(elapsed < 1500, `took ${elapsed} ms`);
  });
});
