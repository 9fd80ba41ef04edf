// The pieces of the recording path that replaced JS Maps and String(): a chunk's value table,
// the decimal digits written without a string, and the last-writer table of fields and array
// elements, each checked against the plain JavaScript it stands for.

import { strict as assert } from 'node:assert';
import { ByteWriter } from '../../../src/extension/jvm/chunkCodec';
import { ChunkValueTable } from '../../../src/extension/jvm/chunkValues';
import { LastWriterTable } from '../../../src/extension/jvm/lastWriters';
import { ValueType } from '../../../src/extension/jvm/stepColumns';

const INTEGERS = [
  0,
  -0,
  1,
  -1,
  9,
  10,
  -10,
  99,
  100,
  12345,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 31,
  2 ** 32 + 7,
  10 ** 15,
  -(10 ** 15) - 3,
  2 ** 53 - 1,
  -(2 ** 53 - 1),
];

describe('chunk values', () => {
  it('ByteWriter.decimal writes what string(String(value)) writes', () => {
    for (const value of INTEGERS) {
      const expected = new ByteWriter();
      expected.string(String(value));
      const actual = new ByteWriter();
      actual.decimal(value);
      assert.deepEqual(actual.view(), expected.view(), String(value));
    }
  });

  it('indexes values by type and number in first-use order, anew for each chunk', () => {
    const table = new ChunkValueTable((id) => (id === 0 ? 'null' : `Obj@${id}`));
    const uses: [ValueType, number, string | undefined][] = [
      [ValueType.Int, 65, undefined],
      [ValueType.Char, 65, undefined],
      [ValueType.Ref, 65, undefined],
      [ValueType.Bool, 1, undefined],
      [ValueType.Text, 0, '2.5'],
      [ValueType.Int, -(2 ** 40), undefined],
      [ValueType.Ref, 0, undefined],
    ];
    for (let round = 0; round < 2; round++) {
      // Each value twice, plus enough distinct ints to make the table grow.
      const indices = uses.map(([type, value, text]) =>
        type === ValueType.Text ? table.indexOfText(text!) : table.indexOf(type, value),
      );
      assert.deepEqual(indices, [0, 1, 2, 3, 4, 5, 6]);
      for (let i = 0; i < 5000; i++) assert.equal(table.indexOf(ValueType.Int, 1000 + i), 7 + i);
      uses.forEach(([type, value, text], i) => {
        const again =
          type === ValueType.Text ? table.indexOfText(text!) : table.indexOf(type, value);
        assert.equal(again, i);
      });
      const out = new ByteWriter();
      table.write(out);
      const expected = new ByteWriter();
      const strings = ['65', 'A', 'Obj@65', 'true', '2.5', String(-(2 ** 40)), 'null'];
      for (let i = 0; i < 5000; i++) strings.push(String(1000 + i));
      expected.varint(strings.length);
      for (const s of strings) expected.string(s);
      assert.deepEqual(out.view(), expected.view());
      table.reset();
      assert.equal(table.count, 0);
    }
  });

  it('LastWriterTable keeps the last writer of each variable as a Map does', () => {
    const table = new LastWriterTable(2 ** 20, 16);
    const reference = new Map<string, [number, number]>();
    let seed = 1;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 200_000; i++) {
      // Neighbouring slots of a few owners, and owners 2^32 apart (their low bits hash alike).
      const owner = (i % 2) * 2 ** 32 + (next() % 50);
      const slot = next() % 3000;
      const thread = 1 + (next() % 4);
      const order = 1 + (next() % 100_000);
      const key = `${owner}:${slot}`;
      const [previousThread, previousOrder] = reference.get(key) ?? [0, 0];
      assert.ok(table.fits(owner, slot));
      const found = table.swap(owner, slot, thread, order);
      assert.equal(found, previousOrder);
      if (found !== 0) assert.equal(table.foundThread, previousThread);
      reference.set(key, [thread, order]);
    }
    assert.equal(table.size, reference.size);
    for (const [key, [thread, order]] of reference) {
      const [owner, slot] = key.split(':').map(Number);
      assert.equal(table.get(owner, slot), order);
      assert.equal(table.foundThread, thread);
    }
    assert.equal(table.get(7, 2 ** 20 - 1), 0);
    assert.ok(!table.fits(7, 2 ** 20));
    assert.ok(!table.fits(2 ** 33, 0));
    assert.ok(!table.fits(-1, 0));
    table.clear();
    assert.equal(table.size, 0);
    assert.equal(table.get(1, 1), 0);
  });
});
