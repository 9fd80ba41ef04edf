import * as assert from 'node:assert/strict';
import { ErlangConnection } from '../../../src/extension/erlang/connection';
import { decodeTerm } from '../../../src/extension/erlang/etf';
import { formatTerm } from '../../../src/extension/erlang/format';
import { evalOnNode } from '../../../src/extension/erlang/eval';
import {
  ErlMap,
  ExportFun,
  Fun,
  ImproperList,
  Port,
  Tuple,
  atom,
  termEquals,
  type Term,
} from '../../../src/extension/erlang/terms';
import { startNode, stopAllNodes, type TestNode } from './helpers/erlang-node';
import { TermGenerator } from './helpers/term-generator';

describe('ETF round trips against a real node', function () {
  this.timeout(60_000);
  let target: TestNode;
  let conn: ErlangConnection;

  before(async () => {
    target = await startNode();
    conn = await ErlangConnection.connect({ node: target.node, cookie: target.cookie });
  });
  after(async () => {
    conn?.close();
    await stopAllNodes();
  });

  it('decodes thousands of node-built terms (every tag) to what io_lib prints with ~w and ~p', async () => {
    let checked = 0;
    const kinds = new Set<string>();
    for (const seed of [1, 2, 3]) {
      const described = (await conn.rpc('bathysphere_test_termgen', 'encoded', [
        seed,
        1000,
      ])) as Tuple[];
      const sendBack: Term[] = [];
      for (const entry of described) {
        const [encoded, w, p] = entry.elements as [Buffer, Buffer, Buffer];
        if (encoded[1] === 80) kinds.add('compressed');
        const term = decodeTerm(encoded);
        kindsOf(term, kinds);
        const context = `term ${checked} (seed ${seed}): ${w.toString('utf8')}`;
        assert.equal(
          formatTerm(term, { style: 'w', localNode: conn.node }),
          w.toString('utf8'),
          context,
        );
        assert.equal(
          formatTerm(term, { style: 'p', localNode: conn.node }),
          p.toString('utf8'),
          context,
        );
        sendBack.push(new Tuple([term, encoded]));
        checked++;
      }
      // What we decoded, sent back over distribution, is the very term the node made.
      const mismatches = await conn.rpc('bathysphere_test_termgen', 'mismatches', [sendBack]);
      assert.deepEqual(mismatches, []);
    }
    assert.equal(checked, 3000);
    const expected = [
      'small-int',
      'int',
      'big',
      'large-big',
      'ErlFloat',
      'Atom',
      'tuple',
      'large-tuple',
      'nil',
    ];
    expected.push(
      'list',
      'ImproperList',
      'Buffer',
      'BitString',
      'ErlMap',
      'Pid',
      'Reference',
      'Port',
    );
    expected.push('ExportFun', 'Fun', 'compressed');
    for (const kind of expected) assert.ok(kinds.has(kind), `the generator produced a ${kind}`);
  });

  it('encodes terms so that the node reads back exactly what was meant', async () => {
    const creation = (await conn.rpc('erlang', 'system_info', [atom('creation')])) as number;
    const generator = new TermGenerator(42, { node: conn.node, creation });
    const terms = Array.from({ length: 2000 }, () => generator.term(3));
    const echoed = (await conn.rpc('bathysphere_test_termgen', 'echo_all', [terms])) as Tuple[];
    assert.equal(echoed.length, terms.length);
    echoed.forEach((entry, i) => {
      const [encoded, w] = entry.elements as [Buffer, Buffer];
      const context = `term ${i}: ${formatTerm(terms[i], { style: 'w' })}`;
      assert.ok(termEquals(decodeTerm(encoded), terms[i]), context);
      if (!containsBigPort(terms[i]))
        assert.equal(
          formatTerm(terms[i], { style: 'w', localNode: conn.node }),
          w.toString('utf8'),
          context,
        );
    });
  });

  it('passes node closures back opaquely, and they still run on the node', async () => {
    const double = await evalOnNode(conn, 'fun(X) -> X * 2 end.');
    assert.ok(double instanceof Fun);
    assert.equal(await conn.rpc('erlang', 'apply', [double, [21]]), 42);
    const sum = new ExportFun(atom('lists'), atom('sum'), 1);
    assert.equal(await conn.rpc('erlang', 'apply', [sum, [[1, 2, 3]]]), 6);
  });
});

function walk(term: Term, visit: (term: Term) => void): void {
  visit(term);
  if (term instanceof Tuple) term.elements.forEach((t) => walk(t, visit));
  else if (Array.isArray(term)) term.forEach((t) => walk(t, visit));
  else if (term instanceof ImproperList)
    [...term.elements, term.tail].forEach((t) => walk(t, visit));
  else if (term instanceof ErlMap)
    term.entries.forEach(([k, v]) => (walk(k, visit), walk(v, visit)));
}

function containsBigPort(term: Term): boolean {
  let found = false;
  walk(term, (t) => (found ||= t instanceof Port && BigInt(t.id) > 0xffffffffn));
  return found;
}

/** Which kinds of term (roughly: which ETF tags) occur in `term`. */
function kindsOf(term: Term, kinds: Set<string>): void {
  walk(term, (t) => {
    if (typeof t === 'number')
      kinds.add(t >= 0 && t <= 255 ? 'small-int' : Math.abs(t) < 2 ** 31 ? 'int' : 'big');
    else if (typeof t === 'bigint')
      kinds.add(t > 2n ** 2040n || t < -(2n ** 2040n) ? 'large-big' : 'big');
    else if (Array.isArray(t)) kinds.add(t.length === 0 ? 'nil' : 'list');
    else if (t instanceof Tuple) kinds.add(t.arity > 255 ? 'large-tuple' : 'tuple');
    else kinds.add(t.constructor.name);
  });
}
