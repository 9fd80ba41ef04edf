/**
 * Typed errors for the Erlang distribution client. Each one carries a `code` so
 * callers (VS Code layer, CLI) can branch without matching on message text, and a
 * message written for the person who has to act on it.
 */

export type ErlangErrorCode =
  | 'etf-decode'
  | 'etf-encode'
  | 'epmd-unreachable'
  | 'epmd-protocol'
  | 'node-not-registered'
  | 'cookie-rejected'
  | 'cookie-missing'
  | 'not-allowed'
  | 'peer-too-old'
  | 'handshake'
  | 'connect-timeout'
  | 'connection-closed'
  | 'frame-too-large'
  | 'rpc-timeout'
  | 'receive-timeout'
  | 'mailbox-closed'
  | 'badrpc'
  | 'eval'
  | 'agent';

export class ErlangError extends Error {
  constructor(
    readonly code: ErlangErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bytes that are not valid External Term Format; `offset` is where decoding gave up. */
export class EtfDecodeError extends ErlangError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super('etf-decode', `${message} (at byte ${offset})`);
  }
}

/** A JavaScript value that has no Erlang term equivalent. */
export class EtfEncodeError extends ErlangError {
  constructor(message: string) {
    super('etf-encode', message);
  }
}

export class EpmdUnreachableError extends ErlangError {
  constructor(
    readonly host: string,
    readonly port: number,
    cause: unknown,
  ) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      'epmd-unreachable',
      `cannot reach EPMD on ${host}:${port} (${detail}); no Erlang node is running there, or a firewall blocks the port`,
      { cause },
    );
  }
}

export class EpmdProtocolError extends ErlangError {
  constructor(message: string) {
    super('epmd-protocol', message);
  }
}

export class NodeNotRegisteredError extends ErlangError {
  constructor(
    readonly nodeName: string,
    readonly host: string,
    readonly registeredNames: string[],
  ) {
    const known =
      registeredNames.length === 0
        ? 'no nodes are registered there'
        : `registered names: ${registeredNames.join(', ')}`;
    super(
      'node-not-registered',
      `no node named '${nodeName}' is registered with EPMD on ${host} (${known})`,
    );
  }
}

export class CookieRejectedError extends ErlangError {
  constructor(readonly node: string) {
    super(
      'cookie-rejected',
      `the cookie was rejected by ${node}; pass the node's cookie (--cookie, or the same ~/.erlang.cookie the node uses)`,
    );
  }
}

export class CookieMissingError extends ErlangError {
  constructor(readonly path: string) {
    super('cookie-missing', `no cookie given and none could be read from ${path}`);
  }
}

export class NotAllowedError extends ErlangError {
  constructor(readonly node: string) {
    super(
      'not-allowed',
      `${node} refused the connection (not_allowed): it only accepts nodes listed with net_kernel:allow/1`,
    );
  }
}

export class PeerTooOldError extends ErlangError {
  constructor(
    readonly node: string,
    readonly missingFlags: string[],
  ) {
    super(
      'peer-too-old',
      `${node} runs an Erlang/OTP release older than 25 (it lacks ${missingFlags.join(', ')}); OTP 25 or later is required`,
    );
  }
}

export class HandshakeError extends ErlangError {
  constructor(message: string) {
    super('handshake', message);
  }
}

export class ConnectTimeoutError extends ErlangError {
  constructor(
    readonly node: string,
    readonly timeoutMs: number,
    stage: string,
  ) {
    super('connect-timeout', `connecting to ${node} timed out after ${timeoutMs} ms (${stage})`);
  }
}

/** The connection is gone; `reason` says why (peer closed, tick timeout, local close...). */
export class ConnectionClosedError extends ErlangError {
  constructor(
    readonly node: string,
    readonly reason: string,
  ) {
    super('connection-closed', `connection to ${node} closed: ${reason}`);
  }
}

export class FrameTooLargeError extends ErlangError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super('frame-too-large', `peer sent a ${size}-byte packet; the limit is ${limit} bytes`);
  }
}

export class RpcTimeoutError extends ErlangError {
  constructor(
    readonly mfa: string,
    readonly timeoutMs: number,
  ) {
    super('rpc-timeout', `rpc ${mfa} got no reply within ${timeoutMs} ms`);
  }
}

export class ReceiveTimeoutError extends ErlangError {
  constructor(readonly timeoutMs: number) {
    super('receive-timeout', `no message arrived within ${timeoutMs} ms`);
  }
}

export class MailboxClosedError extends ErlangError {
  constructor(reason: string) {
    super('mailbox-closed', `mailbox is closed (${reason})`);
  }
}

/** The remote call failed; `reason` is the Erlang term, `message` its printed form. */
export class BadRpcError extends ErlangError {
  constructor(
    readonly mfa: string,
    readonly reason: unknown,
    readonly formattedReason: string,
  ) {
    super('badrpc', `rpc ${mfa} failed: ${formattedReason}`);
  }
}

export class AgentError extends ErlangError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('agent', message, options);
  }
}
