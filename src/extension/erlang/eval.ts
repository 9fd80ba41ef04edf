/**
 * Evaluates Erlang source text on the node itself (erl_scan, erl_parse, erl_eval
 * over rpc), so the client needs no Erlang parser. Errors come back as text the
 * node produced, which is what an Erlang user expects to read.
 */
import type { ErlangConnection } from './connection';
import { BadRpcError, ErlangError } from './errors';
import { formatTerm } from './format';
import { Atom, textOf, type Term, Tuple, atom, charlist, isAtom, isTuple } from './terms';

export class EvalError extends ErlangError {
  constructor(
    message: string,
    /** 'scan' / 'parse': the text is not valid Erlang; 'eval': it raised. */
    readonly stage: 'scan' | 'parse' | 'eval',
  ) {
    super('eval', message);
  }
}

export interface EvalOptions {
  /** Variables bound before evaluation, e.g. { Src: binary(...) }. */
  bindings?: Record<string, Term>;
  timeoutMs?: number;
}

/** Evaluates `expression` (one or more comma-separated expressions ending in '.') and returns the value. */
export async function evalOnNode(
  conn: ErlangConnection,
  expression: string,
  options: EvalOptions = {},
): Promise<Term> {
  const rpcOptions = { timeoutMs: options.timeoutMs };
  const scanned = await conn.rpc('erl_scan', 'string', [charlist(expression)], rpcOptions);
  if (!isTuple(scanned, 3) || !isAtom(scanned.elements[0], 'ok'))
    throw new EvalError(await describeError(conn, scanned, 'syntax error'), 'scan');
  const parsed = await conn.rpc('erl_parse', 'parse_exprs', [scanned.elements[1]], rpcOptions);
  if (!isTuple(parsed, 2) || !isAtom(parsed.elements[0], 'ok'))
    throw new EvalError(await describeError(conn, parsed, 'syntax error'), 'parse');
  const bindings = Object.entries(options.bindings ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => new Tuple([atom(name), value]));
  let result: Term;
  try {
    result = await conn.rpc('erl_eval', 'exprs', [parsed.elements[1], bindings], rpcOptions);
  } catch (e) {
    if (e instanceof BadRpcError)
      throw new EvalError(describeException(e.reason as Term, conn.node), 'eval');
    throw e;
  }
  if (!isTuple(result, 3) || !isAtom(result.elements[0], 'value'))
    throw new EvalError(`unexpected result from erl_eval: ${formatTerm(result)}`, 'eval');
  return result.elements[1];
}

/** `{error, {Location, Module, Descriptor}, ...}` -> "line 1: syntax error before: ')'". */
async function describeError(
  conn: ErlangConnection,
  failure: Term,
  fallback: string,
): Promise<string> {
  const info = isTuple(failure) ? failure.elements[1] : undefined;
  if (!isTuple(info, 3) || !isAtom(info.elements[1])) return fallback;
  const [location, module, descriptor] = info.elements;
  let text = fallback;
  try {
    const formatted = await conn.rpc((module as Atom).name, 'format_error', [descriptor]);
    text = textOfDeep(formatted) ?? fallback;
  } catch {
    // keep the fallback text
  }
  const line =
    typeof location === 'number'
      ? location
      : isTuple(location, 2)
        ? location.elements[0]
        : undefined;
  return line === undefined ? text : `line ${String(line)}: ${text}`;
}

function textOfDeep(chardata: Term): string | undefined {
  if (!Array.isArray(chardata)) return textOf(chardata);
  const parts: string[] = [];
  for (const part of chardata.flat(Infinity as 1) as Term[]) {
    if (typeof part === 'number') parts.push(String.fromCodePoint(part));
    else {
      const text = textOf(part);
      if (text === undefined) return undefined;
      parts.push(text);
    }
  }
  return parts.join('');
}

/** rex wraps a raised exception as {'EXIT', {Reason, Stack}}; people want the reason. */
export function describeException(reason: Term, localNode?: string): string {
  if (isTuple(reason, 2) && isAtom(reason.elements[0], 'EXIT')) {
    const inner = reason.elements[1];
    const why = isTuple(inner, 2) && Array.isArray(inner.elements[1]) ? inner.elements[0] : inner;
    return `exception error: ${formatTerm(why, { localNode })}`;
  }
  return formatTerm(reason, { localNode });
}
