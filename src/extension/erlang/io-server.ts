/**
 * A minimal Erlang IO server. Processes started through rpc use it as their group
 * leader, so `io:format` on the node neither blocks nor lands in the node's own
 * console: the text is handed to a callback instead. Input requests get `eof`.
 */
import type { Mailbox } from './mailbox';
import { Atom, ImproperList, Pid, Tuple, atom, isAtom, isTuple, type Term } from './terms';

const IO_REPLY = atom('io_reply');
const OK = atom('ok');
const EOF = atom('eof');

/** What the IO server needs from its connection. */
export interface IoServerHost {
  send(to: Pid, message: Term): void;
  /** Runs M:F(A...) on the node; for `{put_chars, Enc, io_lib, format, [F, A]}` requests. */
  apply(module: string, fun: string, args: Term[]): Promise<Term>;
}

export class IoServer {
  /** Requests are answered in arrival order, even those that need an rpc first. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly mailbox: Mailbox,
    private readonly onOutput: (text: string) => void,
    private readonly host: IoServerHost,
  ) {
    mailbox.setHandler((message) => this.onMessage(message));
  }

  get pid(): Pid {
    return this.mailbox.pid;
  }

  private onMessage(message: Term): void {
    if (!isTuple(message, 4) || !isAtom(message.elements[0], 'io_request')) return;
    const [, from, replyAs, request] = message.elements;
    if (!(from instanceof Pid)) return;
    this.queue = this.queue.then(async () => {
      const reply = await this.handle(request).catch(() => errorReply('put_chars'));
      this.host.send(from, new Tuple([IO_REPLY, replyAs, reply]));
    });
  }

  private async handle(request: Term): Promise<Term> {
    if (!(request instanceof Tuple) && !isAtom(request)) return errorReply('request');
    const op = request instanceof Tuple ? request.elements[0] : request;
    const args = request instanceof Tuple ? request.elements.slice(1) : [];
    if (!(op instanceof Atom)) return errorReply('request');
    switch (op.name) {
      case 'put_chars': {
        // {put_chars, Enc, Chars}, {put_chars, Enc, M, F, A} or the pre-unicode {put_chars, Chars}
        let chars = args.length === 2 ? args[1] : args.length === 1 ? args[0] : undefined;
        if (
          args.length === 4 &&
          args[1] instanceof Atom &&
          args[2] instanceof Atom &&
          Array.isArray(args[3])
        )
          chars = await this.host.apply(args[1].name, args[2].name, args[3]);
        if (chars === undefined) return errorReply('enotsup');
        const encoding = args.length === 2 && isAtom(args[0], 'latin1') ? 'latin1' : 'utf8';
        const text = chardataToText(chars, encoding);
        if (text === undefined) return errorReply('put_chars');
        this.onOutput(text);
        return OK;
      }
      case 'requests': {
        let reply: Term = OK;
        for (const inner of Array.isArray(args[0]) ? args[0] : []) {
          reply = await this.handle(inner);
          if (reply !== OK) break;
        }
        return reply;
      }
      case 'get_chars':
      case 'get_line':
      case 'get_until':
      case 'get_password':
        return EOF;
      case 'setopts':
        return OK;
      case 'getopts':
        return [];
      default:
        return errorReply('enotsup');
    }
  }
}

function errorReply(reason: string): Term {
  return new Tuple([atom('error'), atom(reason)]);
}

/** Flattens chardata (nested lists of code points and binaries) into text; undefined if malformed. */
export function chardataToText(data: Term, binaryEncoding: 'utf8' | 'latin1'): string | undefined {
  const parts: string[] = [];
  const stack: Term[] = [data];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === 'number') {
      if (!Number.isInteger(item) || item < 0 || item > 0x10ffff) return undefined;
      parts.push(String.fromCodePoint(item));
    } else if (item instanceof Uint8Array) parts.push(Buffer.from(item).toString(binaryEncoding));
    else if (Array.isArray(item)) for (let i = item.length - 1; i >= 0; i--) stack.push(item[i]);
    else if (item instanceof ImproperList && item.tail instanceof Uint8Array) {
      stack.push(item.tail);
      for (let i = item.elements.length - 1; i >= 0; i--) stack.push(item.elements[i]);
    } else return undefined;
  }
  return parts.join('');
}
