import * as assert from 'node:assert/strict';
import { decodeTerm } from '../../../src/extension/erlang/etf-decode';
import { encodeTerm } from '../../../src/extension/erlang/etf-encode';
import { eventColumns, genericColumns } from '../../../src/extension/erlang/eventChunks';
import { Pid, Tuple, atom, binary, type Term } from '../../../src/extension/erlang/terms';
import {
  TermNames,
  decodeEvent,
  type ErlangTraceEvent,
} from '../../../src/extension/erlang/traceEvents';

const NODE = 'traced@host';
const node = atom(NODE);
const pid = (id: number) => new Pid(node, id, 0, 1);
const event = (kind: string, subject: Term, other: Term, detail: Term) =>
  new Tuple([atom(kind), 1_700_000_000_123_456, subject, other, detail]);

describe('Erlang trace events (agent format 0.3.0)', () => {
  it('prints a raw message body here and keeps a body the agent printed', () => {
    const names = new TermNames(NODE);
    const raw = new Tuple([atom('msg'), 42, binary('hi'), pid(7)]);
    const sent = decodeEvent(
      event('send', pid(5), pid(6), new Tuple([40, raw, atom('raw')])),
      names,
    );
    assert.deepEqual(sent, {
      kind: 'send',
      ts: 1_700_000_000_123_456,
      pid: '<0.5.0>',
      to: '<0.6.0>',
      bytes: 40,
      text: '{msg,42,<<"hi">>,<0.7.0>}',
    });
    const printed = decodeEvent(
      event('send', pid(5), pid(6), new Tuple([4000, binary('{big,...}'), atom('printed')])),
      names,
    );
    assert.equal(printed?.kind === 'send' && printed.text, '{big,...}');
  });

  it('cuts a body printed here at maxPrintChars, as the agent cuts', () => {
    const names = new TermNames(NODE);
    names.maxPrintChars = 10;
    const exit = decodeEvent(
      event('exit', pid(5), atom('none'), new Tuple([atom('a_rather_long_reason'), atom('raw')])),
      names,
    );
    assert.equal(exit?.kind === 'exit' && exit.reason, 'a_rather_l...');
    const closed = decodeEvent(
      event('port_closed', pid(5), atom('none'), new Tuple([atom('normal'), atom('raw')])),
      names,
    );
    assert.equal(closed?.kind === 'port_closed' && closed.reason, 'normal');
  });

  it('maps every kind onto the same columns as the generic mapping', () => {
    const samples: ErlangTraceEvent[] = [
      { kind: 'send', ts: 1, pid: '<0.5.0>', to: '<0.6.0>', bytes: 24, text: '{msg,"a\\"b"}' },
      { kind: 'send_to_dead', ts: 1, pid: '<0.5.0>', to: 'gone', bytes: 8, text: 'hello' },
      { kind: 'spawn', ts: 1, pid: '<0.5.0>', child: '<0.9.0>', mfa: 'erlang:apply/2' },
      { kind: 'exit', ts: 1, pid: '<0.9.0>', reason: '{shutdown,"x"}' },
      { kind: 'link', ts: 1, pid: '<0.5.0>', other: '<0.9.0>' },
      { kind: 'unlink', ts: 1, pid: '<0.5.0>', other: '<0.9.0>' },
      { kind: 'getting_linked', ts: 1, pid: '<0.9.0>', other: '<0.5.0>' },
      { kind: 'getting_unlinked', ts: 1, pid: '<0.5.0>', other: '<0.9.0>' },
      { kind: 'island', ts: 1, pid: '<0.9.0>', change: 'joined' },
      { kind: 'gone', ts: 1, pid: '<0.9.0>' },
    ];
    for (const sample of samples)
      assert.deepEqual(eventColumns(sample), genericColumns(sample), sample.kind);
  });

  it('decodes microsecond timestamps (7-byte integers) exactly, and larger ones as bigint', () => {
    for (const value of [1_700_000_000_123_456, 2 ** 53 - 1, -(2 ** 52) - 3])
      assert.equal(decodeTerm(encodeTerm(value)), value);
    assert.equal(decodeTerm(encodeTerm(2n ** 53n + 1n)), 2n ** 53n + 1n);
  });
});
