import * as assert from 'node:assert/strict';
import { decodeTerm } from '../../../src/extension/erlang/etf-decode';
import { encodeTerm } from '../../../src/extension/erlang/etf-encode';
import { EtfDecodeError } from '../../../src/extension/erlang/errors';
import {
  ErlMap,
  Pid,
  Port,
  Tuple,
  atom,
  binary,
  type Term,
} from '../../../src/extension/erlang/terms';
import {
  TraceBatchReader,
  batchFromTerm,
  sortByTime,
} from '../../../src/extension/erlang/traceBatch';
import { TermNames, type ErlangTraceEvent } from '../../../src/extension/erlang/traceEvents';

const NODE = 'traced@host';
const node = atom(NODE);
const pid = (id: number, serial = 0) => new Pid(node, id, serial, 7);
const remotePid = (id: number) => new Pid(atom('other@host'), id, 0, 3);
const TS = 1_700_000_000_123_456;
const event = (kind: string, subject: Term, other: Term, detail: Term, ts: Term = TS) =>
  new Tuple([atom(kind), ts, subject, other, detail]);
const none = atom('none');
const raw = atom('raw');

/** Every kind the agent sends, and the odd shapes the reader must hand to decodeEvent. */
function sampleEvents(): Term[] {
  return [
    event('started', pid(60), none, new ErlMap([[atom('backend'), atom('classic')]])),
    event('spawn', pid(90), pid(1000), new Tuple([atom('m'), atom('f'), 0])),
    event('link', pid(90), pid(1000), none),
    event('getting_linked', pid(1000), pid(90), none),
    event('island', pid(1000), none, atom('joined')),
    event('exit', pid(1000), none, new Tuple([atom('normal'), raw])),
    event('exit', pid(1001), none, new Tuple([binary('{big,...}'), atom('printed')])),
    event('getting_unlinked', pid(90), pid(1000), none),
    event('send', pid(90), pid(91), new Tuple([24, new Tuple([atom('msg'), 42]), raw])),
    event('send', pid(90), atom('registered'), new Tuple([8, binary('x'), raw])),
    event('send_to_dead', pid(90), remotePid(5), new Tuple([8, atom('hello'), raw])),
    event('register', pid(92), none, atom('a_name')),
    event('level', pid(93, 2), none, atom('chosen')),
    event('links', pid(94), none, [pid(95), new Port(node, 4, 7)]),
    event('monitors', pid(94), none, new Tuple([[pid(95)], [pid(96)]])),
    event(
      'facts',
      pid(2 ** 27 + 5),
      none,
      new ErlMap([
        [atom('registered_name'), atom('srv')],
        [atom('ancestors'), [pid(1), atom('sup')]],
      ]),
    ),
    event('summary', pid(90), none, new Tuple([TS + 5, [], 100, [new Tuple([pid(91), 3])]])),
    event('port_open', new Port(node, 12, 7), pid(90), binary('tcp_inet')),
    event('gone', remotePid(9), none, none),
    event('overload', none, none, new ErlMap([[atom('reason'), atom('memory')]])),
    event('spawn', pid(90), pid(1002), new Tuple([atom('m'), atom('f'), 0]), 12),
    event('spawn', pid(90), pid(1003), new Tuple([atom('m'), atom('f'), 0]), 2n ** 60n),
    event('a_kind_from_a_newer_agent', pid(97), none, none),
    new Tuple([binary('not a kind'), TS, pid(98), none, none]),
    new Tuple([atom('short'), TS, pid(99)]),
    atom('not_an_event'),
    new ErlMap([[atom('pids'), [pid(100)]]]),
  ];
}

const batch = (events: Term, seq: Term = 3, dropped: Term = 11) =>
  new Tuple([atom('bathysphere_trace'), pid(60), seq, events, dropped]);

function readBoth(message: Term) {
  const bytes = Buffer.from(encodeTerm(message));
  const genericPids = new Map<string, Pid>();
  const generic = batchFromTerm(decodeTerm(bytes), genericPids, new TermNames(NODE));
  const readerPids = new Map<string, Pid>();
  const reader = new TraceBatchReader(new TermNames(NODE), readerPids);
  const read = reader.read(bytes, 0, bytes.length);
  return { generic, genericPids, read, readerPids, bytes, reader };
}

describe('Erlang trace batches read from their bytes', () => {
  it('gives the events and remembered pids that decoding the term gives', () => {
    const { generic, genericPids, read, readerPids } = readBoth(batch(sampleEvents()));
    assert.ok(generic && read);
    assert.equal(read.events.length, 22);
    assert.deepEqual(read, generic);
    assert.deepEqual([...readerPids.entries()], [...genericPids.entries()]);
    assert.equal(readerPids.get('<0.90.0>')?.creation, 7);
  });

  it('prints cached pids the same across batches, and an empty batch is a batch', () => {
    const names = new TermNames(NODE);
    const pids = new Map<string, Pid>();
    const reader = new TraceBatchReader(names, pids);
    const bytes = Buffer.from(encodeTerm(batch(sampleEvents())));
    const first = reader.read(bytes, 0, bytes.length);
    const second = reader.read(bytes, 0, bytes.length);
    assert.deepEqual(second, first);
    const empty = Buffer.from(encodeTerm(batch([], 4, 0)));
    assert.deepEqual(reader.read(empty, 0, empty.length), { seq: 4, dropped: 0, events: [] });
  });

  it('declines messages that are not batches of the expected shape (decoded as terms then)', () => {
    for (const message of [
      new Tuple([atom('bathysphere_other'), pid(60), 3, [], 0]),
      new Tuple([atom('bathysphere_trace'), pid(60), 3, []]),
      batch(atom('no_list')),
      atom('bathysphere_trace'),
    ]) {
      const { read, generic } = readBoth(message);
      assert.equal(read, undefined);
      assert.equal(generic, undefined);
    }
    // A list of bytes travels as a string: declined here, an empty batch as a term.
    const { read, generic } = readBoth(batch([1, 2, 3]));
    assert.equal(read, undefined);
    assert.deepEqual(generic, { seq: 3, dropped: 11, events: [] });
  });

  it('declines an improper event list and a message with trailing bytes', () => {
    const improper = Buffer.from(encodeTerm(batch([event('gone', pid(1), none, none)])));
    // The list's tail is the NIL (106) just before the dropped count (small integer 11).
    const nilAt = improper.length - 3;
    assert.equal(improper[nilAt], 106);
    improper[nilAt] = 97; // now the tail is the small integer 97
    const reader = new TraceBatchReader(new TermNames(NODE), new Map());
    assert.equal(reader.read(improper, 0, improper.length - 2), undefined);
    const trailing = Buffer.concat([Buffer.from(encodeTerm(batch([]))), Buffer.from([0])]);
    assert.equal(reader.read(trailing, 0, trailing.length), undefined);
  });

  it('fails cleanly on a truncated batch, at every cut', () => {
    const bytes = Buffer.from(encodeTerm(batch(sampleEvents().slice(0, 10))));
    const reader = new TraceBatchReader(new TermNames(NODE), new Map());
    for (let cut = 4; cut < bytes.length; cut++) {
      try {
        const read = reader.read(bytes, 0, cut);
        assert.equal(read, undefined, `cut at ${cut} read as a batch`);
      } catch (e) {
        assert.ok(e instanceof EtfDecodeError, `cut at ${cut}: ${String(e)}`);
      }
    }
  });
});

describe('Erlang trace batches in time order', () => {
  type Exit = Extract<ErlangTraceEvent, { kind: 'exit' }>;
  const at = (ts: number, pid: string): Exit => ({ kind: 'exit', ts, pid, reason: 'normal' });
  const order = (events: Exit[]) => events.map((e) => `${e.ts}${e.pid}`).join(' ');

  it('sorts a batch whose schedulers sent out of order, keeping ties in arrival order', () => {
    const events = [at(3, 'a'), at(1, 'b'), at(3, 'c'), at(2, 'd'), at(1, 'e')];
    sortByTime(events);
    assert.equal(order(events), '1b 1e 2d 3a 3c');
  });

  it('leaves a batch already in order as it came, ties included', () => {
    const events = [at(1, 'b'), at(1, 'a'), at(2, 'c'), at(2, 'c2')];
    sortByTime(events);
    assert.equal(order(events), '1b 1a 2c 2c2');
  });
});
