/**
 * Reads the tracer's batches, `{bathysphere_trace, Tracer, Seq, Events, Dropped}`, from
 * their external-format bytes straight into events. The generic decoder builds a term tree
 * per event (a tuple, atoms, two pids with their node atom) that is printed and dropped at
 * once; at hundreds of thousands of events a second that tree, its garbage and printing
 * the same pids over and over cost more than storing the events. Here the fixed fields of
 * each event (kind, time, subject, other) are read in place, pids of the traced node print
 * from a cache, and only the detail goes through the generic decoder.
 *
 * Anything off the expected shape falls back to the generic decoder (for one event, or
 * for the whole message), so every message means what decodeEvent makes of it.
 */
import { EtfDecodeError } from './errors';
import { atomFromBytes, decodeInnerTermAt } from './etf-decode';
import { Tag } from './etf-tags';
import { PID_ID_BITS } from './pidSet';
import { Atom, ErlMap, Pid, Tuple, type Term } from './terms';
import { TermNames, decodeEvent, decodeFields, type ErlangTraceEvent } from './traceEvents';

export interface TraceBatch {
  seq: number;
  /** Events the agent dropped so far (cumulative). */
  dropped: number;
  /** In the order the agent sent them. */
  events: ErlangTraceEvent[];
}

/** Pids kept by their text, so explore('<0.85.0>') needs no round trip to the node. */
export const MAX_REMEMBERED_PIDS = 100_000;

/**
 * Printed pids of the traced node kept for reuse, in slots by the low bits of their packed
 * id and serial: a churn's consecutive pids take consecutive slots, and a slot's pid is
 * replaced by the next one that maps to it.
 */
const PID_TEXT_SLOTS = 2 ** 16;

/** Id and serial of a printed pid (see pidSet.ts) pack into one small integer key below these. */
const PID_ID_LIMIT = 2 ** PID_ID_BITS;
const PID_SERIAL_LIMIT = 2 ** 15;

const BATCH_TAG = 'bathysphere_trace';

/**
 * Keeps the Pid objects of an event's subject (and of the pid lists in a map) by their
 * text: what the session resolves text against.
 */
export function rememberPids(raw: Term, pids: Map<string, Pid>, names: TermNames): void {
  if (pids.size > MAX_REMEMBERED_PIDS) return;
  if (raw instanceof Tuple) {
    const subject = raw.elements[2];
    if (subject instanceof Pid) pids.set(names.of(subject), subject);
  } else if (raw instanceof ErlMap) {
    for (const [, value] of raw.entries)
      if (Array.isArray(value))
        for (const item of value) if (item instanceof Pid) pids.set(names.of(item), item);
  }
}

/** The events of one batch message: what both the generic and the byte path produce. */
export function batchFromTerm(
  message: Term,
  pids: Map<string, Pid>,
  names: TermNames,
): TraceBatch | undefined {
  if (!(message instanceof Tuple) || message.elements.length !== 5) return undefined;
  const [tag, , seq, rawEvents, dropped] = message.elements;
  if (!(tag instanceof Atom) || tag.name !== BATCH_TAG || !Array.isArray(rawEvents))
    return undefined;
  const events: ErlangTraceEvent[] = [];
  for (const raw of rawEvents) {
    const event = decodeEvent(raw, names);
    if (event) events.push(event);
    rememberPids(raw, pids, names);
  }
  return { seq: Number(seq), dropped: Number(dropped), events };
}

/**
 * Puts a batch in time order, keeping the order of events with the same time. Trace
 * messages from different schedulers can arrive out of order, but most batches are in
 * order already, and checking that costs far less than a sort's comparisons.
 */
export function sortByTime(events: ErlangTraceEvent[]): void {
  for (let i = 1; i < events.length; i++)
    if (events[i].ts < events[i - 1].ts) {
      events.sort((a, b) => a.ts - b.ts);
      return;
    }
}

export class TraceBatchReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private end = 0;
  private readonly nodeAtom: Atom;
  private readonly nodeUtf8: Buffer;
  private readonly nodeLatin1: Buffer;
  /** `<0.Id.Serial>` by Id and Serial packed (see pidText), for pids of the traced node. */
  private readonly pidTextKeys = new Int32Array(PID_TEXT_SLOTS).fill(-1);
  private readonly pidTexts: string[] = new Array<string>(PID_TEXT_SLOTS).fill('');

  constructor(
    private readonly names: TermNames,
    private readonly pids: Map<string, Pid>,
  ) {
    this.nodeAtom = Atom.of(names.localNode);
    this.nodeUtf8 = Buffer.from(names.localNode, 'utf8');
    this.nodeLatin1 = Buffer.from(names.localNode, 'latin1');
  }

  /**
   * The batch in bytes[offset, end) (a message: version byte first), or undefined when
   * the message is not a batch of the expected shape: decode it generically then.
   */
  read(bytes: Buffer, offset: number, end: number): TraceBatch | undefined {
    this.buf = bytes;
    this.pos = offset;
    this.end = end;
    if (!this.envelope()) return undefined;
    this.skipTerm(); // the tracer's pid
    const seq = Number(this.term());
    const events = this.events();
    if (events === undefined) return undefined;
    const dropped = Number(this.term());
    if (this.pos !== end) return undefined;
    return { seq, dropped, events };
  }

  /** Version byte, a 5-tuple, its first element the atom bathysphere_trace. */
  private envelope(): boolean {
    const { buf, pos } = this;
    if (this.end - pos < 4 || buf[pos] !== Tag.version) return false;
    if (buf[pos + 1] !== Tag.smallTuple || buf[pos + 2] !== 5) return false;
    this.pos = pos + 3;
    const tag = this.atomOrUndefined();
    return tag !== undefined && tag.name === BATCH_TAG;
  }

  /** A proper list of events, or undefined for anything else (another list shape). */
  private events(): ErlangTraceEvent[] | undefined {
    this.need(1);
    const tag = this.buf[this.pos];
    if (tag === Tag.nil) {
      this.pos += 1;
      return [];
    }
    if (tag !== Tag.list) return undefined;
    this.need(5);
    const count = this.buf.readUInt32BE(this.pos + 1);
    this.pos += 5;
    if (count > this.end - this.pos)
      throw new EtfDecodeError(`list claims ${count} elements`, this.pos - 5);
    const events: ErlangTraceEvent[] = [];
    for (let i = 0; i < count; i++) {
      const event = this.event();
      if (event) events.push(event);
    }
    this.need(1);
    if (this.buf[this.pos] !== Tag.nil) return undefined;
    this.pos += 1;
    return events;
  }

  /** {Kind, TimeUs, Subject, Other, Detail}; other shapes through decodeEvent. */
  private event(): ErlangTraceEvent | undefined {
    const start = this.pos;
    this.need(2);
    if (this.buf[start] !== Tag.smallTuple || this.buf[start + 1] !== 5) return this.generic(start);
    this.pos += 2;
    const kind = this.atomOrUndefined();
    if (kind === undefined) return this.generic(start);
    const ts = this.integer();
    const subject = this.name(true);
    const other = this.name(false);
    const detail = this.detail();
    return decodeFields(kind.name, ts, subject, other, detail, this.names);
  }

  /**
   * An event's detail. The usual ones, an atom or a tuple of up to three atoms and small
   * integers (`none`, `joined`, `{normal, raw}`, `{M, F, Arity}`), are read in place; the
   * rest by the generic decoder, which gives the same terms.
   */
  private detail(): Term {
    const start = this.pos;
    this.need(2);
    if (this.buf[start] === Tag.smallTuple && this.buf[start + 1] <= 3) {
      const arity = this.buf[start + 1];
      this.pos += 2;
      const elements: Term[] = [];
      for (let i = 0; i < arity; i++) {
        const element = this.atomOrSmallInteger();
        if (element === undefined) {
          this.pos = start;
          return this.term();
        }
        elements.push(element);
      }
      return new Tuple(elements);
    }
    return this.atomOrSmallInteger() ?? this.term();
  }

  /** An atom or a small integer at pos (consumed), or undefined (pos unchanged). */
  private atomOrSmallInteger(): Term | undefined {
    this.need(1);
    if (this.buf[this.pos] !== Tag.smallInteger) return this.atomOrUndefined();
    this.need(2);
    this.pos += 2;
    return this.buf[this.pos - 1];
  }

  private generic(start: number): ErlangTraceEvent | undefined {
    this.pos = start;
    const raw = this.term();
    rememberPids(raw, this.pids, this.names);
    return decodeEvent(raw, this.names);
  }

  /** An atom at pos (consumed), or undefined (pos unchanged) when the term is not one. */
  private atomOrUndefined(): Atom | undefined {
    this.need(1);
    const tag = this.buf[this.pos];
    const small = tag === Tag.smallAtomUtf8 || tag === Tag.smallAtom;
    if (!small && tag !== Tag.atomUtf8 && tag !== Tag.atom) return undefined;
    const header = small ? 2 : 3;
    this.need(header);
    const length = small ? this.buf[this.pos + 1] : this.buf.readUInt16BE(this.pos + 1);
    this.need(header + length);
    const utf8 = tag === Tag.smallAtomUtf8 || tag === Tag.atomUtf8;
    const atom = atomFromBytes(this.buf, this.pos + header, length, utf8);
    this.pos += header + length;
    return atom;
  }

  /** Times: small integers and big integers of up to 53 bits read in place. */
  private integer(): number {
    this.need(1);
    const { buf, pos } = this;
    const tag = buf[pos];
    if (tag === Tag.smallBig) {
      this.need(3);
      const length = buf[pos + 1];
      if (length <= 6 || (length === 7 && this.end - pos >= 10 && buf[pos + 9] < 0x20)) {
        this.need(3 + length);
        let value = 0;
        for (let i = length - 1; i >= 0; i--) value = value * 256 + buf[pos + 3 + i];
        this.pos = pos + 3 + length;
        return buf[pos + 2] === 0 ? value : -value;
      }
    } else if (tag === Tag.smallInteger) {
      this.need(2);
      this.pos = pos + 2;
      return buf[pos + 1];
    } else if (tag === Tag.integer) {
      this.need(5);
      this.pos = pos + 5;
      return buf.readInt32BE(pos + 1);
    }
    return Number(this.term());
  }

  /** names.of(term) of the term at pos; pids of the traced node from the cache. */
  private name(isSubject: boolean): string {
    const start = this.pos;
    this.need(1);
    if (this.buf[start] === Tag.newPid) {
      const text = this.localPid(isSubject);
      if (text !== undefined) return text;
      this.pos = start;
    }
    const term = this.term();
    if (isSubject && term instanceof Pid && this.pids.size <= MAX_REMEMBERED_PIDS)
      this.pids.set(this.names.of(term), term);
    return this.names.of(term);
  }

  /** NEW_PID_EXT of the traced node: its text (remembered when a subject), else undefined. */
  private localPid(isSubject: boolean): string | undefined {
    const { buf } = this;
    this.pos += 1;
    this.need(1);
    const nodeTag = buf[this.pos];
    const small = nodeTag === Tag.smallAtomUtf8 || nodeTag === Tag.smallAtom;
    if (!small && nodeTag !== Tag.atomUtf8 && nodeTag !== Tag.atom) return undefined;
    const header = small ? 2 : 3;
    this.need(header);
    const length = small ? buf[this.pos + 1] : buf.readUInt16BE(this.pos + 1);
    const utf8 = nodeTag === Tag.smallAtomUtf8 || nodeTag === Tag.atomUtf8;
    const node = utf8 ? this.nodeUtf8 : this.nodeLatin1;
    if (length !== node.length) return undefined;
    this.need(header + length + 12);
    const at = this.pos + header;
    for (let i = 0; i < length; i++) if (buf[at + i] !== node[i]) return undefined;
    const id = buf.readUInt32BE(at + length);
    const serial = buf.readUInt32BE(at + length + 4);
    const creation = buf.readUInt32BE(at + length + 8);
    this.pos = at + length + 12;
    const text = this.pidText(id, serial);
    if (isSubject && this.pids.size <= MAX_REMEMBERED_PIDS) {
      const known = this.pids.get(text);
      if (known === undefined || known.creation !== creation)
        this.pids.set(text, new Pid(this.nodeAtom, id, serial, creation));
    }
    return text;
  }

  /**
   * The same text object for the same pid, batch after batch: besides the strings not made,
   * a string keeps its hash, so the ingest's maps look it up without hashing it again.
   */
  private pidText(id: number, serial: number): string {
    if (id >= PID_ID_LIMIT || serial >= PID_SERIAL_LIMIT) return `<0.${id}.${serial}>`;
    const key = serial * PID_ID_LIMIT + id;
    const slot = key & (PID_TEXT_SLOTS - 1);
    if (this.pidTextKeys[slot] === key) return this.pidTexts[slot];
    const text = `<0.${id}.${serial}>`;
    this.pidTextKeys[slot] = key;
    this.pidTexts[slot] = text;
    return text;
  }

  private term(): Term {
    const { term, end } = decodeInnerTermAt(this.buf, this.pos, this.end);
    this.pos = end;
    return term;
  }

  private skipTerm(): void {
    this.pos = decodeInnerTermAt(this.buf, this.pos, this.end).end;
  }

  private need(count: number): void {
    if (count > this.end - this.pos)
      throw new EtfDecodeError(`a trace batch needs ${count} more bytes`, this.pos);
  }
}
