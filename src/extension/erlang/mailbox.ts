/**
 * A local process as far as the remote node can tell: it has a pid of our node,
 * receives messages, can be linked to and monitored, and can monitor remote
 * processes. Exit signals from linked processes arrive as `{'EXIT', From, Reason}`
 * messages (as if it traps exits); monitors deliver `{'DOWN', Ref, process, Who, Reason}`.
 */
import { MailboxClosedError, ReceiveTimeoutError } from './errors';
import { Atom, Pid, Reference, Tuple, atom, type Term } from './terms';

/** What a mailbox needs from its connection. */
export interface MailboxHost {
  sendControl(control: Term, message?: Term): void;
  makeRef(): Reference;
  nextUnlinkId(): number;
  watchMonitor(ref: Reference, mailbox: Mailbox): void;
  unwatchMonitor(ref: Reference): void;
  releaseMailbox(mailbox: Mailbox): void;
}

export interface ReceiveOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Takes a message as bytes[offset, end); `decode` gives it as a term instead. */
export type RawHandler = (bytes: Buffer, offset: number, end: number, decode: () => Term) => void;

interface Waiter {
  resolve(message: Term): void;
  reject(error: Error): void;
}

const DOWN = atom('DOWN');
const EXIT = atom('EXIT');
const PROCESS = atom('process');
const NORMAL = atom('normal');

export const ControlOp = {
  link: 1,
  send: 2,
  exit: 3,
  unlink: 4,
  regSend: 6,
  exit2: 8,
  sendTT: 12,
  exitTT: 13,
  regSendTT: 16,
  exit2TT: 18,
  monitorP: 19,
  demonitorP: 20,
  monitorPExit: 21,
  sendSender: 22,
  sendSenderTT: 23,
  payloadExit: 24,
  payloadExitTT: 25,
  payloadExit2: 26,
  payloadExit2TT: 27,
  payloadMonitorPExit: 28,
  unlinkId: 35,
  unlinkIdAck: 36,
} as const;

export class Mailbox {
  private queue: Term[] = [];
  private head = 0;
  private waiters: Waiter[] = [];
  private handler: ((message: Term) => void) | undefined;
  private rawHandler: RawHandler | undefined;
  private closedBecause: Error | undefined;
  private closeListeners: Array<(error: Error) => void> = [];
  /** Remote processes linked to us. */
  readonly links = new Map<string, Pid>();
  /** Remote monitors watching us, by reference key. */
  readonly watchers = new Map<string, { from: Pid; ref: Reference }>();
  /** Our monitors of remote processes, by reference key. */
  readonly monitors = new Map<string, { target: Pid | Atom | Tuple; ref: Reference }>();

  /** Messages dropped because the queue was full (see maxQueued). */
  dropped = 0;

  constructor(
    readonly pid: Pid,
    private readonly host: MailboxHost,
    readonly name?: string,
    /** Queue bound for messages nobody has received yet; newer ones are dropped past it. */
    private readonly maxQueued = Infinity,
  ) {}

  get closed(): boolean {
    return this.closedBecause !== undefined;
  }

  /**
   * Hands every message to `handler` as it arrives instead of queueing it (the fast
   * path for high-volume streams). Queued messages are flushed to it first.
   */
  setHandler(handler: ((message: Term) => void) | undefined): void {
    this.handler = handler;
    if (!handler) return;
    while (this.head < this.queue.length) handler(this.queue[this.head++]);
    this.queue = [];
    this.head = 0;
  }

  /**
   * Hands messages sent to this mailbox over undecoded, for a stream whose shape is known
   * and whose volume makes a term tree per message too dear. `handler` must decode the bytes
   * itself, or call `decode` for the term the connection would have delivered.
   */
  setRawHandler(handler: RawHandler | undefined): void {
    this.rawHandler = handler;
  }

  /** @internal True when the connection should call deliverRaw instead of deliver. */
  get takesRaw(): boolean {
    return this.rawHandler !== undefined && this.closedBecause === undefined;
  }

  /** @internal A message's bytes (bytes[offset, end), version byte first). */
  deliverRaw(bytes: Buffer, offset: number, end: number, decode: () => Term): void {
    if (this.closedBecause) return;
    if (this.rawHandler) this.rawHandler(bytes, offset, end, decode);
    else this.deliver(decode());
  }

  /** @internal Called by the connection for every message addressed to us. */
  deliver(message: Term): void {
    if (this.closedBecause) return;
    if (this.handler) return this.handler(message);
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(message);
    else if (this.queue.length - this.head < this.maxQueued) this.queue.push(message);
    else this.dropped++;
  }

  /** The next message, waiting up to `timeoutMs` (forever if not given). */
  receive(options: ReceiveOptions = {}): Promise<Term> {
    if (this.head < this.queue.length) return Promise.resolve(this.takeQueued());
    if (this.closedBecause) return Promise.reject(this.closedBecause);
    return new Promise<Term>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
      };
      const waiter: Waiter = {
        resolve: (message) => {
          cleanup();
          resolve(message);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      const onAbort = () => waiter.reject(new MailboxClosedError('receive aborted'));
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(
          () => waiter.reject(new ReceiveTimeoutError(options.timeoutMs!)),
          options.timeoutMs,
        );
      }
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private takeQueued(): Term {
    const message = this.queue[this.head++];
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return message;
  }

  /** Messages until the mailbox or its connection closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<Term> {
    for (;;) {
      let message: Term;
      try {
        message = await this.receive();
      } catch (e) {
        if (this.closedBecause && e === this.closedBecause) return;
        throw e;
      }
      yield message;
    }
  }

  /** Monitors a remote process (a pid, or a registered name on the peer). */
  monitor(target: Pid | Atom): Reference {
    const ref = this.host.makeRef();
    this.monitors.set(ref.key, { target, ref });
    this.host.watchMonitor(ref, this);
    this.host.sendControl(new Tuple([ControlOp.monitorP, this.pid, target, ref]));
    return ref;
  }

  demonitor(ref: Reference): void {
    const monitor = this.monitors.get(ref.key);
    if (!monitor) return;
    this.monitors.delete(ref.key);
    this.host.unwatchMonitor(ref);
    this.host.sendControl(new Tuple([ControlOp.demonitorP, this.pid, monitor.target, ref]));
  }

  /** @internal A monitor we hold fired. */
  monitorFired(ref: Reference, who: Term, reason: Term): void {
    if (!this.monitors.delete(ref.key)) return;
    this.deliver(new Tuple([DOWN, ref, PROCESS, who, reason]));
  }

  link(remote: Pid): void {
    this.links.set(pidKey(remote), remote);
    this.host.sendControl(new Tuple([ControlOp.link, this.pid, remote]));
  }

  unlink(remote: Pid): void {
    if (!this.links.delete(pidKey(remote))) return;
    this.host.sendControl(
      new Tuple([ControlOp.unlinkId, this.host.nextUnlinkId(), this.pid, remote]),
    );
  }

  /** @internal An exit signal from a remote process: delivered as a message. */
  exitSignal(from: Pid, reason: Term, viaLink: boolean): void {
    if (viaLink && !this.links.delete(pidKey(from))) return;
    this.deliver(new Tuple([EXIT, from, reason]));
  }

  /**
   * Ends this mailbox like a process exiting with `reason`: linked processes get an
   * exit signal, monitors fire, our own monitors are removed.
   */
  close(reason: Term = NORMAL): void {
    if (this.closedBecause) return;
    for (const remote of this.links.values())
      this.host.sendControl(new Tuple([ControlOp.exit, this.pid, remote, reason]));
    for (const { from, ref } of this.watchers.values())
      this.host.sendControl(new Tuple([ControlOp.monitorPExit, this.pid, from, ref, reason]));
    for (const { ref } of [...this.monitors.values()]) this.demonitor(ref);
    this.links.clear();
    this.watchers.clear();
    this.host.releaseMailbox(this);
    this.shutDown(new MailboxClosedError('closed'));
  }

  /** @internal The connection is gone: remote monitors report noconnection, then receivers fail. */
  connectionLost(error: Error): void {
    if (this.closedBecause) return;
    const noconnection = atom('noconnection');
    for (const { ref, target } of [...this.monitors.values()])
      this.monitorFired(ref, target, noconnection);
    this.shutDown(error);
  }

  /** Calls `listener` once when the mailbox closes (itself, or with its connection). */
  onClose(listener: (error: Error) => void): void {
    if (this.closedBecause) listener(this.closedBecause);
    else this.closeListeners.push(listener);
  }

  private shutDown(error: Error): void {
    this.closedBecause = error;
    for (const listener of this.closeListeners.splice(0)) listener(error);
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}

export function pidKey(pid: Pid): string {
  return `${pid.node.name}/${pid.id}/${pid.serial}/${pid.creation}`;
}
