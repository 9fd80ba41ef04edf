import * as assert from 'node:assert/strict';
import { formatAtom, formatFloat, formatTerm } from '../../../src/extension/erlang/format';
import {
  cookieFileCandidates,
  readDefaultCookie,
  resolveCookie,
} from '../../../src/extension/erlang/cookie';
import { parseNames } from '../../../src/extension/erlang/epmd';
import { CookieMissingError } from '../../../src/extension/erlang/errors';
import {
  BitString,
  ErlFloat,
  ErlMap,
  ImproperList,
  Pid,
  Tuple,
  atom,
  charlist,
  compareTerms,
} from '../../../src/extension/erlang/terms';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

describe('Erlang term printing (~p / ~w)', () => {
  it('prints the examples people see in the shell', () => {
    assert.equal(formatTerm(6), '6');
    assert.equal(formatTerm([1, 2, 3]), '[1,2,3]');
    assert.equal(formatTerm(charlist('abc')), '"abc"');
    assert.equal(formatTerm(charlist('abc'), { style: 'w' }), '[97,98,99]');
    assert.equal(formatTerm(Buffer.from('bin')), '<<"bin">>');
    assert.equal(
      formatTerm(
        new ErlMap([
          [atom('b'), 2],
          [atom('a'), 1],
        ]),
      ),
      '#{a => 1,b => 2}',
    );
    const pid = new Pid(atom('n@h'), 1, 0, 3);
    assert.equal(formatTerm(new Tuple([atom('ok'), pid]), { localNode: 'n@h' }), '{ok,<0.1.0>}');
    assert.equal(formatTerm(pid), '<n@h.1.0>');
    assert.equal(formatTerm(new ImproperList([1], atom('t'))), '[1|t]');
    assert.equal(formatTerm(new BitString(Buffer.from([1, 0x40]), 3)), '<<1,2:3>>');
    assert.equal(formatTerm(charlist('a"b\n')), '"a\\"b\\n"');
  });

  it('quotes atoms exactly when Erlang does', () => {
    assert.equal(formatAtom('ok'), 'ok');
    assert.equal(formatAtom('Ok'), "'Ok'");
    assert.equal(formatAtom('hello world'), "'hello world'");
    assert.equal(formatAtom('after'), "'after'");
    assert.equal(formatAtom("it's"), "'it\\'s'");
    assert.equal(formatAtom('Ω'), "'\\x{3A9}'");
    assert.equal(formatAtom('a@b_1'), 'a@b_1');
    assert.equal(formatAtom(''), "''");
  });

  it('prints floats in the shortest form, plain or with exponent', () => {
    const cases: Array<[number, string]> = [
      [1, '1.0'],
      [0.1, '0.1'],
      [100, '100.0'],
      [1000, '1.0e3'],
      [1250, '1250.0'],
      [0.0001, '0.0001'],
      [0.00012, '1.2e-4'],
      [1e10, '1.0e10'],
      [123000, '1.23e5'],
      [2 ** 53, '9.007199254740992e15'],
      [1234567890123456, '1234567890123456.0'],
      [-2.5, '-2.5'],
      [0, '0.0'],
      [-0, '-0.0'],
      [5e-324, '5.0e-324'],
    ];
    for (const [value, text] of cases) assert.equal(formatFloat(value), text, String(value));
    assert.equal(formatTerm(new ErlFloat(1)), '1.0');
  });

  it('orders terms like Erlang', () => {
    const ordered = [
      1,
      new ErlFloat(1),
      atom('a'),
      new Tuple([]),
      new ErlMap([]),
      [],
      [1],
      Buffer.from('a'),
    ];
    for (let i = 1; i < ordered.length; i++)
      assert.ok(compareTerms(ordered[i - 1], ordered[i]) < 0, `${i}`);
    assert.ok(compareTerms(new ImproperList([1], 2), [1, 2]) < 0);
  });
});

describe('EPMD names and cookies', () => {
  it('parses NAMES replies', () => {
    assert.deepEqual(parseNames('name foo at port 4000\nname bar_1 at port 39\n'), [
      { name: 'foo', port: 4000 },
      { name: 'bar_1', port: 39 },
    ]);
  });

  it('reads the cookie the way erl does', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bathysphere-home-'));
    const env = { HOME: home };
    assert.throws(() => readDefaultCookie(env), CookieMissingError);
    fs.mkdirSync(path.join(home, '.config', 'erlang'), { recursive: true });
    fs.writeFileSync(cookieFileCandidates(env)[1], 'XDGCOOKIE\n');
    assert.equal(readDefaultCookie(env), 'XDGCOOKIE');
    fs.writeFileSync(path.join(home, '.erlang.cookie'), 'HOMECOOKIE\n');
    assert.equal(readDefaultCookie(env), 'HOMECOOKIE');
    assert.equal(resolveCookie('explicit', env), 'explicit');
    fs.rmSync(home, { recursive: true, force: true });
  });
});
