// WebSocket endpoint that JVM agents connect to (agent option `ws=URL,token=TOKEN`). Listens on
// 127.0.0.1 on a random port, rejects connections without the right token, decodes each
// connection's stream separately and hands decoded batches to a callback: as columns for
// recording (onColumns), or as one JvmStep object per step (onBatch) for tools and tests.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { JvmColumnDecoder, type JvmColumnBatch } from './columnDecoder';
import { JvmTraceDecoder, type JvmDecodedBatch } from './decoder';

export const TOKEN_HEADER = 'x-bathysphere-token';

export interface JvmAgentConnection {
  /** Sequential id of the connection (one per JVM run). */
  readonly id: number;
  readonly remoteAddress: string;
  /** The connection's decoder (its declarations feed the writer or computeRelations). */
  readonly decoder: JvmTraceDecoder | JvmColumnDecoder;
}

export interface JvmAgentServerOptions {
  /** Defaults to 32 random bytes, hex. */
  token?: string;
  /** Steps as JvmStep objects. */
  onBatch?: (batch: JvmDecodedBatch, connection: JvmAgentConnection) => void;
  /**
   * Steps as columns (no object per step; the batch is reused after the callback returns).
   * When given, connections decode with JvmColumnDecoder and onBatch is not called.
   */
  onColumns?: (batch: JvmColumnBatch, connection: JvmAgentConnection) => void;
  onConnect?: (connection: JvmAgentConnection) => void;
  /** Called once per connection after its last batch. */
  onClose?: (connection: JvmAgentConnection) => void;
  onError?: (error: Error, connection?: JvmAgentConnection) => void;
}

export class JvmAgentServer {
  private nextConnectionId = 1;

  private constructor(
    private readonly server: WebSocketServer,
    readonly port: number,
    readonly token: string,
  ) {}

  /** Starts listening; resolves once the port is known. */
  static start(options: JvmAgentServerOptions): Promise<JvmAgentServer> {
    const token = options.token ?? randomBytes(32).toString('hex');
    return new Promise((resolve, reject) => {
      const server = new WebSocketServer({
        host: '127.0.0.1',
        port: 0,
        maxPayload: 256 * 1024 * 1024,
        verifyClient: (info: { req: IncomingMessage }) => tokenMatches(info.req, token),
      });
      server.once('error', reject);
      server.once('listening', () => {
        const address = server.address();
        const port = typeof address === 'object' && address !== null ? address.port : 0;
        const instance = new JvmAgentServer(server, port, token);
        server.on('connection', (socket, request) => instance.accept(socket, request, options));
        resolve(instance);
      });
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  /** The `-javaagent` option text that connects an agent to this server. */
  agentOptions(): string {
    return `ws=${this.url},token=${this.token}`;
  }

  close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(
    socket: WebSocket,
    request: IncomingMessage,
    options: JvmAgentServerOptions,
  ): void {
    const decoder = options.onColumns ? new JvmColumnDecoder() : new JvmTraceDecoder();
    const connection: JvmAgentConnection = {
      id: this.nextConnectionId++,
      remoteAddress: request.socket.remoteAddress ?? '',
      decoder,
    };
    options.onConnect?.(connection);
    const deliver = (batch: JvmColumnBatch | JvmDecodedBatch): void => {
      try {
        if (decoder instanceof JvmColumnDecoder) {
          options.onColumns?.(batch as JvmColumnBatch, connection);
        } else options.onBatch?.(batch as JvmDecodedBatch, connection);
      } catch (error) {
        options.onError?.(error as Error, connection);
      }
    };
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      if (!isBinary) return; // the protocol is binary only
      deliver(decoder.push(toBytes(data)));
    });
    socket.on('error', (error) => options.onError?.(error, connection));
    socket.on('close', () => {
      deliver(decoder.end());
      options.onClose?.(connection);
    });
  }
}

function tokenMatches(request: IncomingMessage, token: string): boolean {
  const header = request.headers[TOKEN_HEADER];
  const given = Buffer.from(Array.isArray(header) ? (header[0] ?? '') : (header ?? ''));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function toBytes(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
