import * as assert from 'node:assert/strict';
import { CliError, type CliIo } from '../../../src/extension/cli/command';
import { dispatch } from '../../../src/extension/cli/dispatch';
import {
  erlangCommands,
  erlangEvalCommand,
  erlangNodesCommand,
} from '../../../src/extension/erlang/cli';
import { startNode, stopAllNodes, type TestNode } from './helpers/erlang-node';

function collector(): CliIo & { stdout(): string; stderr(): string } {
  let out = '';
  let err = '';
  return {
    out: (text) => (out += text),
    err: (text) => (err += text),
    signal: new AbortController().signal,
    stdout: () => out,
    stderr: () => err,
  };
}

async function run(args: string[], command = erlangEvalCommand) {
  const io = collector();
  const code = await command.run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe('erlang CLI commands', function () {
  this.timeout(30_000);
  let target: TestNode;

  before(async () => {
    target = await startNode();
  });
  after(stopAllNodes);

  it('are registered with help text', () => {
    assert.deepEqual(
      erlangCommands.map((c) => c.path.join(' ')),
      ['erlang nodes', 'erlang eval', 'erlang record'],
    );
    for (const command of erlangCommands) {
      assert.ok(command.help.startsWith(`usage: bathysphere ${command.path.join(' ')}`));
      assert.ok(command.summary.length > 0);
    }
  });

  it('nodes lists what EPMD knows', async () => {
    const result = await run([], erlangNodesCommand);
    assert.equal(result.code, 0);
    assert.match(result.out, new RegExp(`^${target.node}\\t\\d+$`, 'm'));
  });

  it('nodes exits 2 when EPMD is unreachable', async () => {
    const previous = process.env.ERL_EPMD_PORT;
    process.env.ERL_EPMD_PORT = '1';
    try {
      const failed = await run([], erlangNodesCommand);
      assert.equal(failed.code, 2);
      assert.match(failed.err, /cannot reach EPMD on localhost:1/);
      assert.equal(failed.out, '');
    } finally {
      if (previous === undefined) delete process.env.ERL_EPMD_PORT;
      else process.env.ERL_EPMD_PORT = previous;
    }
  });

  it('eval prints the result like ~p and exits 0', async () => {
    const cookie = ['--cookie', target.cookie];
    assert.deepEqual(await run(['--node', target.node, ...cookie, 'lists:sum([1,2,3]).']), {
      code: 0,
      out: '6\n',
      err: '',
    });
    const text = await run([
      '--node',
      target.node,
      ...cookie,
      '{ok, "abc", <<"bin">>, #{a => 1}, 1.5}',
    ]);
    assert.deepEqual(text, { code: 0, out: '{ok,"abc",<<"bin">>,#{a => 1},1.5}\n', err: '' });
    const pid = await run(['--node', target.node, ...cookie, 'X = 1, {X, self()}.']);
    assert.match(pid.out, /^\{1,<0\.\d+\.0>\}\n$/);
    const bare = await run(['--node', target.name, ...cookie, 'node().']);
    assert.equal(bare.out, `${target.node}\n`);
  });

  it('eval exits 1 with the error on stderr when evaluation fails', async () => {
    const cookie = ['--cookie', target.cookie];
    const raised = await run(['--node', target.node, ...cookie, '1 + a.']);
    assert.deepEqual(raised, { code: 1, out: '', err: 'exception error: badarith\n' });
    const syntax = await run(['--node', target.node, ...cookie, 'foo(.']);
    assert.equal(syntax.code, 1);
    assert.match(syntax.err, /^line 1: syntax error before: '\.'\n$/);
  });

  it('eval exits 2 when the node cannot be reached', async () => {
    const wrong = await run(['--node', target.node, '--cookie', 'nope', 'ok.']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, new RegExp(`the cookie was rejected by ${target.node}`));
    const host = target.node.split('@')[1];
    const unknown = await run(['--node', `ghost@${host}`, '--cookie', 'x', 'ok.']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, new RegExp(`no node named 'ghost'.*${target.name}`));
  });

  it('eval rejects bad arguments and prints help', async () => {
    await assert.rejects(
      run(['ok.']),
      (e) => e instanceof CliError && /--node is required/.test(e.message),
    );
    await assert.rejects(run(['--node', 'a', '--bogus', 'ok.']), CliError);
    // --help is the dispatcher's, as for every command.
    const io = collector();
    assert.equal(await dispatch(erlangCommands, ['erlang', 'eval', '--help'], io), 0);
    assert.match(io.stdout(), /^usage: bathysphere erlang eval --node NAME/);
  });
});
