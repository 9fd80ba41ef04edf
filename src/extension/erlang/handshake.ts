/**
 * The distribution handshake, version 6 (OTP 23+), from the connecting side:
 *
 *   us -> peer   'N' flags:64 creation:32 nlen:16 name
 *   peer -> us   's' status ("ok", "nok", "not_allowed", "alive", ...)
 *   peer -> us   'N' flags:64 challenge:32 creation:32 nlen:16 name
 *   us -> peer   'r' challenge:32 digest:16      (digest of the peer's challenge)
 *   peer -> us   'a' digest:16                   (digest of ours: proves the peer knows the cookie)
 *
 * Every message has a 2-byte length prefix. The peer signals a wrong cookie only by
 * closing the socket after our 'r'.
 */
import * as crypto from 'node:crypto';
import type * as net from 'node:net';
import {
  ConnectionClosedError,
  CookieRejectedError,
  HandshakeError,
  NotAllowedError,
  PeerTooOldError,
} from './errors';

export const DistFlag = {
  published: 0x1n,
  extendedReferences: 0x4n,
  distMonitor: 0x8n,
  funTags: 0x10n,
  distMonitorName: 0x20n,
  newFunTags: 0x80n,
  extendedPidsPorts: 0x100n,
  exportPtrTag: 0x200n,
  bitBinaries: 0x400n,
  newFloats: 0x800n,
  unicodeIo: 0x1000n,
  distHdrAtomCache: 0x2000n,
  smallAtomTags: 0x4000n,
  utf8Atoms: 0x10000n,
  mapTag: 0x20000n,
  bigCreation: 0x40000n,
  fragments: 0x800000n,
  handshake23: 0x1000000n,
  unlinkId: 0x2000000n,
  /** Bit 26, as in OTP's dist.h (the protocol guide's "1 bsl 36" is wrong). */
  mandatory25Digest: 0x4000000n,
  v4Nc: 1n << 34n,
} as const;

/** What an OTP 25+ peer always has; a peer missing any of these is older than 25. */
const REQUIRED_PEER_FLAGS: Array<[string, bigint]> = [
  ['EXTENDED_REFERENCES', DistFlag.extendedReferences],
  ['FUN_TAGS', DistFlag.funTags],
  ['NEW_FUN_TAGS', DistFlag.newFunTags],
  ['EXTENDED_PIDS_PORTS', DistFlag.extendedPidsPorts],
  ['EXPORT_PTR_TAG', DistFlag.exportPtrTag],
  ['BIT_BINARIES', DistFlag.bitBinaries],
  ['NEW_FLOATS', DistFlag.newFloats],
  ['UTF8_ATOMS', DistFlag.utf8Atoms],
  ['MAP_TAG', DistFlag.mapTag],
  ['BIG_CREATION', DistFlag.bigCreation],
  ['HANDSHAKE_23', DistFlag.handshake23],
  ['MANDATORY_25_DIGEST', DistFlag.mandatory25Digest],
];

/**
 * Our flags: everything OTP 25..28 requires, the OTP 26 link and NC flags, and
 * monitors. Both monitor flags are needed: erts sends MONITOR_P_EXIT (a 'DOWN')
 * only to peers with DIST_MONITOR and DIST_MONITOR_NAME set. PUBLISHED stays off (hidden node); atom cache and fragments stay off
 * so the peer sends plain, self-contained packets.
 */
export const OUR_FLAGS =
  DistFlag.extendedReferences |
  DistFlag.distMonitor |
  DistFlag.distMonitorName |
  DistFlag.funTags |
  DistFlag.newFunTags |
  DistFlag.extendedPidsPorts |
  DistFlag.exportPtrTag |
  DistFlag.bitBinaries |
  DistFlag.newFloats |
  DistFlag.unicodeIo |
  DistFlag.smallAtomTags |
  DistFlag.utf8Atoms |
  DistFlag.mapTag |
  DistFlag.bigCreation |
  DistFlag.handshake23 |
  DistFlag.unlinkId |
  DistFlag.mandatory25Digest |
  DistFlag.v4Nc;

export interface HandshakeParams {
  socket: net.Socket;
  /** The node we are connecting to, for messages. */
  peerNode: string;
  selfName: string;
  cookie: string;
  creation: number;
  flags?: bigint;
}

export interface HandshakeResult {
  peerName: string;
  peerFlags: bigint;
  peerCreation: number;
  /** Bytes that arrived after the handshake; they belong to the connected phase. */
  leftover: Buffer;
}

export function cookieDigest(cookie: string, challenge: number): Buffer {
  return crypto
    .createHash('md5')
    .update(Buffer.from(cookie, 'latin1'))
    .update(String(challenge >>> 0))
    .digest();
}

/** Handshake messages are short; a peer announcing more is not an Erlang node. */
const MAX_HANDSHAKE_MESSAGE = 4096;

/** Reads 2-byte-length-prefixed messages from the socket during the handshake. */
class HandshakeReader {
  private buffered: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private ended: Error | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly peerNode: string,
  ) {
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    this.wake();
  };

  private readonly onClose = (): void => {
    this.ended ??= new ConnectionClosedError(this.peerNode, 'peer closed the connection');
    this.wake();
  };

  private readonly onError = (error: Error): void => {
    this.ended ??= new ConnectionClosedError(this.peerNode, error.message);
    this.wake();
  };

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  async read(): Promise<Buffer> {
    for (;;) {
      if (this.buffered.length >= 2) {
        const length = this.buffered.readUInt16BE(0);
        if (length > MAX_HANDSHAKE_MESSAGE)
          throw new HandshakeError(`${this.peerNode} sent a ${length}-byte handshake message`);
        if (this.buffered.length >= 2 + length) {
          const message = this.buffered.subarray(2, 2 + length);
          this.buffered = this.buffered.subarray(2 + length);
          return message;
        }
      }
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => (this.waiter = () => resolve()));
    }
  }

  /**
   * Stops listening and returns what was read past the last message. The socket is
   * paused so nothing is lost before the connection attaches its own reader.
   */
  detach(): Buffer {
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onClose);
    this.socket.off('error', this.onError);
    return this.buffered;
  }
}

function writeMessage(socket: net.Socket, body: Buffer): void {
  const framed = Buffer.alloc(2 + body.length);
  framed.writeUInt16BE(body.length, 0);
  body.copy(framed, 2);
  socket.write(framed);
}

function nameMessage(selfName: string, flags: bigint, creation: number): Buffer {
  const name = Buffer.from(selfName, 'utf8');
  const body = Buffer.alloc(1 + 8 + 4 + 2 + name.length);
  body[0] = 'N'.charCodeAt(0);
  body.writeBigUInt64BE(flags, 1);
  body.writeUInt32BE(creation >>> 0, 9);
  body.writeUInt16BE(name.length, 13);
  name.copy(body, 15);
  return body;
}

function checkStatus(message: Buffer, peerNode: string, socket: net.Socket): void {
  if (message[0] !== 's'.charCodeAt(0))
    throw new HandshakeError(`${peerNode} sent an unexpected handshake message (expected status)`);
  const status = message.subarray(1).toString('latin1');
  if (status === 'ok' || status === 'ok_simultaneous') return;
  if (status === 'not_allowed') throw new NotAllowedError(peerNode);
  if (status === 'alive') {
    // Another connection with our name exists there; refuse to take it over.
    writeMessage(socket, Buffer.from('sfalse', 'latin1'));
    throw new HandshakeError(`${peerNode} already has a connection from a node with our name`);
  }
  if (status === 'nok')
    throw new HandshakeError(
      `${peerNode} refused the connection (nok: a connection attempt is already in progress)`,
    );
  throw new HandshakeError(
    `${peerNode} refused the connection with status '${status.slice(0, 60)}'`,
  );
}

interface Challenge {
  flags: bigint;
  challenge: number;
  creation: number;
  name: string;
}

function parseChallenge(message: Buffer, peerNode: string): Challenge {
  if (message[0] === 'n'.charCodeAt(0))
    throw new PeerTooOldError(peerNode, ['HANDSHAKE_23 (it answered with handshake version 5)']);
  if (message[0] !== 'N'.charCodeAt(0) || message.length < 19)
    throw new HandshakeError(`${peerNode} sent a malformed challenge`);
  const nameLength = message.readUInt16BE(17);
  if (message.length < 19 + nameLength)
    throw new HandshakeError(`${peerNode} sent a truncated challenge`);
  return {
    flags: message.readBigUInt64BE(1),
    challenge: message.readUInt32BE(9),
    creation: message.readUInt32BE(13),
    name: message.subarray(19, 19 + nameLength).toString('utf8'),
  };
}

export function missingPeerFlags(flags: bigint): string[] {
  return REQUIRED_PEER_FLAGS.filter(([, bit]) => (flags & bit) === 0n).map(([name]) => name);
}

export async function performHandshake(params: HandshakeParams): Promise<HandshakeResult> {
  const { socket, peerNode, cookie } = params;
  const reader = new HandshakeReader(socket, peerNode);
  try {
    writeMessage(socket, nameMessage(params.selfName, params.flags ?? OUR_FLAGS, params.creation));
    checkStatus(await reader.read(), peerNode, socket);

    const challenge = parseChallenge(await reader.read(), peerNode);
    const missing = missingPeerFlags(challenge.flags);
    if (missing.length > 0) throw new PeerTooOldError(peerNode, missing);

    const ourChallenge = crypto.randomBytes(4).readUInt32BE(0);
    const reply = Buffer.alloc(1 + 4 + 16);
    reply[0] = 'r'.charCodeAt(0);
    reply.writeUInt32BE(ourChallenge, 1);
    cookieDigest(cookie, challenge.challenge).copy(reply, 5);
    writeMessage(socket, reply);

    let ack: Buffer;
    try {
      ack = await reader.read();
    } catch (e) {
      if (e instanceof ConnectionClosedError) throw new CookieRejectedError(peerNode);
      throw e;
    }
    if (ack[0] !== 'a'.charCodeAt(0) || ack.length !== 17)
      throw new HandshakeError(`${peerNode} sent a malformed challenge acknowledgement`);
    if (!ack.subarray(1).equals(cookieDigest(cookie, ourChallenge)))
      throw new HandshakeError(
        `${peerNode} answered our challenge with a wrong digest (it does not share our cookie)`,
      );

    return {
      peerName: challenge.name,
      peerFlags: challenge.flags,
      peerCreation: challenge.creation,
      leftover: reader.detach(),
    };
  } catch (e) {
    reader.detach();
    throw e;
  }
}
