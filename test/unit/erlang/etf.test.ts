import * as assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { decodeTerm, decodeTermAt, encodeTerm } from '../../../src/extension/erlang/etf';
import { EtfDecodeError, EtfEncodeError } from '../../../src/extension/erlang/errors';
import { formatTerm } from '../../../src/extension/erlang/format';
import {
  BitString,
  ErlFloat,
  ErlMap,
  ExportFun,
  Fun,
  ImproperList,
  Pid,
  Port,
  Reference,
  Tuple,
  atom,
  termEquals,
  type Term,
} from '../../../src/extension/erlang/terms';
import { fuzzDecoder } from './helpers/fuzz';

const bytes = (...values: number[]) => Buffer.from([131, ...values]);

function decodeError(input: Buffer, options = {}): EtfDecodeError {
  try {
    decodeTerm(input, options);
  } catch (e) {
    assert.ok(e instanceof EtfDecodeError, `expected EtfDecodeError, got ${String(e)}`);
    return e;
  }
  assert.fail('decoding should have failed');
}

describe('ETF codec', () => {
  describe('encodes the way Erlang does', () => {
    // Expected bytes per the ETF spec, as a node sends them over distribution (UTF-8 atoms).
    const cases: Array<[string, Term, number[]]> = [
      ['small integer', 5, [97, 5]],
      ['integer', -1, [98, 255, 255, 255, 255]],
      ['big', 2 ** 40, [110, 6, 0, 0, 0, 0, 0, 0, 1]],
      ['negative bigint', -(2n ** 64n), [110, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
      ['float', new ErlFloat(1.5), [70, 63, 248, 0, 0, 0, 0, 0, 0]],
      ['atom', atom('ok'), [119, 2, 111, 107]],
      ['tuple', new Tuple([1, atom('a')]), [104, 2, 97, 1, 119, 1, 97]],
      ['nil', [], [106]],
      ['string', [97, 98], [107, 0, 2, 97, 98]],
      ['list', [1, 256], [108, 0, 0, 0, 2, 97, 1, 98, 0, 0, 1, 0, 106]],
      ['improper list', new ImproperList([1], 2), [108, 0, 0, 0, 1, 97, 1, 97, 2]],
      ['binary', Buffer.from('hi'), [109, 0, 0, 0, 2, 104, 105]],
      ['bitstring', new BitString(Buffer.from([1, 0x40]), 3), [77, 0, 0, 0, 2, 3, 1, 0x40]],
      ['map', new ErlMap([[atom('a'), 1]]), [116, 0, 0, 0, 1, 119, 1, 97, 97, 1]],
      ['export', new ExportFun(atom('m'), atom('f'), 2), [113, 119, 1, 109, 119, 1, 102, 97, 2]],
    ];
    for (const [name, term, expected] of cases) {
      it(name, () => {
        assert.deepEqual([...encodeTerm(term)], [131, ...expected]);
        assert.ok(termEquals(decodeTerm(encodeTerm(term)), term));
      });
    }
  });

  it('keeps integers and floats apart, and uses bigint only beyond 2^53', () => {
    assert.equal(decodeTerm(bytes(97, 1)), 1);
    assert.ok(decodeTerm(bytes(70, 63, 240, 0, 0, 0, 0, 0, 0)) instanceof ErlFloat);
    assert.equal(decodeTerm(encodeTerm(2 ** 53 - 1)), 2 ** 53 - 1);
    assert.equal(decodeTerm(encodeTerm(2n ** 53n)), 2n ** 53n);
    assert.equal(decodeTerm(encodeTerm(-(2n ** 100n))), -(2n ** 100n));
    assert.equal(decodeTerm(encodeTerm(2n ** 2100n)), 2n ** 2100n); // LARGE_BIG
  });

  it('decodes the legacy and rare tags', () => {
    const node = [100, 0, 1, 110]; // ATOM_EXT 'n'
    const oldPid = decodeTerm(bytes(103, ...node, 0, 0, 0, 5, 0, 0, 0, 1, 2));
    assert.deepEqual(oldPid, new Pid(atom('n'), 5, 1, 2));
    const oldRef = decodeTerm(bytes(114, 0, 1, ...node, 3, 0, 0, 0, 9));
    assert.deepEqual(oldRef, new Reference(atom('n'), 3, [9]));
    const v4Port = decodeTerm(bytes(120, ...node, 0, 0, 1, 0, 0, 0, 0, 7, 0, 0, 0, 1));
    assert.deepEqual(v4Port, new Port(atom('n'), 2 ** 40 + 7, 1));
    assert.deepEqual(decodeTerm(bytes(115, 1, 120)), atom('x')); // SMALL_ATOM_EXT
    const floatText = Buffer.alloc(31);
    floatText.write('1.50000000000000000000e+00');
    assert.deepEqual(decodeTerm(Buffer.concat([bytes(99), floatText])), new ErlFloat(1.5));
    // FUN_EXT (pre-OTP 23): NumFree=1, Pid, Module, Index, Uniq, one free variable
    const oldFun = bytes(
      117,
      0,
      0,
      0,
      1,
      88,
      119,
      1,
      110,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      1,
      119,
      1,
      109,
      97,
      3,
      97,
      4,
      97,
      42,
    );
    const fun = decodeTerm(oldFun);
    assert.ok(fun instanceof Fun);
    assert.equal(formatTerm(fun), '#Fun<m.3.4>');
    assert.deepEqual([...encodeTerm(fun)], [...oldFun], 'opaque funs re-encode byte for byte');
  });

  it('decodes compressed terms and several terms in one buffer', () => {
    const inner = encodeTerm(Array.from({ length: 1000 }, (_, i) => i));
    const compressed = zlib.deflateSync(inner.subarray(1));
    const packet = Buffer.concat([bytes(80, 0, 0, 0, 0), compressed, encodeTerm(atom('next'))]);
    packet.writeUInt32BE(inner.length - 1, 2);
    const first = decodeTermAt(packet, 0);
    assert.equal((first.term as number[]).length, 1000);
    assert.deepEqual(decodeTermAt(packet, first.end).term, atom('next'));
  });

  it('refuses JavaScript values that are not terms', () => {
    for (const value of ['text', true, null, undefined, {}, NaN, Infinity, 2 ** 60]) {
      assert.throws(() => encodeTerm(value as unknown as Term), EtfEncodeError);
    }
  });

  describe('hostile input', () => {
    it('rejects every truncation of a valid term with EtfDecodeError', () => {
      const full = encodeTerm(
        new Tuple([atom('ok'), [1, 2, 300], Buffer.from('abc'), new ErlMap([[1, 2]]), 2n ** 70n]),
      );
      for (let length = 0; length < full.length; length++) decodeError(full.subarray(0, length));
    });

    it('checks length fields against the bytes that remain before allocating', () => {
      const huge = [255, 255, 255, 255];
      const cases = [
        bytes(105, ...huge), // LARGE_TUPLE
        bytes(108, ...huge, 106), // LIST
        bytes(116, ...huge), // MAP
        bytes(109, ...huge, 1, 2), // BINARY
        bytes(77, ...huge, 3, 1), // BIT_BINARY
        bytes(111, ...huge, 0), // LARGE_BIG
        bytes(107, 255, 255, 97), // STRING
        bytes(118, 255, 255, 97), // ATOM_UTF8
        bytes(112, ...huge), // NEW_FUN
        bytes(
          117,
          ...huge,
          88,
          119,
          1,
          110,
          0,
          0,
          0,
          1,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          1,
          119,
          1,
          109,
          97,
          3,
          97,
          4,
        ), // FUN
      ];
      for (const input of cases) {
        const started = process.hrtime.bigint();
        const error = decodeError(input);
        assert.ok(error.offset >= 1 && error.offset <= input.length, error.message);
        assert.ok(process.hrtime.bigint() - started < 50_000_000n, 'failed fast');
      }
    });

    it('caps nesting depth without recursing', () => {
      const depth = 200_000;
      const deep = Buffer.alloc(1 + depth * 2 + 1, 1);
      deep[0] = 131;
      for (let i = 0; i < depth; i++) deep[1 + i * 2] = 104;
      deep[deep.length - 1] = 106;
      assert.match(decodeError(deep).message, /nested deeper than 1000/);
      assert.ok(
        decodeTerm(deep, { maxDepth: depth + 1 }) instanceof Tuple,
        'iterative decoder handles any depth',
      );
    });

    it('caps decompression at the declared size and the configured maximum', () => {
      const bomb = zlib.deflateSync(Buffer.alloc(50 * 1024 * 1024));
      const lying = Buffer.concat([bytes(80, 0, 0, 0, 100), bomb]);
      assert.match(decodeError(lying).message, /inflates past its declared size/);
      const tooBig = Buffer.concat([bytes(80, 0xff, 0xff, 0xff, 0xff), bomb]);
      assert.match(decodeError(tooBig).message, /limit/);
      const overCap = Buffer.concat([bytes(80, 0, 0x10, 0, 0), bomb]);
      assert.match(decodeError(overCap, { maxDecompressedBytes: 1024 }).message, /limit 1024/);
      assert.match(decodeError(bytes(80, 0, 0, 0, 5, 1, 2, 3)).message, /not valid zlib/);
      assert.match(decodeError(bytes(104, 1, 80, 0, 0, 0, 1)).message, /compressed term inside/);
    });

    it('survives a fixed-seed fuzz run of 20,000 generated and mutated inputs', function () {
      this.timeout(60_000);
      const stats = fuzzDecoder(20_000, 1234);
      // Both outcomes must occur, or the fuzzer is not exercising the decoder.
      assert.ok(stats.decoded > 2_000, `decoded ${stats.decoded}`);
      assert.ok(stats.rejected > 2_000, `rejected ${stats.rejected}`);
    });
  });
});
