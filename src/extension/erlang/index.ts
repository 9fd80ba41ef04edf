/** Public surface of the Erlang distribution client (no VS Code imports here or below). */
export {
  ErlangConnection,
  parseNodeName,
  type ConnectOptions,
  type ConnectionEvents,
} from './connection';
export { listNodes, lookupPort, type RegisteredNode, type NodePort } from './epmd';
export { Mailbox, type ReceiveOptions } from './mailbox';
export type { RpcOptions } from './rpc';
export { evalOnNode, EvalError } from './eval';
export {
  injectAgent,
  resolveErlangAgentPaths,
  ErlangAgent,
  AGENT_VERSION,
  type InjectOptions,
  type LoadMethod,
} from './agent';
export { formatTerm, type FormatOptions } from './format';
export { encodeTerm, decodeTerm, decodeTermAt } from './etf';
export * from './terms';
export * from './errors';
export { erlangCommands } from './cli';
