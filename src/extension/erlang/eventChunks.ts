/**
 * Encodes trace events as the JSON arrays stored in erlang_event_chunks rows:
 * `[[seq, ts_us, kind, subject, other, detail], ...]`, detail a JSON object or null.
 *
 * The JSON is written as UTF-8 bytes straight into one reused buffer, numbers and names
 * character by character. Building it as a string and encoding that cost about a fifth of
 * a churning node's ingest, most of it in the strings made per event (and collecting them).
 */
import type { ErlangTraceEvent } from './traceEvents';

/** Events per erlang_event_chunks row, at most (a full tracer batch of 5,000 makes two). */
export const EVENTS_PER_CHUNK = 4096;

export interface EncodedChunk {
  firstSeq: number;
  lastSeq: number;
  count: number;
  minTs: number;
  maxTs: number;
  /** The chunk's JSON in UTF-8: a view of the encoder's buffer, valid until its next chunk. */
  json: Uint8Array;
}

const Char = {
  comma: 0x2c,
  open: 0x5b,
  close: 0x5d,
  closeObject: 0x7d,
  minus: 0x2d,
  zero: 0x30,
  quote: 0x22,
  backslash: 0x5c,
} as const;

/** Numbers are written in halves below this (2^53 has sixteen digits). */
const HALF = 1e8;

/** A growing byte buffer JSON is written into, reused chunk after chunk. */
class JsonBytes {
  private buf = Buffer.allocUnsafe(1 << 20);
  length = 0;

  byte(code: number): void {
    this.room(1);
    this.buf[this.length++] = code;
  }

  /** Already-encoded JSON (the constant parts). */
  bytes(bytes: Uint8Array): void {
    this.room(bytes.length);
    const { buf } = this;
    let at = this.length;
    for (let i = 0; i < bytes.length; i++) buf[at++] = bytes[i];
    this.length = at;
  }

  /** JSON text given as a string. */
  text(json: string): void {
    this.room(json.length * 3);
    this.length += this.buf.write(json, this.length, 'utf8');
  }

  /**
   * A number; integers (times, sequence numbers, sizes) digit by digit, no string made,
   * in two halves of up to eight digits so that the arithmetic stays on small integers.
   */
  number(value: number): void {
    if (!Number.isSafeInteger(value)) return this.text(JSON.stringify(value));
    this.room(17);
    if (value < 0) {
      this.buf[this.length++] = Char.minus;
      value = -value;
    }
    if (value < HALF) return this.digits(value, 1);
    const high = Math.floor(value / HALF);
    this.digits(high, 1);
    this.digits(value - high * HALF, 8);
  }

  /** The decimal digits of 0 <= value < 10^8, zero-padded to at least `width`. */
  private digits(value: number, width: number): void {
    let count = 1;
    for (let rest = value; rest >= 10; rest = (rest / 10) | 0) count++;
    if (count < width) count = width;
    const { buf } = this;
    let at = this.length + count;
    this.length = at;
    for (let i = 0; i < count; i++) {
      const tenth = (value / 10) | 0;
      buf[--at] = Char.zero + value - tenth * 10;
      value = tenth;
    }
  }

  /**
   * A string as a JSON string (null as null). Names (kinds, pids, reasons) are printable
   * ASCII with nothing to escape, written character by character; anything else goes
   * through JSON.stringify.
   */
  name(text: string | null): void {
    if (text === null) return this.bytes(NULL);
    this.room(text.length + 2);
    const { buf } = this;
    let at = this.length;
    buf[at++] = Char.quote;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code < 0x20 || code > 0x7e || code === Char.quote || code === Char.backslash)
        return this.text(JSON.stringify(text));
      buf[at++] = code;
    }
    buf[at++] = Char.quote;
    this.length = at;
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  private room(count: number): void {
    if (this.length + count <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + count));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
}

const ascii = (text: string) => Buffer.from(text, 'latin1');
const NULL = ascii('null');
const MFA = ascii('{"mfa":');
const REASON = ascii('{"reason":');
const CHANGE = ascii('{"change":');
const BYTES = ascii('{"bytes":');
const TEXT = ascii(',"text":');

/** Encodes events as chunks, numbering them on from the last chunk's sequence number. */
export class ChunkEncoder {
  private readonly out = new JsonBytes();

  /** Encodes events[start, end) as one chunk, numbering them from afterSeq + 1. */
  encode(
    events: readonly ErlangTraceEvent[],
    start: number,
    end: number,
    afterSeq: number,
  ): EncodedChunk {
    const { out } = this;
    out.length = 0;
    let seq = afterSeq;
    let minTs = Infinity;
    let maxTs = -Infinity;
    out.byte(Char.open);
    for (let i = start; i < end; i++) {
      const event = events[i];
      seq += 1;
      if (event.ts < minTs) minTs = event.ts;
      if (event.ts > maxTs) maxTs = event.ts;
      if (i > start) out.byte(Char.comma);
      out.byte(Char.open);
      out.number(seq);
      out.byte(Char.comma);
      out.number(event.ts);
      out.byte(Char.comma);
      out.name(event.kind);
      out.byte(Char.comma);
      writeColumns(event, out);
      out.byte(Char.close);
    }
    out.byte(Char.close);
    return {
      firstSeq: afterSeq + 1,
      lastSeq: seq,
      count: end - start,
      minTs,
      maxTs,
      json: out.view(),
    };
  }
}

/**
 * How an event maps onto erlang_events' subject / other / detail columns, written as
 * `subject,other,detail`. The kinds a busy node sends by the hundred thousand are written
 * directly; the rest go through genericColumns, whose output the direct ones match
 * (the unit tests check it through eventColumns).
 */
function writeColumns(event: ErlangTraceEvent, out: JsonBytes): void {
  switch (event.kind) {
    case 'send':
    case 'send_to_dead':
      subjectAndOther(out, event.pid, event.to);
      out.bytes(BYTES);
      out.number(event.bytes);
      out.bytes(TEXT);
      out.text(JSON.stringify(event.text));
      return out.byte(Char.closeObject);
    case 'spawn':
      subjectAndOther(out, event.pid, event.child);
      return field(out, MFA, event.mfa);
    case 'exit':
      subjectAndOther(out, event.pid, null);
      return field(out, REASON, event.reason);
    case 'link':
    case 'unlink':
    case 'getting_linked':
    case 'getting_unlinked':
      subjectAndOther(out, event.pid, event.other);
      return out.bytes(NULL);
    case 'island':
      subjectAndOther(out, event.pid, null);
      return field(out, CHANGE, event.change);
    default: {
      const { subject, other, detail } = genericColumns(event);
      subjectAndOther(out, subject, other);
      return detail === null ? out.bytes(NULL) : out.text(detail);
    }
  }
}

function subjectAndOther(out: JsonBytes, subject: string | null, other: string | null): void {
  out.name(subject);
  out.byte(Char.comma);
  out.name(other);
  out.byte(Char.comma);
}

/** `{"key":value}` with the opening given as bytes; values recur, so they are cached names. */
function field(out: JsonBytes, opening: Uint8Array, value: string): void {
  out.bytes(opening);
  out.name(value);
  out.byte(Char.closeObject);
}

export interface EventColumns {
  subject: string | null;
  other: string | null;
  detail: string | null;
}

/** The columns one event is stored with, as SQL reads them back (for tests and tools). */
export function eventColumns(event: ErlangTraceEvent): EventColumns {
  const out = new JsonBytes();
  out.byte(Char.open);
  writeColumns(event, out);
  out.byte(Char.close);
  const [subject, other, detail] = JSON.parse(Buffer.from(out.view()).toString('utf8')) as [
    string | null,
    string | null,
    object | null,
  ];
  return { subject, other, detail: detail === null ? null : JSON.stringify(detail) };
}

/** Subject and other are the first of a few known keys; the rest of the event is detail. */
export function genericColumns(event: ErlangTraceEvent): EventColumns {
  const { kind: _kind, ts: _ts, ...rest } = event as unknown as Record<string, unknown>;
  const subjectKey = ['pid', 'port', 'table'].find((key) => key in rest);
  const otherKey = ['other', 'child', 'to', 'owner'].find((key) => key in rest);
  const subject = subjectKey ? (rest[subjectKey] as string) : null;
  const other = otherKey ? (rest[otherKey] as string) : null;
  if (subjectKey) delete rest[subjectKey];
  if (otherKey) delete rest[otherKey];
  return { subject, other, detail: Object.keys(rest).length > 0 ? JSON.stringify(rest) : null };
}
