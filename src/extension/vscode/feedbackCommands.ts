/**
 * Microbat-style feedback from the editor: the person judges the current step
 * (correct, correct but not updated later, wrong value, wrong path, unclear),
 * Bathysphere moves to the step
 * it suggests next and says why. History lives in the session (undo
 * included); the search logic lives in src/extension/jvm/debugging.
 */
import * as vscode from 'vscode';
import { FeedbackSession } from '../jvm/debugging/feedbackSession';
import type { FeedbackKind, Suggestion } from '../jvm/debugging/recommender';
import type { TraceAccess } from '../jvm/debugging/traceView';
import { describeAccess } from '../jvm/navigation';
import type { OpenSessions } from './sessions';
import type { TraceEditor } from './traceEditor';

export interface FeedbackOutcome {
  suggestion?: Suggestion;
  /** How many judgements the session holds for this run now. */
  feedbacks: number;
}

const KINDS: [command: string, kind: FeedbackKind][] = [
  ['bathysphere.feedback.correct', 'correct'],
  // The step and what it wrote are right, yet a later step read that value as wrong: an update
  // in between went missing (a loop that stopped early, a statement the code lacks).
  ['bathysphere.feedback.notUpdated', 'missing-update'],
  ['bathysphere.feedback.wrongValue', 'wrong-value'],
  ['bathysphere.feedback.wrongPath', 'wrong-path'],
  ['bathysphere.feedback.unclear', 'unclear'],
];

export function registerFeedbackCommands(
  sessions: OpenSessions,
  traceEditor: TraceEditor,
): vscode.Disposable[] {
  const open = new Map<string, FeedbackSession>();
  const sessionFor = (file: string, runId: number): FeedbackSession => {
    const key = `${file}#${runId}`;
    let session = open.get(key);
    if (!session) {
      session = FeedbackSession.open(sessions.get(file)!, runId, {
        sourceText: (className, sourceFile) => traceEditor.sourceText(className, sourceFile),
      });
      open.set(key, session);
    }
    return session;
  };

  const show = async (suggestion: Suggestion, position: { sessionFile: string; runId: number }) => {
    await traceEditor.goTo({ ...position, ...suggestion.step });
    const prefix = suggestion.rootCause
      ? 'Likely root cause'
      : `Inspect step #${suggestion.step.order}`;
    void vscode.window.showInformationMessage(`Bathysphere: ${prefix}: ${suggestion.reason}`);
  };

  const give = async (
    kind: FeedbackKind,
    readName?: string,
  ): Promise<FeedbackOutcome | undefined> => {
    const at = traceEditor.current();
    if (!at) {
      void vscode.window.showInformationMessage(
        'Bathysphere: open a recorded Java run and go to a step first.',
      );
      return undefined;
    }
    const session = sessionFor(at.sessionFile, at.runId);
    let readIndex: number | undefined;
    if (kind === 'wrong-value') {
      readIndex = await pickWrongRead(session, at, readName);
      if (readIndex === undefined) return undefined;
    }
    const suggestion = session.give({ threadId: at.threadId, order: at.order }, kind, readIndex);
    await show(suggestion, at);
    return { suggestion, feedbacks: session.history().length };
  };

  return [
    ...KINDS.map(([command, kind]) =>
      vscode.commands.registerCommand(command, (readName?: string) => give(kind, readName)),
    ),
    vscode.commands.registerCommand(
      'bathysphere.feedback.undo',
      async (): Promise<FeedbackOutcome | undefined> => {
        const at = traceEditor.current();
        if (!at) return undefined;
        const session = sessionFor(at.sessionFile, at.runId);
        const suggestion = session.undo();
        if (suggestion) await show(suggestion, at);
        else vscode.window.setStatusBarMessage('Bathysphere: no feedback left to undo', 4000);
        return { suggestion, feedbacks: session.history().length };
      },
    ),
  ];
}

/** Which read holds the wrong value: the one named, the only one, or the person's pick. */
async function pickWrongRead(
  session: FeedbackSession,
  at: { threadId: number; order: number },
  readName: string | undefined,
): Promise<number | undefined> {
  // The search's own view of the step: besides what the line read, the values callees returned,
  // the arguments it was called with and the contents of library objects it used.
  const step = session.step(at);
  if (!step || step.reads.length === 0) {
    void vscode.window.showInformationMessage(
      'Bathysphere: this step reads no variable; say "wrong path" if it should not have run.',
    );
    return undefined;
  }
  const named =
    readName === undefined ? -1 : step.reads.findIndex((read) => read.name === readName);
  if (named >= 0) return named;
  if (step.reads.length === 1) return 0;
  const picked = await vscode.window.showQuickPick(
    step.reads.map((read, index) => ({ label: labelOf(read), index })),
    { title: 'Which value read here is wrong?' },
  );
  return picked?.index;
}

/** How a read is offered: as the editor shows it, or by what it stands for (derived reads). */
function labelOf(read: TraceAccess): string {
  return read.kind === 'library' || read.kind === 'return'
    ? `${read.name} = ${read.value}`
    : describeAccess({ ...read, kind: read.kind });
}
