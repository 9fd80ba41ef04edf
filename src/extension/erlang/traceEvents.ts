/**
 * The events Bathysphere's tracer (agents/erlang/src/bathysphere_tracer.erl) sends, as
 * a typed union, and their decoding from the agent's tuples.
 *
 * The agent sends every event as {Kind, TimeUs, Subject, Other, Detail}. Times are the
 * trace's own timestamps in microseconds of the node's system time. Pids of the traced
 * node print as the node prints them (`<0.85.0>`), so they serve as keys within a run.
 * Message bodies and exit reasons come as {Term, raw} when small (printed here: far
 * cheaper than io_lib on the node) or {Text, printed} (printed and bounded by the agent).
 */
import { formatTerm } from './format';
import { Atom, ErlMap, Pid, Port, Tuple, isAtom, textOf, type Term } from './terms';

export type LinkKind = 'link' | 'unlink' | 'getting_linked' | 'getting_unlinked';

export interface ProcessFacts {
  registeredName?: string;
  trapExit?: boolean;
  /** `$ancestors`: pids or registered names, nearest first. */
  ancestors: string[];
  /** `$initial_call` when proc_lib set it, else the spawn call: `m:f/a`. */
  initialCall?: string;
  application?: string;
}

export interface Offender {
  pid: string;
  count: number;
}

/** Which tracing level a bound switched off; `none` when nothing was left. */
export type SwitchedOffLevel = 'listened' | 'explored' | 'ports' | 'none';

export interface OverloadEvent {
  kind: 'overload';
  ts: number;
  /** queue_length | events_per_second | memory */
  reason: string;
  /** The value that tripped the bound (queue length, events in the window, bytes). */
  value: number;
  switchedOff: SwitchedOffLevel;
  offenders: Offender[];
}

export type ErlangTraceEvent =
  | { kind: 'started'; ts: number; backend: string; otpRelease: string }
  | { kind: 'stopped'; ts: number; reason: string }
  | { kind: 'spawn'; ts: number; pid: string; child: string; mfa: string }
  | { kind: 'exit'; ts: number; pid: string; reason: string }
  | { kind: LinkKind; ts: number; pid: string; other: string }
  | { kind: 'register' | 'unregister'; ts: number; pid: string; name: string }
  | {
      kind: 'send' | 'send_to_dead';
      ts: number;
      pid: string;
      to: string;
      bytes: number;
      text: string;
    }
  | {
      kind: 'summary';
      ts: number;
      pid: string;
      untilTs: number;
      counts: Record<string, number>;
      bytes: number;
      peers: Array<{ peer: string; count: number }>;
    }
  | { kind: 'island'; ts: number; pid: string; change: 'joined' | 'unlinked' | 'boundary' }
  | { kind: 'level'; ts: number; pid: string; level: 'chosen' | 'listened' | 'stopped' }
  | { kind: 'links'; ts: number; pid: string; links: string[] }
  | { kind: 'monitors'; ts: number; pid: string; monitors: string[]; monitoredBy: string[] }
  | { kind: 'facts'; ts: number; pid: string; facts: ProcessFacts }
  | { kind: 'gone'; ts: number; pid: string }
  | { kind: 'name_up' | 'name_down'; ts: number; pid: string; name: string }
  | { kind: 'port_open' | 'port_seen'; ts: number; port: string; owner: string; name: string }
  | { kind: 'port_closed'; ts: number; port: string; reason: string }
  | { kind: 'port_link' | 'port_unlink'; ts: number; port: string; other: string }
  | { kind: 'port_register' | 'port_unregister'; ts: number; port: string; name: string }
  | { kind: 'port_owner'; ts: number; port: string; owner: string }
  | {
      kind: 'ets_new';
      ts: number;
      table: string;
      owner: string;
      name: string;
      heir: string;
      type: string;
      protection: string;
      size: number;
      memory: number;
    }
  | { kind: 'ets_owner'; ts: number; table: string; owner: string; heir: string }
  | { kind: 'ets_delete'; ts: number; table: string }
  | { kind: 'ets_size'; ts: number; table: string; size: number; memory: number }
  | OverloadEvent;

export type ErlangEventKind = ErlangTraceEvent['kind'];

/** Prints identifiers (pids, ports, table ids, names) of the traced node compactly. */
export class TermNames {
  /** The agent's max_print_chars: bodies printed here are cut to it, as the agent cuts. */
  maxPrintChars = 200;

  constructor(readonly localNode: string) {}

  /** A message body or exit reason: `how` is raw (print `value` here) or printed (text). */
  body(value: Term, how: Term | undefined): string {
    if (!isAtom(how, 'raw')) return text(value);
    const printed = formatTerm(value, { localNode: this.localNode });
    return printed.length > this.maxPrintChars
      ? `${printed.slice(0, this.maxPrintChars)}...`
      : printed;
  }

  of(term: Term): string {
    if (term instanceof Pid) {
      const node = term.node.name === this.localNode ? '0' : term.node.name;
      return `<${node}.${term.id}.${term.serial}>`;
    }
    if (term instanceof Atom) return term.name;
    if (term instanceof Port && term.node.name === this.localNode) return `#Port<0.${term.id}>`;
    return formatTerm(term, { localNode: this.localNode });
  }
}

/** Decodes one agent event; undefined for kinds this version does not know. */
export function decodeEvent(term: Term, names: TermNames): ErlangTraceEvent | undefined {
  if (!(term instanceof Tuple) || term.elements.length !== 5) return undefined;
  const [kindTerm, tsTerm, subject, other, detail] = term.elements;
  if (!(kindTerm instanceof Atom)) return undefined;
  return decodeFields(
    kindTerm.name,
    Number(tsTerm),
    names.of(subject),
    names.of(other),
    detail,
    names,
  );
}

/**
 * An event from its fields, subject and other already printed (names.of): the shared
 * step of decodeEvent and of the batch reader, which prints pids without building terms.
 */
export function decodeFields(
  kind: string,
  ts: number,
  subject: string,
  other: string,
  detail: Term,
  names: TermNames,
): ErlangTraceEvent | undefined {
  const decoder = DECODERS[kind];
  return decoder ? decoder(ts, subject, other, detail, names) : undefined;
}

/** Builds one kind of event; subject and other come printed (names.of). */
type Decoder = (
  ts: number,
  subject: string,
  other: string,
  detail: Term,
  names: TermNames,
) => ErlangTraceEvent;

const text = (term: Term): string => textOf(term) ?? formatTerm(term);
const num = (term: Term | undefined): number => (term === undefined ? 0 : Number(term));
const maybe = (term: Term | undefined, names: TermNames): string | undefined =>
  term === undefined || isAtom(term, 'none') || isAtom(term, 'undefined')
    ? undefined
    : names.of(term);

/** A body as the agent sends it: {Term | Text, raw | printed}. */
function bodyOf(detail: Term, names: TermNames): string {
  return detail instanceof Tuple && detail.elements.length === 2
    ? names.body(detail.elements[0], detail.elements[1])
    : text(detail);
}

function linkDecoder(kind: LinkKind): Decoder {
  return (ts, s, o) => ({ kind, ts, pid: s, other: o });
}

function mfaText(term: Term): string {
  if (term instanceof Tuple && term.elements.length === 3) {
    const [m, f, a] = term.elements;
    return `${text(m)}:${text(f)}/${Array.isArray(a) ? a.length : String(a)}`;
  }
  return text(term);
}

function pairs(term: Term, names: TermNames): Array<{ key: string; count: number }> {
  if (!Array.isArray(term)) return [];
  return term
    .filter((t): t is Tuple => t instanceof Tuple && t.elements.length === 2)
    .map((t) => ({ key: names.of(t.elements[0]), count: num(t.elements[1]) }));
}

function decodeFacts(detail: Term, names: TermNames): ProcessFacts {
  const map = detail instanceof ErlMap ? detail : new ErlMap([]);
  const field = (key: string) => map.get(Atom.of(key));
  const ancestors = field('ancestors');
  const call = field('initial_call');
  return {
    registeredName: maybe(field('registered_name'), names),
    trapExit: isAtom(field('trap_exit'), 'true'),
    ancestors: Array.isArray(ancestors) ? ancestors.map((a) => names.of(a)) : [],
    initialCall: call === undefined || isAtom(call, 'undefined') ? undefined : mfaText(call),
    application: maybe(field('application'), names),
  };
}

function decodeOverload(ts: number, detail: Term, names: TermNames): OverloadEvent {
  const map = detail instanceof ErlMap ? detail : new ErlMap([]);
  return {
    kind: 'overload',
    ts,
    reason: text(map.get(Atom.of('reason')) ?? Atom.of('unknown')),
    value: num(map.get(Atom.of('value'))),
    switchedOff: text(map.get(Atom.of('switched_off')) ?? Atom.of('none')) as SwitchedOffLevel,
    offenders: pairs(map.get(Atom.of('offenders')) ?? [], names).map(({ key, count }) => ({
      pid: key,
      count,
    })),
  };
}

function decodeSummary(ts: number, pid: string, detail: Term, n: TermNames): ErlangTraceEvent {
  const [untilTs, counts, bytes, peers] = (detail as Tuple).elements;
  return {
    kind: 'summary',
    ts,
    pid,
    untilTs: num(untilTs),
    counts: Object.fromEntries(pairs(counts, n).map(({ key, count }) => [key, count])),
    bytes: num(bytes),
    peers: pairs(peers, n).map(({ key, count }) => ({ peer: key, count })),
  };
}

function decodeTable(ts: number, s: string, o: string, d: Term, n: TermNames): ErlangTraceEvent {
  const map = d instanceof ErlMap ? d : new ErlMap([]);
  const field = (key: string) => map.get(Atom.of(key)) ?? Atom.of('undefined');
  return {
    kind: 'ets_new',
    ts,
    table: s,
    owner: o,
    name: n.of(field('name')),
    heir: n.of(field('heir')),
    type: text(field('type')),
    protection: text(field('protection')),
    size: num(field('size') as number),
    memory: num(field('memory') as number),
  };
}

const DECODERS: Record<string, Decoder> = {
  started: (ts, _s, _o, d) => {
    const map = d instanceof ErlMap ? d : new ErlMap([]);
    return {
      kind: 'started',
      ts,
      backend: text(map.get(Atom.of('backend')) ?? Atom.of('classic')),
      otpRelease: text(map.get(Atom.of('otp_release')) ?? Atom.of('')),
    };
  },
  stopped: (ts, _s, _o, d) => ({ kind: 'stopped', ts, reason: text(d) }),
  spawn: (ts, s, o, d) => ({ kind: 'spawn', ts, pid: s, child: o, mfa: mfaText(d) }),
  exit: (ts, s, _o, d, n) => ({ kind: 'exit', ts, pid: s, reason: bodyOf(d, n) }),
  link: linkDecoder('link'),
  unlink: linkDecoder('unlink'),
  getting_linked: linkDecoder('getting_linked'),
  getting_unlinked: linkDecoder('getting_unlinked'),
  register: (ts, s, _o, d, n) => ({ kind: 'register', ts, pid: s, name: n.of(d) }),
  unregister: (ts, s, _o, d, n) => ({ kind: 'unregister', ts, pid: s, name: n.of(d) }),
  send: (ts, s, o, d, n) => {
    const [bytes, body, how] = (d as Tuple).elements;
    const text = n.body(body, how);
    return { kind: 'send', ts, pid: s, to: o, bytes: num(bytes), text };
  },
  send_to_dead: (ts, s, o, d, n) => {
    const [bytes, body, how] = (d as Tuple).elements;
    const text = n.body(body, how);
    return { kind: 'send_to_dead', ts, pid: s, to: o, bytes: num(bytes), text };
  },
  summary: (ts, s, _o, d, n) => decodeSummary(ts, s, d, n),
  island: (ts, s, _o, d) => ({
    kind: 'island',
    ts,
    pid: s,
    change: text(d) as 'joined' | 'unlinked' | 'boundary',
  }),
  level: (ts, s, _o, d) => ({
    kind: 'level',
    ts,
    pid: s,
    level: text(d) as 'chosen' | 'listened' | 'stopped',
  }),
  links: (ts, s, _o, d, n) => ({
    kind: 'links',
    ts,
    pid: s,
    links: Array.isArray(d) ? d.map((l) => n.of(l)) : [],
  }),
  monitors: (ts, s, _o, d, n) => {
    const [monitors, monitoredBy] = (d as Tuple).elements;
    return {
      kind: 'monitors',
      ts,
      pid: s,
      monitors: Array.isArray(monitors) ? monitors.map((m) => n.of(m)) : [],
      monitoredBy: Array.isArray(monitoredBy) ? monitoredBy.map((m) => n.of(m)) : [],
    };
  },
  facts: (ts, s, _o, d, n) => ({ kind: 'facts', ts, pid: s, facts: decodeFacts(d, n) }),
  gone: (ts, s) => ({ kind: 'gone', ts, pid: s }),
  name_up: (ts, s, _o, d, n) => ({ kind: 'name_up', ts, pid: s, name: n.of(d) }),
  name_down: (ts, s, _o, d, n) => ({ kind: 'name_down', ts, pid: s, name: n.of(d) }),
  port_open: (ts, s, o, d) => ({
    kind: 'port_open',
    ts,
    port: s,
    owner: o,
    name: text(d),
  }),
  port_seen: (ts, s, o, d) => ({
    kind: 'port_seen',
    ts,
    port: s,
    owner: o,
    name: text(d),
  }),
  port_closed: (ts, s, _o, d, n) => ({
    kind: 'port_closed',
    ts,
    port: s,
    reason: bodyOf(d, n),
  }),
  port_link: (ts, s, o) => ({ kind: 'port_link', ts, port: s, other: o }),
  port_unlink: (ts, s, o) => ({ kind: 'port_unlink', ts, port: s, other: o }),
  port_register: (ts, s, o) => ({
    kind: 'port_register',
    ts,
    port: s,
    name: o,
  }),
  port_unregister: (ts, s, o) => ({
    kind: 'port_unregister',
    ts,
    port: s,
    name: o,
  }),
  port_owner: (ts, s, o) => ({ kind: 'port_owner', ts, port: s, owner: o }),
  ets_new: decodeTable,
  ets_owner: (ts, s, o, d, n) => ({
    kind: 'ets_owner',
    ts,
    table: s,
    owner: o,
    heir: n.of(d),
  }),
  ets_delete: (ts, s) => ({ kind: 'ets_delete', ts, table: s }),
  ets_size: (ts, s, _o, d) => {
    const [size, memory] = (d as Tuple).elements;
    return { kind: 'ets_size', ts, table: s, size: num(size), memory: num(memory) };
  },
  overload: (ts, _s, _o, d, n) => decodeOverload(ts, d, n),
};
