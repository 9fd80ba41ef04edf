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
export {
  ErlangTraceSession,
  TraceTargetError,
  type TraceLimits,
  type TraceSessionEvents,
  type BatchInfo,
  type ProcessDetails,
  type ProcessListEntry,
  type ProcessTarget,
  type TraceStatus,
} from './tracing';
export type { ErlangTraceEvent, ErlangEventKind, OverloadEvent, ProcessFacts } from './traceEvents';
export { ErlangIngest } from './ingest';
export { ErlangRecorder, type RecorderOptions } from './record';
export {
  processGraph,
  processGraphDelta,
  type ProcessGraph,
  type ProcessGraphDelta,
  type ProcessGraphNode,
  type ProcessGraphOptions,
} from './processGraph';
