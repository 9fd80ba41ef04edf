/**
 * Records a tracing session into a session store: a run named after the node (metadata:
 * OTP release, backend, limits), and every event batch ingested as it arrives. The CLI's
 * `erlang record` and the VS Code layer both use it.
 */
import type { ErlangAgent } from './agent';
import type { ErlangConnection } from './connection';
import { ErlangIngest } from './ingest';
import { ErlangTraceSession, type TraceLimits } from './tracing';
import type { OverloadEvent } from './traceEvents';
import type { SessionStore } from '../store/sessionStore';
import { Atom, ErlMap, textOf } from './terms';

export interface RecorderOptions {
  limits?: Partial<TraceLimits>;
  project?: string;
  /** Called for every ingest failure (the batch is lost, recording goes on). */
  onError?: (error: Error) => void;
}

export class ErlangRecorder {
  readonly overloads: OverloadEvent[] = [];
  private stopped = false;

  private constructor(
    readonly session: ErlangTraceSession,
    readonly ingest: ErlangIngest,
    private readonly store: SessionStore,
  ) {}

  static async start(
    conn: ErlangConnection,
    agent: ErlangAgent,
    store: SessionStore,
    options: RecorderOptions = {},
  ): Promise<ErlangRecorder> {
    await store.reserveRoom();
    const snapshot = await agent.snapshot();
    const info = snapshot instanceof ErlMap ? snapshot : new ErlMap([]);
    const text = (key: string) => textOf(info.get(Atom.of(key)) ?? []) ?? '';
    const run = store.addRun({
      targetKind: 'erlang',
      target: conn.node,
      project: options.project,
      launch: `connect ${conn.node} as hidden node ${conn.selfNode}`,
      metadata: {
        node: conn.node,
        otpRelease: text('otp_release'),
        ertsVersion: text('erts_version'),
        agentLoadMethod: agent.loadMethod,
        limits: options.limits ?? {},
      },
    });
    const session = await ErlangTraceSession.start(conn, agent, options.limits);
    const recorder = new ErlangRecorder(session, new ErlangIngest(store, run.id), store);
    session.on('events', (events) => {
      try {
        recorder.ingest.ingest(events);
      } catch (e) {
        options.onError?.(e as Error);
      }
    });
    session.on('overload', (event) => recorder.overloads.push(event));
    return recorder;
  }

  get runId(): number {
    return this.ingest.runId;
  }

  /** Stops tracing, waits for the last batch, ends the run and saves. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.session.close();
    this.store.endRun(this.runId);
    await this.store.flush();
  }
}
