/**
 * A live connection to one Erlang node, as a hidden node: EPMD lookup, handshake,
 * then the connected phase (4-byte framed packets, ticks both ways, control
 * messages routed to local mailboxes).
 */
import { EventEmitter } from 'node:events';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import * as os from 'node:os';
import { resolveCookie } from './cookie';
import { lookupPort } from './epmd';
import {
  ConnectTimeoutError,
  ConnectionClosedError,
  ErlangError,
  FrameTooLargeError,
  HandshakeError,
} from './errors';
import { EtfWriter, decodeTermAt } from './etf';
import { performHandshake } from './handshake';
import { IoServer } from './io-server';
import { ControlOp, Mailbox, pidKey, type MailboxHost } from './mailbox';
import { RpcChannel, type RpcOptions } from './rpc';
import { Atom, Pid, Reference, Tuple, atom, isAtom, type Term } from './terms';

export interface ConnectOptions {
  /** Target node, `name@host`; a bare `name` means this machine (short names). */
  node: string;
  /** Defaults to the cookie `erl` would use (~/.erlang.cookie). */
  cookie?: string;
  /** Our node name; default `bathysphere_<random>@<host>`. */
  selfName?: string;
  /** Distribution port of the target; skips the EPMD lookup. */
  port?: number;
  epmdPort?: number;
  /** Whole connect (EPMD + TCP + handshake) deadline, default 10 s. */
  connectTimeoutMs?: number;
  /**
   * Silence after which the peer counts as dead, like net_ticktime (default 60 s).
   * We probe an idle peer at half this time, so values below the peer's own
   * net_ticktime work too.
   */
  tickMs?: number;
  /** Largest packet accepted from the peer (default 64 MiB); bigger closes the connection. */
  maxFrameBytes?: number;
}

export interface ConnectionEvents {
  /** The connection ended; `reason` is for people, `error` is the typed cause. */
  close: [reason: string, error: ErlangError];
  /** Text printed by remote processes whose group leader is ours (e.g. during rpc). */
  output: [text: string];
}

export interface ConnectionStats {
  framesReceived: number;
  framesSent: number;
  ticksReceived: number;
  unlinkAcksSent: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_TICK_MS = 60_000;
const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
const PASS_THROUGH = 112; // 'p'

export function parseNodeName(node: string): { name: string; host: string } {
  const at = node.indexOf('@');
  if (at < 0) return { name: node, host: shortHostname() };
  const name = node.slice(0, at);
  const host = node.slice(at + 1);
  if (!name || !host) throw new HandshakeError(`'${node}' is not a node name (expected name@host)`);
  return { name, host };
}

export function shortHostname(): string {
  return os.hostname().split('.')[0];
}

/** Long names are fully qualified hosts or IP addresses; they need a long name of ours too. */
function defaultSelfName(peerHost: string): string {
  const suffix = crypto.randomBytes(4).toString('hex');
  const isLong = peerHost.includes('.') || net.isIP(peerHost) !== 0;
  const host = isLong ? longHostname() : shortHostname();
  return `bathysphere_${suffix}@${host}`;
}

function longHostname(): string {
  const name = os.hostname();
  return name.includes('.') ? name : '127.0.0.1';
}

/** Splits the byte stream into packets: Len:32 then Len bytes; Len 0 is a tick. */
class FrameParser {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Adds bytes and returns the complete packets (empty buffers are ticks). */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.size < 4) return frames;
      if (this.chunks[0].length < 4) this.coalesce();
      const length = this.chunks[0].readUInt32BE(0);
      if (length > this.maxFrameBytes) throw new FrameTooLargeError(length, this.maxFrameBytes);
      if (this.size < 4 + length) return frames;
      if (this.chunks[0].length < 4 + length) this.coalesce();
      const first = this.chunks[0];
      frames.push(first.subarray(4, 4 + length));
      const rest = first.subarray(4 + length);
      if (rest.length > 0) this.chunks[0] = rest;
      else this.chunks.shift();
      this.size -= 4 + length;
    }
  }

  /** One copy per packet that spans chunks (never one per chunk). */
  private coalesce(): void {
    this.chunks = [Buffer.concat(this.chunks)];
  }
}

export class ErlangConnection extends EventEmitter<ConnectionEvents> implements MailboxHost {
  /** Resolves with the close reason once the connection has ended. */
  readonly closed: Promise<string>;
  readonly stats: ConnectionStats = {
    framesReceived: 0,
    framesSent: 0,
    ticksReceived: 0,
    unlinkAcksSent: 0,
  };

  private readonly selfAtom: Atom;
  /** Our mailboxes by pid id (all our pids share node, serial 0 and creation). */
  private readonly mailboxes = new Map<number, Mailbox>();
  private readonly namedMailboxes = new Map<string, Mailbox>();
  private readonly monitorOwners = new Map<string, Mailbox>();
  private readonly parser: FrameParser;
  private readonly tickTimer: NodeJS.Timeout;
  private closeError: ErlangError | undefined;
  private resolveClosed!: (reason: string) => void;
  private nextPidId = 1;
  private refCounter = 0;
  private readonly refSalt = crypto.randomBytes(4).readUInt32BE(0);
  private unlinkCounter = 0;
  private lastReceivedAt = Date.now();
  private lastSentAt = Date.now();
  private probeSentAt = 0;
  private lastTimerAt = Date.now();
  private rpcChannel: RpcChannel | undefined;
  private ioServer: IoServer | undefined;

  private constructor(
    private readonly socket: net.Socket,
    /** The peer's node name as it announced it. */
    readonly node: string,
    /** Our own node name. */
    readonly selfNode: string,
    readonly creation: number,
    readonly peerFlags: bigint,
    private readonly options: Required<Pick<ConnectOptions, 'tickMs' | 'maxFrameBytes'>>,
    leftover: Buffer,
  ) {
    super();
    this.selfAtom = atom(selfNode);
    this.parser = new FrameParser(options.maxFrameBytes);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () =>
      this.shutdown(new ConnectionClosedError(node, 'the peer closed the connection')),
    );
    socket.on('error', (error) =>
      this.shutdown(new ConnectionClosedError(node, `the connection failed: ${error.message}`)),
    );
    this.tickTimer = setInterval(() => this.onTickTimer(), this.tickIntervalMs);
    this.tickTimer.unref();
    if (leftover.length > 0) this.onData(leftover);
    socket.resume();
  }

  /** Connects to `options.node` as a hidden node. */
  static async connect(options: ConnectOptions): Promise<ErlangConnection> {
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const remaining = () => Math.max(1, deadline - Date.now());
    const { name, host } = parseNodeName(options.node);
    const node = `${name}@${host}`;
    const cookie = resolveCookie(options.cookie);
    const port =
      options.port ??
      (await lookupPort(name, host, { epmdPort: options.epmdPort, timeoutMs: remaining() })).port;
    const socket = await openSocket(host, port, node, remaining(), timeoutMs);
    const selfName = options.selfName ?? defaultSelfName(host);
    const creation = 4 + (crypto.randomBytes(4).readUInt32BE(0) % 0xfffffff0);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, remaining());
    try {
      const result = await performHandshake({ socket, peerNode: node, selfName, cookie, creation });
      return new ErlangConnection(
        socket,
        result.peerName,
        selfName,
        creation,
        result.peerFlags,
        {
          tickMs: options.tickMs ?? DEFAULT_TICK_MS,
          maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
        },
        result.leftover,
      );
    } catch (e) {
      socket.destroy();
      // Destroying the socket on timeout makes the handshake fail as "closed"; say what happened.
      if (timedOut) throw new ConnectTimeoutError(node, timeoutMs, 'handshake');
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  get isOpen(): boolean {
    return this.closeError === undefined;
  }

  /** Calls Module:Function(Args...) on the node through `rex`; rejects with BadRpcError on {badrpc, _}. */
  rpc(module: string, fun: string, args: Term[] = [], options: RpcOptions = {}): Promise<Term> {
    this.rpcChannel ??= new RpcChannel(this, this.createMailbox(), this.groupLeader());
    return this.rpcChannel.call(module, fun, args, options);
  }

  /**
   * A new local process: a pid of ours that remote processes can message, link and
   * monitor. `maxQueued` bounds messages waiting to be received (default unbounded;
   * high-volume consumers should use setHandler instead of receive).
   */
  createMailbox(options: { name?: string; maxQueued?: number } = {}): Mailbox {
    if (this.closeError) throw this.closeError;
    const pid = new Pid(this.selfAtom, this.nextPidId++, 0, this.creation);
    const mailbox = new Mailbox(pid, this, options.name, options.maxQueued);
    this.mailboxes.set(pid.id, mailbox);
    if (options.name) this.namedMailboxes.set(options.name, mailbox);
    return mailbox;
  }

  /** Sends `message` to a pid (on the peer, usually). */
  send(to: Pid, message: Term): void {
    if (to.node === this.selfAtom) return this.mailboxFor(to)?.deliver(message);
    this.sendControl(new Tuple([ControlOp.send, atom(''), to]), message);
  }

  /** Sends `message` to the process registered as `name` on the peer. */
  regSend(from: Pid, name: string | Atom, message: Term): void {
    const to = typeof name === 'string' ? atom(name) : name;
    this.sendControl(new Tuple([ControlOp.regSend, from, atom(''), to]), message);
  }

  /**
   * Watches a remote process; `down` resolves with the exit reason (`noconnection`
   * if the connection goes first). `cancel` stops watching.
   */
  monitor(target: Pid | Atom): { ref: Reference; down: Promise<Term>; cancel(): void } {
    const mailbox = this.createMailbox();
    const ref = mailbox.monitor(target);
    const down = mailbox.receive().then((message) => {
      mailbox.close();
      return (message as Tuple).elements[4];
    });
    down.catch(() => undefined);
    return { ref, down, cancel: () => mailbox.close() };
  }

  /** Ends the connection. Pending calls fail with ConnectionClosedError. */
  close(reason = 'closed by us'): void {
    this.shutdown(new ConnectionClosedError(this.node, reason));
    this.socket.end();
    // A peer that never closes its side (frozen, gone) must not keep the socket alive.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  // ------------------------------------------------------------ MailboxHost

  /** Unique per connection: a 50-bit counter plus a random word (refs need not be secret). */
  makeRef(): Reference {
    this.refCounter += 1;
    const low = this.refCounter % 0x40000;
    const high = Math.floor(this.refCounter / 0x40000) >>> 0;
    return new Reference(this.selfAtom, this.creation, [low, high, this.refSalt]);
  }

  nextUnlinkId(): number {
    this.unlinkCounter += 1;
    return this.unlinkCounter;
  }

  watchMonitor(ref: Reference, mailbox: Mailbox): void {
    this.monitorOwners.set(ref.key, mailbox);
  }

  unwatchMonitor(ref: Reference): void {
    this.monitorOwners.delete(ref.key);
  }

  releaseMailbox(mailbox: Mailbox): void {
    this.mailboxes.delete(mailbox.pid.id);
    if (mailbox.name && this.namedMailboxes.get(mailbox.name) === mailbox)
      this.namedMailboxes.delete(mailbox.name);
  }

  /** Writes one pass-through packet: Len:32, 'p', control term, optional message term. */
  sendControl(control: Term, message?: Term): void {
    if (this.closeError) return;
    const writer = new EtfWriter(message === undefined ? 128 : 256);
    writer.u32(0);
    writer.u8(PASS_THROUGH);
    writer.term(control);
    if (message !== undefined) writer.term(message);
    writer.patchU32(0, writer.length - 4);
    this.socket.write(writer.result());
    this.lastSentAt = Date.now();
    this.stats.framesSent += 1;
  }

  // ------------------------------------------------------------ incoming

  private onData(chunk: Buffer): void {
    if (this.closeError) return;
    this.lastReceivedAt = Date.now();
    try {
      for (const frame of this.parser.push(chunk)) {
        if (frame.length === 0) this.stats.ticksReceived += 1;
        else this.onFrame(frame);
        if (this.closeError) return;
      }
    } catch (e) {
      const error =
        e instanceof ErlangError
          ? e
          : new ConnectionClosedError(this.node, `internal error: ${String(e)}`);
      this.failProtocol(error);
    }
  }

  private failProtocol(error: ErlangError): void {
    this.shutdown(new ConnectionClosedError(this.node, `protocol error: ${error.message}`));
    this.socket.destroy();
  }

  private onFrame(frame: Buffer): void {
    this.stats.framesReceived += 1;
    if (frame[0] !== PASS_THROUGH)
      throw new HandshakeError(
        `unexpected packet type ${frame[0]} (only pass-through was negotiated)`,
      );
    const limits = { maxDecompressedBytes: this.options.maxFrameBytes };
    const control = decodeTermAt(frame, 1, limits);
    const decodeMessage = (): Term => {
      const decoded = decodeTermAt(frame, control.end, limits);
      if (decoded.end !== frame.length) throw new HandshakeError('trailing bytes after a message');
      return decoded.term;
    };
    if (!(control.term instanceof Tuple) || typeof control.term.elements[0] !== 'number') {
      if (control.end < frame.length) decodeMessage();
      throw new HandshakeError('control message is not a tuple with an operation number');
    }
    const raw = control.end < frame.length ? this.rawReceiver(control.term.elements) : undefined;
    if (raw) return raw.deliverRaw(frame, control.end, frame.length, decodeMessage);
    this.dispatch(control.term.elements, control.end < frame.length ? decodeMessage() : undefined);
  }

  /** The mailbox a SEND is for, when it takes messages undecoded (Mailbox.setRawHandler). */
  private rawReceiver(c: Term[]): Mailbox | undefined {
    const op = c[0];
    const isSend =
      op === ControlOp.send ||
      op === ControlOp.sendTT ||
      op === ControlOp.sendSender ||
      op === ControlOp.sendSenderTT;
    if (!isSend) return undefined;
    const mailbox = this.mailboxFor(c[2]);
    return mailbox?.takesRaw ? mailbox : undefined;
  }

  private dispatch(c: Term[], message: Term | undefined): void {
    switch (c[0]) {
      case ControlOp.send:
      case ControlOp.sendTT:
      case ControlOp.sendSender:
      case ControlOp.sendSenderTT:
        return this.deliverTo(c[2], message);
      case ControlOp.regSend:
      case ControlOp.regSendTT:
        return this.deliverToName(c[3], message);
      case ControlOp.link:
        return this.withMailbox(c[2], (mailbox) =>
          mailbox.links.set(pidKey(c[1] as Pid), c[1] as Pid),
        );
      case ControlOp.unlink:
        return this.withMailbox(c[2], (mailbox) => mailbox.links.delete(pidKey(c[1] as Pid)));
      case ControlOp.unlinkId:
        return this.onUnlinkId(c[1], c[2] as Pid, c[3] as Pid);
      case ControlOp.exit:
        return this.withMailbox(c[2], (m) => m.exitSignal(c[1] as Pid, c[3], true));
      case ControlOp.exitTT:
        return this.withMailbox(c[2], (m) => m.exitSignal(c[1] as Pid, c[4], true));
      case ControlOp.exit2:
        return this.withMailbox(c[2], (m) => m.exitSignal(c[1] as Pid, c[3], false));
      case ControlOp.exit2TT:
        return this.withMailbox(c[2], (m) => m.exitSignal(c[1] as Pid, c[4], false));
      case ControlOp.payloadExit:
      case ControlOp.payloadExitTT:
        return this.withMailbox(c[2], (m) => m.exitSignal(c[1] as Pid, message ?? [], true));
      case ControlOp.payloadExit2:
      case ControlOp.payloadExit2TT:
        return this.withMailbox(c[2], (m) => m.exitSignal(c[1] as Pid, message ?? [], false));
      case ControlOp.monitorP:
        return this.onMonitorRequest(c[1] as Pid, c[2], c[3] as Reference);
      case ControlOp.demonitorP:
        return this.withMailbox(c[2], (m) => m.watchers.delete((c[3] as Reference).key));
      case ControlOp.monitorPExit:
        return this.onMonitorFired(c[1], c[3] as Reference, c[4]);
      case ControlOp.payloadMonitorPExit:
        return this.onMonitorFired(c[1], c[3] as Reference, message ?? []);
      default:
        // Operations we never negotiated (spawn, aliases, group leader...) are ignored.
        return;
    }
  }

  private mailboxFor(target: Term): Mailbox | undefined {
    if (target instanceof Pid) {
      // Atoms are interned, so our own node name is this very object.
      if (target.node !== this.selfAtom && target.node.name !== this.selfNode) return undefined;
      if (target.creation !== this.creation || target.serial !== 0) return undefined;
      return this.mailboxes.get(target.id);
    }
    if (target instanceof Atom) return this.namedMailboxes.get(target.name);
    return undefined;
  }

  private withMailbox(target: Term, action: (mailbox: Mailbox) => unknown): void {
    const mailbox = this.mailboxFor(target);
    if (mailbox) action(mailbox);
  }

  private deliverTo(target: Term, message: Term | undefined): void {
    if (message === undefined) throw new HandshakeError('SEND without a message');
    this.mailboxFor(target)?.deliver(message);
  }

  private deliverToName(name: Term, message: Term | undefined): void {
    if (message === undefined) throw new HandshakeError('REG_SEND without a message');
    if (isAtom(name)) this.namedMailboxes.get(name.name)?.deliver(message);
  }

  /** Since OTP 26 every UNLINK_ID must be acknowledged, or the peer keeps the link half-open. */
  private onUnlinkId(id: Term, from: Pid, to: Pid): void {
    this.mailboxFor(to)?.links.delete(pidKey(from));
    this.sendControl(new Tuple([ControlOp.unlinkIdAck, id, to, from]));
    this.stats.unlinkAcksSent += 1;
  }

  private onMonitorRequest(from: Pid, target: Term, ref: Reference): void {
    const mailbox = this.mailboxFor(target);
    if (mailbox) mailbox.watchers.set(ref.key, { from, ref });
    else this.sendControl(new Tuple([ControlOp.monitorPExit, target, from, ref, atom('noproc')]));
  }

  private onMonitorFired(who: Term, ref: Reference, reason: Term): void {
    const owner = this.monitorOwners.get(ref.key);
    this.monitorOwners.delete(ref.key);
    owner?.monitorFired(ref, who, reason);
  }

  // ------------------------------------------------------------ liveness

  private get tickIntervalMs(): number {
    return Math.max(50, this.options.tickMs / 4);
  }

  private onTickTimer(): void {
    if (this.closeError) return;
    const now = Date.now();
    // If our own event loop was blocked, data may be waiting unread in the socket:
    // judge the peer only once we have had a chance to read it.
    const stalled = now - this.lastTimerAt > 2 * this.tickIntervalMs;
    this.lastTimerAt = now;
    const silentFor = now - this.lastReceivedAt;
    if (silentFor >= this.options.tickMs && !stalled) {
      this.shutdown(
        new ConnectionClosedError(
          this.node,
          `no data from the node for ${silentFor} ms (tick timeout); it is down or unreachable`,
        ),
      );
      this.socket.destroy();
      return;
    }
    // The peer only ticks every net_ticktime/4; ask for an answer so a short tickMs still works.
    if (silentFor >= this.options.tickMs / 2 && now - this.probeSentAt >= this.options.tickMs / 4) {
      this.sendLivenessProbe();
      this.probeSentAt = now;
    }
    if (now - this.lastSentAt >= this.options.tickMs / 4) {
      this.socket.write(Buffer.alloc(4));
      this.lastSentAt = now;
    }
  }

  /** Monitoring an unregistered name makes the peer answer at once with a noproc MONITOR_P_EXIT. */
  private sendLivenessProbe(): void {
    const probeName = atom('$bathysphere_liveness_probe');
    this.sendControl(new Tuple([ControlOp.monitorP, this.probePid(), probeName, this.makeRef()]));
  }

  private probePid(): Pid {
    return new Pid(this.selfAtom, 0, 0, this.creation);
  }

  /** The group leader handed to rpc calls: an IO server that turns output into 'output' events. */
  private groupLeader(): Pid {
    this.ioServer ??= new IoServer(this.createMailbox(), (text) => this.emit('output', text), {
      send: (to, message) => this.send(to, message),
      apply: (module, fun, args) => this.rpc(module, fun, args),
    });
    return this.ioServer.pid;
  }

  private shutdown(error: ConnectionClosedError): void {
    if (this.closeError) return;
    this.closeError = error;
    clearInterval(this.tickTimer);
    for (const mailbox of [...this.mailboxes.values()]) mailbox.connectionLost(error);
    this.mailboxes.clear();
    this.namedMailboxes.clear();
    this.monitorOwners.clear();
    this.resolveClosed(error.reason);
    this.emit('close', error.reason, error);
  }
}

function openSocket(
  host: string,
  port: number,
  node: string,
  timeoutMs: number,
  totalTimeoutMs: number,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ConnectTimeoutError(node, totalTimeoutMs, `TCP connect to ${host}:${port}`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new ConnectionClosedError(node, `cannot open ${host}:${port}: ${error.message}`));
    });
  });
}
