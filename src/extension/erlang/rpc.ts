/**
 * Remote calls through the node's `rex` server (what rpc:call/5 uses): a gen_server
 * call `{call, M, F, Args, GroupLeader}`. rex runs each call in a fresh process and
 * replies `{Ref, Result}`; a failed call yields `{badrpc, Reason}`.
 */
import { BadRpcError, RpcTimeoutError } from './errors';
import { formatTerm } from './format';
import type { Mailbox } from './mailbox';
import { Atom, Pid, Reference, Tuple, atom, isAtom, isTuple, type Term } from './terms';

export interface RpcOptions {
  /** Default 15 s. The remote call keeps running after a timeout; only the reply is dropped. */
  timeoutMs?: number;
}

/** The part of the connection an rpc channel uses. */
export interface RpcTransport {
  readonly node: string;
  makeRef(): Reference;
  regSend(from: Pid, name: string | Atom, message: Term): void;
}

interface PendingCall {
  resolve(result: Term): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export const DEFAULT_RPC_TIMEOUT_MS = 15_000;

const GEN_CALL = atom('$gen_call');
const CALL = atom('call');

export class RpcChannel {
  private readonly pending = new Map<string, PendingCall>();

  constructor(
    private readonly transport: RpcTransport,
    private readonly mailbox: Mailbox,
    private readonly groupLeader: Pid,
  ) {
    mailbox.setHandler((message) => this.onReply(message));
    // The mailbox only closes with the connection: fail whatever is still waiting.
    mailbox.onClose((error) => this.failAll(error));
  }

  call(module: string, fun: string, args: Term[], options: RpcOptions = {}): Promise<Term> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    const mfa = `${module}:${fun}/${args.length}`;
    if (this.mailbox.closed) return this.mailbox.receive(); // rejects with the close reason, as the queue is empty
    const ref = this.transport.makeRef();
    const request = new Tuple([CALL, atom(module), atom(fun), args, this.groupLeader]);
    const from = new Tuple([this.mailbox.pid, ref]);
    return new Promise<Term>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref.key);
        reject(new RpcTimeoutError(mfa, timeoutMs));
      }, timeoutMs);
      this.pending.set(ref.key, {
        timer,
        reject,
        resolve: (result) => {
          if (isTuple(result, 2) && isAtom(result.elements[0], 'badrpc')) {
            const reason = result.elements[1];
            reject(
              new BadRpcError(mfa, reason, formatTerm(reason, { localNode: this.transport.node })),
            );
          } else resolve(result);
        },
      });
      this.transport.regSend(this.mailbox.pid, 'rex', new Tuple([GEN_CALL, from, request]));
    });
  }

  private onReply(message: Term): void {
    if (!isTuple(message, 2) || !(message.elements[0] instanceof Reference)) return;
    const key = message.elements[0].key;
    const call = this.pending.get(key);
    if (!call) return; // a reply after its timeout
    this.pending.delete(key);
    clearTimeout(call.timer);
    call.resolve(message.elements[1]);
  }

  private failAll(error: Error): void {
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(error);
    }
    this.pending.clear();
  }
}
