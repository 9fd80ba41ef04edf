/**
 * Feedback debugging on a run stored in a session: the recommender plus its
 * history in the session file (table jvm_feedback). The first judgement names
 * the failure step the search starts from; reopening a session replays the
 * stored judgements, so the search resumes where it stood.
 */
import type { SessionStore } from '../../store/sessionStore';
import { JvmTraceReader } from '../traceReader';
import {
  FeedbackRecommender,
  type FeedbackKind,
  type HistoryEntry,
  type Suggestion,
} from './recommender';
import { feedbackTraceView, type SessionFlowOptions } from './sessionFlows';
import type { StepRef, TraceStep, TraceView } from './traceView';

interface FeedbackRow {
  seq: number;
  thread_id: number;
  step_order: number;
  kind: FeedbackKind;
  read_index: number | null;
}

export class FeedbackSession {
  private recommender: FeedbackRecommender | undefined;

  private constructor(
    private readonly store: SessionStore,
    readonly runId: number,
    private readonly view: TraceView,
    /** Whether the view has the derived flows (arguments, returns, library state). */
    readonly withFlows: boolean,
  ) {}

  /**
   * Opens the feedback state of a run, replaying what the session holds. A run of up to
   * FLOW_STEP_LIMIT steps is read into memory once, with the flows debug-sim also uses.
   */
  static open(
    store: SessionStore,
    runId: number,
    options: SessionFlowOptions = {},
  ): FeedbackSession {
    const { view, withFlows } = feedbackTraceView(new JvmTraceReader(store, runId), options);
    const session = new FeedbackSession(store, runId, view, withFlows);
    session.replay(session.rows());
    return session;
  }

  /** A step as the search sees it: its reads include the derived ones (pick a wrong one here). */
  step(ref: StepRef): TraceStep | undefined {
    return this.view.step(ref);
  }

  /** The step to inspect now, or undefined before the first judgement. */
  current(): Suggestion | undefined {
    return this.recommender?.current();
  }

  history(): readonly HistoryEntry[] {
    return this.recommender?.history() ?? [];
  }

  /**
   * Records a judgement of `step` and returns the next step to inspect. The
   * first judgement makes `step` the failure the search starts from.
   */
  give(step: StepRef, kind: FeedbackKind, readIndex?: number): Suggestion {
    this.recommender ??= new FeedbackRecommender(this.view, step);
    const suggestion = this.recommender.feedback(step, kind, readIndex);
    const seq = this.history().length;
    this.store.transaction(() =>
      this.store.query(
        `INSERT INTO jvm_feedback (run_id, seq, thread_id, step_order, kind, read_index,
           suggested_thread, suggested_order, reason, root_cause, given_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          this.runId,
          seq,
          step.threadId,
          step.order,
          kind,
          readIndex ?? null,
          suggestion.step.threadId,
          suggestion.step.order,
          suggestion.reason,
          suggestion.rootCause ? 1 : 0,
          new Date().toISOString(),
        ],
      ),
    );
    return suggestion;
  }

  /** Takes back the last judgement; undefined when none is left. */
  undo(): Suggestion | undefined {
    const rows = this.rows();
    if (rows.length === 0) return undefined;
    this.store.transaction(() =>
      this.store.query('DELETE FROM jvm_feedback WHERE run_id = ? AND seq = ?', [
        this.runId,
        rows.at(-1)!.seq,
      ]),
    );
    this.replay(rows.slice(0, -1));
    return this.current();
  }

  private rows(): FeedbackRow[] {
    return this.store.query<FeedbackRow>(
      'SELECT seq, thread_id, step_order, kind, read_index FROM jvm_feedback WHERE run_id = ? ORDER BY seq',
      [this.runId],
    );
  }

  private replay(rows: FeedbackRow[]): void {
    this.recommender = undefined;
    for (const row of rows) {
      const step = { threadId: row.thread_id, order: row.step_order };
      this.recommender ??= new FeedbackRecommender(this.view, step);
      this.recommender.feedback(step, row.kind, row.read_index ?? undefined);
    }
  }
}
