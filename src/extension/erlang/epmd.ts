/**
 * EPMD client: which nodes run on a host (NAMES_REQ) and which port a node listens
 * on (PORT_PLEASE2_REQ). EPMD answers one request per TCP connection and closes.
 */
import * as net from 'node:net';
import { EpmdProtocolError, EpmdUnreachableError, NodeNotRegisteredError } from './errors';

export const EPMD_DEFAULT_PORT = 4369;

const NAMES_REQ = 110;
const PORT_PLEASE2_REQ = 122;
const PORT2_RESP = 119;

/** EPMD replies are tiny; anything bigger than this is not EPMD. */
const MAX_REPLY_BYTES = 1024 * 1024;

export interface EpmdOptions {
  /** EPMD port (default 4369, or $ERL_EPMD_PORT like erl). */
  epmdPort?: number;
  timeoutMs?: number;
}

export interface RegisteredNode {
  name: string;
  port: number;
}

export interface NodePort {
  port: number;
  /** 77 = normal Erlang node, 72 = hidden (C node). */
  nodeType: number;
  highestVersion: number;
  lowestVersion: number;
}

export function defaultEpmdPort(): number {
  const fromEnv = Number(process.env.ERL_EPMD_PORT);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : EPMD_DEFAULT_PORT;
}

/** Sends one request and collects everything EPMD sends until it closes the socket. */
function epmdRequest(host: string, request: Buffer, options: EpmdOptions): Promise<Buffer> {
  const port = options.epmdPort ?? defaultEpmdPort();
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const socket = net.connect({ host, port });
    const finish = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    };
    socket.setTimeout(timeoutMs, () =>
      finish(new EpmdUnreachableError(host, port, new Error(`no answer in ${timeoutMs} ms`))),
    );
    socket.on('connect', () => {
      const framed = Buffer.alloc(2 + request.length);
      framed.writeUInt16BE(request.length, 0);
      request.copy(framed, 2);
      socket.write(framed);
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_REPLY_BYTES) finish(new EpmdProtocolError('EPMD reply is too large'));
      else chunks.push(chunk);
    });
    socket.on('end', () => finish(undefined));
    socket.on('close', () => finish(undefined));
    socket.on('error', (error) => finish(new EpmdUnreachableError(host, port, error)));
  });
}

/** Nodes registered with EPMD on `host` (NAMES_REQ). */
export async function listNodes(
  host = 'localhost',
  options: EpmdOptions = {},
): Promise<RegisteredNode[]> {
  const reply = await epmdRequest(host, Buffer.from([NAMES_REQ]), options);
  if (reply.length < 4) throw new EpmdProtocolError('EPMD sent a truncated NAMES reply');
  return parseNames(reply.subarray(4).toString('utf8'));
}

/** Lines look like `name foo at port 38233`. */
export function parseNames(text: string): RegisteredNode[] {
  const nodes: RegisteredNode[] = [];
  for (const line of text.split('\n')) {
    const match = /^name (.+) at port (\d+)$/.exec(line.trim());
    if (match) nodes.push({ name: match[1], port: Number(match[2]) });
  }
  return nodes;
}

/**
 * The distribution port of node `name` (the part before '@') on `host`.
 * Throws NodeNotRegisteredError, listing the names that are registered, if EPMD
 * does not know it.
 */
export async function lookupPort(
  name: string,
  host = 'localhost',
  options: EpmdOptions = {},
): Promise<NodePort> {
  const request = Buffer.concat([Buffer.from([PORT_PLEASE2_REQ]), Buffer.from(name, 'utf8')]);
  const reply = await epmdRequest(host, request, options);
  if (reply.length < 2 || reply[0] !== PORT2_RESP)
    throw new EpmdProtocolError(`unexpected EPMD reply to PORT_PLEASE2 (${reply.length} bytes)`);
  if (reply[1] !== 0) {
    const registered = await listNodes(host, options).catch(() => []);
    throw new NodeNotRegisteredError(
      name,
      host,
      registered.map((node) => node.name),
    );
  }
  if (reply.length < 12) throw new EpmdProtocolError('EPMD sent a truncated PORT2 reply');
  return {
    port: reply.readUInt16BE(2),
    nodeType: reply[4],
    highestVersion: reply.readUInt16BE(6),
    lowestVersion: reply.readUInt16BE(8),
  };
}
