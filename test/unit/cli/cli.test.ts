import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { commands } from '../../../src/extension/cli/registry';
import { spawnSync } from 'node:child_process';
import { CLI, ensureBuilt, runCli } from '../../support/cli';
import { SAMPLE_GRAPH, writeSampleSession } from '../../support/sampleSession';
import { useTempDir } from '../../support/tempDir';

describe('bathysphere CLI (bundled dist/cli.js)', () => {
  const tempDir = useTempDir();
  before(ensureBuilt);

  it('--help lists every command', () => {
    const { code, stdout } = runCli(['--help']);
    assert.equal(code, 0);
    for (const command of commands)
      assert.ok(stdout.includes(command.path.join(' ')), command.path.join(' '));
  });

  for (const command of commands) {
    it(`${command.path.join(' ')} --help prints its usage`, () => {
      const { code, stdout } = runCli([...command.path, '--help']);
      assert.equal(code, 0);
      assert.ok(stdout.startsWith(`usage: bathysphere ${command.path.join(' ')}`), stdout);
    });
  }

  it('info describes the runs and counts of a session', async () => {
    const file = path.join(tempDir(), 's.bathy');
    await writeSampleSession(file);
    const { code, stdout } = runCli(['info', file]);
    assert.equal(code, 0);
    assert.match(stdout, /1 run\(s\), 5 graph node\(s\), 4 graph edge\(s\)/);
    assert.match(stdout, /run 1 \| graph \| sample graph \| project demo/);
    const json = JSON.parse(runCli(['info', '--json', file]).stdout);
    assert.equal(json.runs[0].graph.nodes, SAMPLE_GRAPH.nodes.length);
  });

  it('export --format jsonl writes one JSON object per line', async () => {
    const file = path.join(tempDir(), 's.bathy');
    await writeSampleSession(file);
    const { code, stdout } = runCli(['export', file, '--format', 'jsonl']);
    assert.equal(code, 0);
    const records = stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(records[0].type, 'session');
    assert.deepEqual(
      records.map((r) => r.type),
      [
        'session',
        'run',
        ...SAMPLE_GRAPH.nodes.map(() => 'node'),
        ...SAMPLE_GRAPH.edges.map(() => 'edge'),
      ],
    );
    assert.deepEqual(
      records.find((r) => r.id === 'a-c'),
      {
        type: 'edge',
        run: 1,
        id: 'a-c',
        source: 'a',
        target: 'c',
        kind: 'monitor',
        data: { label: 'monitor' },
      },
    );
  });

  it('export rejects an unknown format with exit code 2', async () => {
    const file = path.join(tempDir(), 's.bathy');
    await writeSampleSession(file);
    const { code, stderr } = runCli(['export', file, '--format', 'csv']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown format 'csv'/);
  });

  const badFiles: [string, (file: string) => Promise<void> | void, RegExp][] = [
    ['a missing file', () => undefined, /no such file/],
    [
      'a text file',
      (f) => fs.writeFileSync(f, 'not a database\n'.repeat(20)),
      /not a SQLite database/,
    ],
    [
      'a damaged session',
      async (f) => {
        await writeSampleSession(f);
        const bytes = fs.readFileSync(f);
        bytes.fill(0x5a, 100);
        fs.writeFileSync(f, bytes);
      },
      /damaged|malformed/,
    ],
  ];
  for (const [name, make, message] of badFiles) {
    for (const command of [['info'], ['export', '--format', 'jsonl']]) {
      it(`${command[0]} on ${name}: one line on stderr, exit code 2, no stack trace`, async () => {
        const file = path.join(tempDir(), 'bad.bathy');
        await make(file);
        const { code, stdout, stderr } = runCli([...command, file]);
        assert.equal(code, 2);
        assert.equal(stdout, '');
        assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
        assert.match(stderr, message);
        assert.doesNotMatch(stderr, /\bat .*\(.*:\d+:\d+\)/);
      });
    }
  }

  it('an unknown command or option is a usage error (exit 2)', () => {
    assert.equal(runCli(['frobnicate']).code, 2);
    const { code, stderr } = runCli(['info', '--bogus', 'x']);
    assert.equal(code, 2);
    assert.match(stderr, /bogus/);
  });

  it('stops quietly when the reader of its output goes away (export | head)', async () => {
    const file = path.join(tempDir(), 's.bathy');
    await writeSampleSession(file);
    const result = spawnSync(
      'sh',
      ['-c', `node "${CLI}" export "${file}" --format jsonl | head -n 1`],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(result.status, 0);
    assert.equal(result.stdout.trim().split('\n').length, 1);
    assert.doesNotMatch(result.stderr, /EPIPE|Error/);
  });
});
