import * as assert from 'node:assert/strict';
import type { CliCommand, CliIo } from '../../../src/extension/cli/command';
import { dispatch } from '../../../src/extension/cli/dispatch';

function collector(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (text: string) => void (io.stdout += text),
    err: (text: string) => void (io.stderr += text),
    signal: new AbortController().signal,
  };
  return io;
}

describe('CLI dispatch', () => {
  const seen: string[][] = [];
  const run: CliCommand = {
    path: ['java', 'record'],
    summary: 'records',
    help: 'usage: bathysphere java record -- <java command line>',
    async run(args) {
      seen.push(args);
      return 0;
    },
  };

  it('passes --help after -- to the program instead of printing our help', async () => {
    const io = collector();
    const code = await dispatch(
      [run],
      ['java', 'record', '--out', 'x', '--', 'java', 'Main', '--help'],
      io,
    );
    assert.equal(code, 0);
    assert.deepEqual(seen.at(-1), ['--out', 'x', '--', 'java', 'Main', '--help']);
    assert.equal(io.stdout, '');
  });

  it('prints the command help for --help before --', async () => {
    const io = collector();
    assert.equal(await dispatch([run], ['java', 'record', '--help', '--', 'java', 'Main'], io), 0);
    assert.match(io.stdout, /^usage: bathysphere java record/);
  });

  it('lists the commands of a group', async () => {
    const io = collector();
    assert.equal(await dispatch([run], ['java', '--help'], io), 0);
    assert.match(io.stdout, /java record {2}records/);
  });
});
