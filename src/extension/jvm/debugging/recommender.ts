// Microbat-style feedback debugging: the person judges the step in front of them and the
// recommender answers with the next step to inspect, and why.
//
//   wrong value of a read variable -> the step that last wrote it (its data dominator)
//   wrong path (should not have run) -> the branch that made it run (control dominator), or the
//                                       call that entered its method
//   correct, on a step suspected of producing something wrong -> root cause: its inputs are
//                                       right, so its own line is at fault
//   correct, otherwise -> the fault lies between: binary search over what the latest wrong
//                                       step depends on, leaving out what the correct step does
//   unclear -> the enclosing loop iteration or method call, easier to judge
//
// A loop that carries a wrong value from iteration to iteration would cost one feedback per
// iteration. Once the person has given the same judgement at a line, the recommender jumps to
// the first iteration of the chain; if that one is correct, it bisects the skipped iterations.
// Likewise a loop that ran rounds it should not have: once two runs of its condition were
// judged off the path, the rounds are searched by halves for the first extra one.
//
// Undo replays the history without its last entry, so every state is reproducible.

import { typeOfReference } from '../javaText';
import { callsMutatingMethod } from './libraryFlows';
import {
  describeAccess,
  elementIndex,
  isCallbackAnswer,
  locationOf,
  sameFrame,
  sameStep,
  stepId,
  type StepRef,
  type TraceAccess,
  type TraceStep,
  type TraceView,
} from './traceView';

/**
 * `missing-update` (beyond Microbat): the step is right, what it wrote included, yet a later
 * step read that value as wrong: an update that should have come after it never happened.
 */
export type FeedbackKind = 'correct' | 'wrong-value' | 'wrong-path' | 'unclear' | 'missing-update';

export interface Feedback {
  step: StepRef;
  kind: FeedbackKind;
  /** wrong-value: which of the step's reads holds the wrong value (index into reads). */
  readIndex?: number;
}

export interface Suggestion {
  /** The step to inspect next (or the root cause when `rootCause`). */
  step: StepRef;
  /** Why this step, in words a person can check. */
  reason: string;
  /** The search ended: this step is where the fault most likely is. */
  rootCause: boolean;
}

export interface HistoryEntry {
  feedback: Feedback;
  /** What the recommender suggested in answer. */
  suggestion: Suggestion;
}

/** Why the current step is under suspicion: decides what "correct" means for it. */
type Suspicion =
  | { kind: 'failure' }
  | { kind: 'writer'; variable: string; reader: StepRef }
  | {
      kind: 'controller';
      /** The step that should not have run, which this decision (or call) let run. */
      of: StepRef;
      /** Once the decision was judged right: the decision, while the search walks back. */
      decision?: StepRef;
    }
  | { kind: 'free' }
  | {
      kind: 'bisect';
      chain: StepRef[];
      low: number;
      high: number;
      variable: string;
      /** The step that read the last iteration's wrong value. */
      reader: StepRef;
      /** chain[low] was judged right but later stale (`missing-update`), not plain correct. */
      lowStale?: boolean;
    }
  | { kind: 'between'; frontier: StepRef }
  | {
      kind: 'path-bisect';
      /** Runs of one loop condition in one invocation, oldest first, each letting the next run. */
      chain: StepRef[];
      /** The latest run known to be on the right path (-1: none yet). */
      low: number;
      /** The earliest run known to be on the wrong path. */
      high: number;
      /** The judgement of chain[low], taken as the judgement of the decision once found. */
      lowAnswer?: Feedback;
    }
  | {
      kind: 'update';
      candidates: StepRef[];
      index: number;
      writer: StepRef;
      reader: StepRef;
      variable: string;
    }
  | { kind: 'abstraction'; of: StepRef }
  | { kind: 'found' };

interface State {
  suggestion: Suggestion;
  suspicion: Suspicion;
}

/** Steps whose dependences the "between" search explores at most. */
const SLICE_LIMIT = 20_000;
/** Steps between a correct write and a stale read that the missing-update search reads at most. */
const BETWEEN_LIMIT = 20_000;
/** Steps searched on each side for assignments of the variable in other invocations. */
const ELSEWHERE_LIMIT = 5_000;
/** Steps offered at most as the place of a missing update. */
const MAX_UPDATE_CANDIDATES = 24;
/** Decisions nested around an update that never ran, asked at most (from the innermost). */
const MAX_GUARD_DEPTH = 3;
/** Runs of the decisions around one assignment elsewhere that the missing-update search asks. */
const MAX_KEPT_AWAY_RUNS = 4;
/** Iterations a skip follows at most. */
const CHAIN_LIMIT = 100_000;
/** Other steps a value may pass through between two iterations of the line a skip follows. */
const MAX_STEPS_BETWEEN_ITERATIONS = 8;

export class FeedbackRecommender {
  private readonly entries: HistoryEntry[] = [];
  private state: State;

  /**
   * @param failure the step where the failure shows (wrong output, failed assertion, crash);
   *   it is the first step to judge
   */
  constructor(
    private readonly view: TraceView,
    private readonly failure: StepRef,
  ) {
    this.state = this.initialState();
  }

  /** The step to inspect now. */
  current(): Suggestion {
    return this.state.suggestion;
  }

  history(): readonly HistoryEntry[] {
    return this.entries;
  }

  /** Every question asked so far (see answer): step and suspicion. */
  private readonly asked = new Set<string>();

  /** Records a judgement of `step` and returns the next suggestion. */
  feedback(step: StepRef, kind: FeedbackKind, readIndex?: number): Suggestion {
    const feedback: Feedback = { step, kind, ...(readIndex === undefined ? {} : { readIndex }) };
    this.state = this.answer(this.state, feedback, this.entries);
    this.entries.push({ feedback, suggestion: this.state.suggestion });
    return this.state.suggestion;
  }

  /** Takes back the last judgement; returns the suggestion that was current before it. */
  undo(): Suggestion {
    const kept = this.entries.slice(0, -1);
    this.entries.length = 0;
    this.asked.clear();
    this.state = this.initialState();
    for (const entry of kept) {
      this.state = this.answer(this.state, entry.feedback, this.entries);
      this.entries.push({ feedback: entry.feedback, suggestion: this.state.suggestion });
    }
    return this.state.suggestion;
  }

  private initialState(): State {
    return {
      suggestion: {
        step: this.failure,
        reason: 'The failure shows here. Are the values this step reads right?',
        rootCause: false,
      },
      suspicion: { kind: 'failure' },
    };
  }

  /**
   * The next state, unless it asks again a question already asked (the same step, suspected for
   * the same reason): the answers then lead round in a circle (a value judged wrong, traced to a
   * write judged right, whose missing update leads back to the first step), and more questions
   * would only repeat it. The search ends on the step just judged, where the circle closed.
   */
  private answer(state: State, feedback: Feedback, earlier: readonly HistoryEntry[]): State {
    const next = this.apply(state, feedback, earlier);
    if (next.suggestion.rootCause) return next;
    // The question: the step and why it is asked (the suspicion names the reader, the variable).
    const question = `${stepId(next.suggestion.step)} ${JSON.stringify(next.suspicion)}`;
    const repeated = this.asked.has(question);
    this.asked.add(question);
    // Only while following the suggestions: a person who goes back to judge a step again is
    // not going round in a circle.
    const followed = sameStep(state.suggestion.step, feedback.step);
    if (!followed || !repeated) return next;
    return this.found(
      this.view.step(feedback.step)!,
      'The answers lead round in a circle back to a question already asked; this step, ' +
        'where the circle closed, is the likeliest place.',
    );
  }

  private apply(state: State, feedback: Feedback, earlier: readonly HistoryEntry[]): State {
    const step = this.view.step(feedback.step);
    if (!step) throw new Error(`no step ${stepId(feedback.step)} in the trace`);
    // Feedback on a step the person navigated to by themselves carries no suspicion.
    const suspicion: Suspicion = sameStep(state.suggestion.step, step)
      ? state.suspicion
      : { kind: 'free' };
    if (suspicion.kind === 'path-bisect')
      return this.onPathProbe(step, feedback, suspicion, earlier);
    switch (feedback.kind) {
      case 'wrong-value':
        return this.onWrongValue(step, feedback.readIndex, suspicion, earlier);
      case 'wrong-path':
        return this.onWrongPath(step, earlier);
      case 'correct':
        return suspicion.kind === 'found' ? state : this.onCorrect(step, suspicion, earlier);
      case 'unclear':
        return this.onUnclear(step);
      case 'missing-update':
        if (suspicion.kind === 'writer') return this.onMissingUpdate(step, suspicion);
        if (suspicion.kind === 'update') return this.nextUpdateCandidate(suspicion);
        if (suspicion.kind === 'bisect') return this.onBisectProbe(step, suspicion, true);
        if (suspicion.kind === 'controller') return this.onRightDecision(step, suspicion);
        return suspicion.kind === 'found' ? state : this.onCorrect(step, suspicion, earlier);
    }
  }

  // ---- wrong value ---------------------------------------------------------------------------

  private onWrongValue(
    step: TraceStep,
    readIndex: number | undefined,
    suspicion: Suspicion,
    earlier: readonly HistoryEntry[],
  ): State {
    const read = readIndex === undefined ? undefined : step.reads[readIndex];
    if (!read)
      throw new Error(`wrong-value feedback needs one of the step's ${step.reads.length} reads`);
    const variable = describeAccess(read);
    if (suspicion.kind === 'bisect' && suspicion.variable === read.name) {
      const probe = suspicion.chain.findIndex((s) => sameStep(s, step));
      // The probed iteration already read a wrong value: the fault is in an earlier one.
      if (probe > 0) return this.bisect({ ...suspicion, high: probe - 1 });
    }
    const writer = read.writer && this.view.step(read.writer);
    if (!writer) return this.unwritten(step, read);
    if (this.repeatsJudgedPattern(step, read, earlier)) {
      // The loop hands the value along through this line itself, or through a few other lines
      // each time round (`map.put(...)` then `map.get(k).add(...)`): the earlier rounds of this
      // line are the iterations to search.
      const chain =
        locationOf(writer) === locationOf(step)
          ? this.iterationChain(writer, read.name)
          : this.iterationChain(step, read.name).slice(0, -1);
      if (chain.length > 1) {
        return this.bisect({
          kind: 'bisect',
          chain,
          low: -1,
          high: chain.length - 1,
          variable: read.name,
          reader: refOf(step),
        });
      }
    }
    return {
      suggestion: {
        step: refOf(writer),
        reason: `${variable} (${read.value}) read at ${here(step)} was last written here.`,
        rootCause: false,
      },
      suspicion: { kind: 'writer', variable, reader: refOf(step) },
    };
  }

  /**
   * A value nobody in the trace wrote. An element of an array (or a field of an object) whose
   * other elements the program did write still holds its default: its assignment is missing,
   * most likely where the others were made (a loop that stopped one short). Otherwise the
   * reading step is the best place left to look.
   */
  private unwritten(step: TraceStep, read: TraceAccess): State {
    const siblings = this.siblingWrites(step, read);
    // The latest write of another element or field of the same object first; when nothing ran
    // between it and the read (the field's first use), the object's first write: the value is
    // its default since then, so every update meant for it had that whole stretch to happen.
    for (const sibling of [siblings.latest, siblings.earliest]) {
      if (!sibling) continue;
      const candidates = this.updateCandidates(sibling, step, read, { neverWritten: true });
      if (candidates.length === 0 && sibling !== siblings.earliest) continue;
      return this.nextUpdateCandidate({
        kind: 'update',
        candidates,
        index: -1,
        writer: refOf(sibling),
        reader: refOf(step),
        variable: describeAccess(read),
      });
    }
    const late = this.firstWriteAfter(step, read);
    if (late) {
      return {
        suggestion: {
          step: refOf(late),
          reason:
            `No step wrote ${describeAccess(read)} before ${here(step)} read it, and this step ` +
            `writes it later: did the write come too late (an initialisation order)?`,
          rootCause: false,
        },
        suspicion: { kind: 'writer', variable: describeAccess(read), reader: refOf(step) },
      };
    }
    return this.found(
      step,
      `No recorded step wrote ${describeAccess(read)}: it comes from outside the trace (an ` +
        `argument of the entry point, a default value, or uninstrumented code). The fault is ` +
        `most likely where this line gets it.`,
    );
  }

  /** The person already said "wrong <same variable>" at this line: a loop carries the value. */
  private repeatsJudgedPattern(
    step: TraceStep,
    read: TraceAccess,
    earlier: readonly HistoryEntry[],
  ): boolean {
    const location = locationOf(step);
    return earlier.some((entry) => {
      if (entry.feedback.kind !== 'wrong-value' || sameStep(entry.feedback.step, step)) {
        return false;
      }
      const judged = this.view.step(entry.feedback.step);
      const judgedRead = judged?.reads[entry.feedback.readIndex ?? -1];
      return (
        judged !== undefined && locationOf(judged) === location && judgedRead?.name === read.name
      );
    });
  }

  /**
   * Earlier iterations of `latest`'s line that handed `variable` along, oldest first: the line's
   * steps met following the variable's writers back, through at most a few other steps between
   * two of them.
   */
  private iterationChain(latest: TraceStep, variable: string): StepRef[] {
    const location = locationOf(latest);
    const chain: StepRef[] = [refOf(latest)];
    let current: TraceStep | undefined = latest;
    let stepsBetween = 0;
    while (current && chain.length < CHAIN_LIMIT) {
      const read: TraceAccess | undefined = current.reads.find(
        (r) => r.name === variable && r.writer,
      );
      const previous: TraceStep | undefined = read?.writer && this.view.step(read.writer);
      if (!previous) break;
      if (locationOf(previous) === location) {
        chain.push(refOf(previous));
        stepsBetween = 0;
      } else if (++stepsBetween > MAX_STEPS_BETWEEN_ITERATIONS) break;
      current = previous;
    }
    return chain.reverse();
  }

  /**
   * Binary search over a chain of iterations: chain[low] read a correct value (or low = -1:
   * nothing known yet), chain[high] wrote a wrong one. Ends where correct turns wrong.
   */
  private bisect(search: Extract<Suspicion, { kind: 'bisect' }>): State {
    const { chain, low, high, variable } = search;
    if (low >= high && low >= 0) {
      const last = this.view.step(chain[low])!;
      const nextReader = this.view.step(chain[low + 1] ?? search.reader)!;
      const handedOver = nextReader.reads.find((r) => r.name === variable && r.writer);
      if (handedOver?.writer && !sameStep(handedOver.writer, last)) {
        // Another line stands between this iteration and the next: it made the value wrong.
        return {
          suggestion: {
            step: refOf(handedOver.writer),
            reason:
              `This iteration read a correct ${variable} and the next one read a wrong one, ` +
              `written here in between.`,
            rootCause: false,
          },
          suspicion: {
            kind: 'writer',
            variable: describeAccess(handedOver),
            reader: refOf(nextReader),
          },
        };
      }
      if (search.lowStale) {
        // It computed the value right, and the next iteration read it wrong: an update that
        // belonged between them never happened.
        const reader = this.view.step(chain[low + 1] ?? search.reader)!;
        const read = reader.reads.find((r) => r.name === variable && sameStep(r.writer, last));
        if (read) {
          return this.onMissingUpdate(last, {
            kind: 'writer',
            variable: describeAccess(read),
            reader: refOf(reader),
          });
        }
      }
      return this.found(
        last,
        `This iteration read a correct ${variable} and the next one read a wrong one: this ` +
          `iteration computed it wrongly.`,
      );
    }
    const probe = low < 0 ? 0 : Math.ceil((low + high) / 2);
    const skipped = low < 0 ? chain.length - 1 : undefined;
    const reason =
      skipped !== undefined
        ? `This line passed a wrong ${variable} along ${chain.length} times in a row, a pattern ` +
          `you already judged; skipped ${skipped} iterations back to the first one.`
        : `Binary search over the skipped iterations: iteration ${probe + 1} of ${chain.length} ` +
          `(iterations ${low + 1} and before look right, ${high + 2} and after wrong).`;
    return {
      suggestion: { step: chain[probe], reason, rootCause: false },
      suspicion: search,
    };
  }

  /** The probed iteration is right (`stale`: right, but read later as wrong): search later ones. */
  private onBisectProbe(
    step: TraceStep,
    search: Extract<Suspicion, { kind: 'bisect' }>,
    stale: boolean,
  ): State {
    const probe = search.chain.findIndex((s) => sameStep(s, step));
    if (probe < search.low) return this.bisect(search);
    return this.bisect({ ...search, low: probe, lowStale: stale });
  }

  // ---- wrong path ----------------------------------------------------------------------------

  private onWrongPath(step: TraceStep, earlier: readonly HistoryEntry[]): State {
    const controller = step.controlDominator && this.view.step(step.controlDominator);
    if (controller && this.repeatsWrongPath(step, controller, earlier)) {
      const chain = this.loopConditionRuns(step);
      if (chain.length > 2) {
        return this.bisectPath(
          { kind: 'path-bisect', chain, low: -1, high: chain.length - 1 },
          earlier,
        );
      }
    }
    if (controller) {
      return {
        suggestion: {
          step: refOf(controller),
          reason: sameFrame(controller, step)
            ? `${here(step)} should not have run; this branch decided that it would.`
            : `${here(step)} should not have run; it handles the exception thrown here.`,
          rootCause: false,
        },
        suspicion: { kind: 'controller', of: refOf(step) },
      };
    }
    const caller = this.parentOf(step);
    // The call was already judged right (an earlier wrong-path step of this invocation asked):
    // go on walking back through the invocation instead of asking about the call again.
    if (caller && this.judgedRight(caller, earlier)) {
      return this.walkBackFrom(step, caller);
    }
    if (caller) {
      return {
        suggestion: {
          step: refOf(caller),
          reason: `${here(step)} runs whenever ${step.method} is called; this call made it run.`,
          rootCause: false,
        },
        suspicion: { kind: 'controller', of: refOf(step) },
      };
    }
    return this.found(step, 'Nothing decided that this step would run: its own line is suspect.');
  }

  /**
   * A loop condition ran again where it should not have, and the person said so at this line
   * before: the loop ran too many rounds. Walking back one round per feedback would cost as
   * many feedbacks as extra rounds, so the rounds are searched by halves instead.
   */
  private repeatsWrongPath(
    step: TraceStep,
    controller: TraceStep,
    earlier: readonly HistoryEntry[],
  ): boolean {
    if (!sameFrame(controller, step) || !this.sameLineRunBefore(step)) return false;
    return earlier.some((entry) => {
      if (entry.feedback.kind !== 'wrong-path' || sameStep(entry.feedback.step, step)) return false;
      const judged = this.view.step(entry.feedback.step);
      return judged !== undefined && locationOf(judged) === locationOf(step);
    });
  }

  /**
   * The runs of `step`'s line that led to it, each controlling the next (directly, or through
   * one other decision of the loop: a for-each loop's `if` in its body and its closing brace,
   * which fetches the next element, control each other), oldest first.
   */
  private loopConditionRuns(step: TraceStep): StepRef[] {
    const runs: StepRef[] = [refOf(step)];
    for (let run = this.sameLineRunBefore(step); run; run = this.sameLineRunBefore(run)) {
      if (runs.length >= CHAIN_LIMIT) break;
      runs.push(refOf(run));
    }
    return runs.reverse();
  }

  /** The previous run of the step's line up its control chain, at most two decisions up. */
  private sameLineRunBefore(step: TraceStep): TraceStep | undefined {
    let run = this.controlOf(step);
    for (let hop = 0; run && sameFrame(run, step) && hop < 2; hop++) {
      if (locationOf(run) === locationOf(step)) return run;
      run = this.controlOf(run);
    }
    return undefined;
  }

  /**
   * Binary search for the first round that should not have run. Once found, the round before
   * it decided to go on: its judgement is that of the decision (a wrong value it read, or a
   * right decision with something wrong just before the next round).
   */
  private bisectPath(
    search: Extract<Suspicion, { kind: 'path-bisect' }>,
    earlier: readonly HistoryEntry[],
  ): State {
    const { chain, low, high } = search;
    if (high - low <= 1) {
      const first = this.view.step(chain[high])!;
      if (low < 0) return this.onWrongPath(first, earlier);
      const decision: State = {
        suggestion: { step: chain[low], reason: '', rootCause: false },
        suspicion: { kind: 'controller', of: refOf(first) },
      };
      return this.apply(decision, search.lowAnswer!, earlier);
    }
    const probe = Math.floor((low + high) / 2);
    const step = this.view.step(chain[probe])!;
    return {
      suggestion: {
        step: chain[probe],
        reason:
          `${here(step)} ran ${chain.length} times in a row, and runs you judged should not ` +
          `have: binary search for the first run that should not have happened (run ` +
          `${probe + 1} of ${chain.length}).`,
        rootCause: false,
      },
      suspicion: search,
    };
  }

  private onPathProbe(
    step: TraceStep,
    feedback: Feedback,
    search: Extract<Suspicion, { kind: 'path-bisect' }>,
    earlier: readonly HistoryEntry[],
  ): State {
    const probe = search.chain.findIndex((s) => sameStep(s, step));
    if (feedback.kind === 'unclear') return this.onUnclear(step);
    if (feedback.kind === 'wrong-path') return this.bisectPath({ ...search, high: probe }, earlier);
    return this.bisectPath({ ...search, low: probe, lowAnswer: feedback }, earlier);
  }

  /**
   * The decision that let a wrong-path step run decided as it should (or a step walked back to
   * did all it should): execution left the right route between the decision and the wrong-path
   * step, in their invocation (a call whose result was ignored, a statement that fell through).
   * Those steps are asked latest first; reaching the decision leaves it as the likeliest place.
   */
  private onRightDecision(
    judged: TraceStep,
    suspicion: Extract<Suspicion, { kind: 'controller' }>,
  ): State {
    const caught = this.wronglyCaught(judged, suspicion);
    if (caught) return caught;
    const decision = suspicion.decision ? this.view.step(suspicion.decision)! : judged;
    const wrong = this.view.step(suspicion.of)!;
    if (!sameFrame(decision, wrong)) {
      // The call was right, and so is the step of its invocation just judged: execution should
      // have left the invocation (or skipped ahead) right after it.
      if (suspicion.decision) {
        return this.found(
          wrong,
          'Its method was rightly called and the steps before it ran as they should, yet this ' +
            'step should not have run: a guard around it (an `else`, or a `return` or `throw` ' +
            'before it) is missing.',
        );
      }
      return this.walkBackFrom(wrong, decision);
    }
    let from = suspicion.decision ? judged : wrong;
    if (!sameFrame(from, wrong)) {
      // The step a call of the line returned from was right: go on before the calling part.
      from = (from.invocationParent && this.view.step(from.invocationParent)) ?? wrong;
    } else {
      const returnedFrom = this.returnedJustBefore(from);
      if (returnedFrom) {
        return {
          suggestion: {
            step: refOf(returnedFrom),
            reason:
              `${here(decision)} decided as it should, yet ${here(wrong)} should not have run: ` +
              `${here(from)} went on after ${returnedFrom.method} returned from this step.`,
            rootCause: false,
          },
          suspicion: { kind: 'controller', of: suspicion.of, decision: refOf(decision) },
        };
      }
    }
    const before = this.previousInFrame(from);
    if (!before || before.seq <= decision.seq) {
      // Judged right, the decision went the right way too: nothing between it and this step
      // did wrong, so the step itself should not be there (`finally` where `catch` was meant).
      return this.found(
        wrong,
        `${here(decision)} decided as it should and nothing ran wrongly in between, yet this ` +
          'step should not have run: its statement is wrong or misplaced (a guard, `catch` or ' +
          '`return` is missing around it).',
      );
    }
    return {
      suggestion: {
        step: refOf(before),
        reason:
          `${here(decision)} decided as it should, yet ${here(wrong)} should not have run: ` +
          `execution left the right route in between; this step ran just before.`,
        rootCause: false,
      },
      suspicion: { kind: 'controller', of: suspicion.of, decision: refOf(decision) },
    };
  }

  /**
   * `wrong` should not have run, though the call of its method (`call`) read right values and
   * nothing in the method decided that it would: the step before it in its invocation is asked
   * next. When `wrong` is the method's first step, the call itself went the wrong way.
   */
  private walkBackFrom(wrong: TraceStep, call: TraceStep): State {
    // The line went on after a call of it returned (`holds = allocate(r)`): the call should
    // perhaps have ended otherwise (thrown, as the fixed `catch ... throw e` does), so the step
    // it returned from ran just before this one.
    const returnedFrom = this.returnedJustBefore(wrong);
    if (returnedFrom) {
      return {
        suggestion: {
          step: refOf(returnedFrom),
          reason:
            `${here(call)} rightly called ${wrong.method}, yet ${here(wrong)} should not have ` +
            `run; it went on after ${returnedFrom.method} returned from this step.`,
          rootCause: false,
        },
        suspicion: { kind: 'controller', of: refOf(wrong), decision: refOf(call) },
      };
    }
    let before = this.previousInFrame(wrong);
    // Earlier parts of the same line (split by calls) are the same statement.
    while (before && before.line === wrong.line) before = this.previousInFrame(before);
    // The method's first step: the call read right values but called what it should not have
    // (`new RejectedParcel(...)` for `new HeldParcel(...)`).
    if (!before) {
      return this.found(
        call,
        'This step read correct values but sent execution the wrong way: its condition ' +
          '(or call) is wrong.',
      );
    }
    return {
      suggestion: {
        step: refOf(before),
        reason:
          `${here(call)} rightly called ${wrong.method}, yet ${here(wrong)} should not have ` +
          `run; this step ran just before it.`,
        rootCause: false,
      },
      suspicion: { kind: 'controller', of: refOf(wrong), decision: refOf(call) },
    };
  }

  /**
   * Where `step` resumes its line after a call the line made: the last step of that call's own
   * invocation (the one it returned from), else undefined. Not for a call of one step (a
   * getter): it had no other way to end.
   */
  private returnedJustBefore(step: TraceStep): TraceStep | undefined {
    const earlierPart = this.previousInFrame(step);
    if (!earlierPart || earlierPart.line !== step.line) return undefined;
    let last: TraceStep | undefined;
    // Bounded: a long call's own steps may lie far back, under its callees' steps.
    const stop = Math.max(earlierPart.order, step.order - 1 - BETWEEN_LIMIT);
    for (const candidate of this.walk(step.threadId, step.order - 1, stop)) {
      if (!sameStep(candidate.invocationParent, earlierPart)) continue;
      if (last) return last;
      last = candidate;
    }
    return undefined;
  }

  private walkingBackThroughCall(suspicion: Extract<Suspicion, { kind: 'controller' }>): boolean {
    if (!suspicion.decision) return false;
    const call = this.view.step(suspicion.decision);
    const wrong = this.view.step(suspicion.of);
    return call !== undefined && wrong !== undefined && !sameFrame(call, wrong);
  }

  /** The person said the step did all it should (correct, or right but later stale). */
  private judgedRight(step: TraceStep, earlier: readonly HistoryEntry[]): boolean {
    return earlier.some(
      (entry) =>
        sameStep(entry.feedback.step, step) &&
        (entry.feedback.kind === 'missing-update' || entry.feedback.kind === 'correct'),
    );
  }

  /**
   * The throw that a wrong-path handler caught was right: the exception should have gone
   * elsewhere, so the handler's own catch clause is at fault, not the throw.
   */
  private wronglyCaught(
    judged: TraceStep,
    suspicion: Extract<Suspicion, { kind: 'controller' }>,
  ): State | undefined {
    const handler = this.view.step(suspicion.of);
    if (suspicion.decision || handler?.caught === undefined) return undefined;
    if (!sameStep(handler.controlDominator, judged)) return undefined;
    return this.found(
      handler,
      'The exception was thrown as it should be, but this handler should not have caught it: ' +
        'its catch clause (the types it names, or the code its try block covers) is wrong.',
    );
  }

  /** The step of the same invocation that ran just before `step` (bounded backward search). */
  private previousInFrame(step: TraceStep): TraceStep | undefined {
    return this.neighbourInFrame(step, -1);
  }

  private nextInFrame(step: TraceStep): TraceStep | undefined {
    return this.neighbourInFrame(step, 1);
  }

  /** The closest step of the same invocation before (-1) or after (1) `step`, within reach. */
  private neighbourInFrame(step: TraceStep, direction: -1 | 1): TraceStep | undefined {
    const from = step.order + direction;
    const to = Math.max(0, from + direction * BETWEEN_LIMIT);
    for (const candidate of this.walk(step.threadId, from, to)) {
      if (sameFrame(candidate, step)) return candidate;
    }
    return undefined;
  }

  /**
   * The steps of a thread from order `from` towards order `to` (excluded), forwards or
   * backwards, skipping orders the view does not hold.
   */
  private *walk(threadId: number, from: number, to: number): Generator<TraceStep> {
    const direction = to >= from ? 1 : -1;
    for (let order = from; order !== to; order += direction) {
      const step = this.view.step({ threadId, order });
      if (step) yield step;
    }
  }

  // ---- missing update ------------------------------------------------------------------------

  /**
   * The writer was right and the reader saw a stale value: something between them should have
   * updated it. Candidates, most likely first: runs of the decision guarding the writer that
   * did not lead to an update this time (a branch not taken, a loop that stopped early), writes
   * of other elements of the same array, runs of the decisions guarding the variable's other
   * assignments, then the first run of each line that ran in between.
   */
  private onMissingUpdate(
    writer: TraceStep,
    suspicion: Extract<Suspicion, { kind: 'writer' }>,
  ): State {
    const reader = this.view.step(suspicion.reader);
    const read = reader?.reads.find(
      (r) => describeAccess(r) === suspicion.variable && sameStep(r.writer, writer),
    );
    const candidates =
      reader && read && reader.threadId === writer.threadId
        ? this.updateCandidates(writer, reader, read)
        : [];
    return this.nextUpdateCandidate({
      kind: 'update',
      candidates,
      index: -1,
      writer: refOf(writer),
      reader: suspicion.reader,
      variable: suspicion.variable,
    });
  }

  /** The first step after `reader` that wrote the variable it read (bounded forward search). */
  private firstWriteAfter(reader: TraceStep, read: TraceAccess): TraceStep | undefined {
    if (read.kind !== 'field' && read.kind !== 'static') return undefined;
    const writes = (w: TraceAccess) =>
      w.kind === read.kind && w.name === read.name && w.owner === read.owner;
    for (const step of this.walk(
      reader.threadId,
      reader.order + 1,
      reader.order + 1 + BETWEEN_LIMIT,
    )) {
      if (step.writes.some(writes)) return step;
    }
    return undefined;
  }

  /**
   * The latest and the earliest step (within BETWEEN_LIMIT) before `reader` that wrote another
   * element or field of the read's owner.
   */
  private siblingWrites(
    reader: TraceStep,
    read: TraceAccess,
  ): { latest?: TraceStep; earliest?: TraceStep } {
    if ((read.kind !== 'array' && read.kind !== 'field') || read.owner === undefined) return {};
    const stop = Math.max(0, reader.order - 1 - BETWEEN_LIMIT);
    let latest: TraceStep | undefined;
    let earliest: TraceStep | undefined;
    for (const step of this.walk(reader.threadId, reader.order - 1, stop)) {
      if (!step.writes.some((w) => w.kind === read.kind && w.owner === read.owner)) continue;
      latest ??= step;
      earliest = step;
    }
    return { latest, earliest };
  }

  private updateCandidates(
    writer: TraceStep,
    reader: TraceStep,
    read: TraceAccess,
    options: { neverWritten?: boolean } = {},
  ): StepRef[] {
    // Bounded: on a long trace the read may come millions of steps after the write; the
    // update's first chances come right after the write.
    const first = writer.order + 1;
    const end = Math.max(first, Math.min(reader.order, first + BETWEEN_LIMIT));
    const between = [...this.walk(writer.threadId, first, end)];
    const assigns = (step: TraceStep) =>
      step.writes.some((w) => w.kind === read.kind && w.name === read.name);
    // The decisions above each assignment in its invocation led to it; the lines of those in
    // the writer's invocation guard the variable's updates.
    const led = new Set<string>();
    const guards = new Set<string>();
    for (const step of [...between, reader]) {
      if (!assigns(step)) continue;
      for (const decision of this.guardsOf(step)) led.add(stepId(decision));
      const control = this.controlOf(step);
      if (control && sameFrame(control, writer)) guards.add(locationOf(control));
    }
    const skipped = this.skippedUpdates(writer, between, led);
    const assigned = between.some(assigns) || assigns(reader);
    // Lines that assign the variable in other runs of the method (the update that never ran
    // here ran there): the runs of their guards in between, latest first, are where it was
    // skipped (a loop that stopped one short never reached the assignment at all).
    const guardedElsewhere = this.guardsOfAssignmentsElsewhere(writer, reader, read);
    const skippedElsewhere = between
      .filter(
        (s) =>
          guardedElsewhere.has(locationOf(s)) &&
          sameFrame(s, writer) &&
          !led.has(stepId(s)) &&
          !skipped.includes(s),
      )
      .sort((a, b) => b.seq - a.seq)
      .slice(0, MAX_UPDATE_CANDIDATES);
    // Steps that wrote another element of the array, or another field of the object.
    const siblings =
      read.owner === undefined || (read.kind !== 'array' && read.kind !== 'field')
        ? []
        : between.filter((s) =>
            s.writes.some(
              (w) => w.kind === read.kind && w.owner === read.owner && w.name !== read.name,
            ),
          );
    const siblingWrites = read.kind === 'array' ? siblings : [];
    // Another field of the same object written in between (`rx.refillsLeft--` where
    // `rx.lastFilled = day` should have followed), or a collection it holds changed
    // (`d.guests.add(name)` where `d.free -= n` was due too): an update of an object is usually
    // made next to its other updates, and next to the call that made them from a callee
    // (`addGuests(best, g)`). Latest first: the read went stale after the last one.
    const fieldSiblings =
      read.kind === 'field'
        ? this.withTheirCalls(
            [...siblings, ...this.heldStateChanges(between, read)].sort((a, b) => b.seq - a.seq),
            between,
          )
        : [];
    const decisions = between.filter(
      (s) => guards.has(locationOf(s)) && sameFrame(s, writer) && !led.has(stepId(s)),
    );
    const elementSkips = this.runsThatWroteNoElement(between, siblingWrites, writer, read).filter(
      (s) => !skipped.includes(s) && !skippedElsewhere.includes(s),
    );
    // The field written on another object of its class in between (`color.print(job)` where
    // `mono.print(job)` was meant, `s.stored += t` on the wrong silo): the calls, or the steps
    // themselves at the top of a thread, that took the update elsewhere.
    const elsewhere = this.callsThatUpdatedAnotherObject(between, read);
    const misdirected = elsewhere.calls.filter(
      (s) => !skipped.includes(s) && !skippedElsewhere.includes(s),
    );
    // Nothing assigned it, here or in other runs of the method: the code that would have
    // (`faults.add(...)` under `if (streak == 3)`) never ran, and the runs of its guard are
    // where it was kept from running.
    const keptFromRunning =
      assigned || guardedElsewhere.size > 0
        ? []
        : this.runsGuardingUnrunUpdates(writer, read, between).filter(
            (s) => !skipped.includes(s) && !skippedElsewhere.includes(s),
          );
    // The reader is a decision that uses an object's field (`if (hour - lastTurnHour >= N)`):
    // where its earlier runs led, the update usually closes the branch (`lastTurnHour = hour`).
    const branchEnds = (
      read.kind === 'field' ? this.endsOfEarlierRuns(reader, between) : []
    ).filter((s) => !skipped.includes(s) && !skippedElsewhere.includes(s));
    const targeted = [
      ...skipped,
      ...skippedElsewhere,
      ...keptFromRunning,
      ...(options.neverWritten ? misdirected : []),
      ...elementSkips,
    ];
    const nearSiblings = [
      ...fieldSiblings,
      ...this.withTheirCalls(this.otherFieldsOfItsClass(between, read), between),
    ].filter((s, i, all) => !targeted.includes(s) && all.indexOf(s) === i);
    const others = [...new Set([...siblingWrites, ...decisions])]
      .filter((s) => !targeted.includes(s) && !nearSiblings.includes(s))
      .sort((a, b) => a.seq - b.seq);
    // After those: where the branch that used the field ends, and (when the field was written
    // before, so its object had its updates) the same field's updates on other objects.
    const later = [...branchEnds, ...(options.neverWritten ? [] : misdirected)].filter(
      (s, i, all) => !targeted.includes(s) && !nearSiblings.includes(s) && all.indexOf(s) === i,
    );
    // An assignment elsewhere that did not run for this object (`l.water *= 0.9` under a wrong
    // `if`), or a method making it that was not called (`if (m == null) { ...; return; }
    // m.earn(points)`): the runs of the decisions that kept them from running.
    const uncalled = this.runsKeepingUpdatesAway(writer, read, between).filter(
      (s) => !targeted.includes(s) && !nearSiblings.includes(s),
    );
    const likely = [
      ...targeted,
      ...nearSiblings,
      ...uncalled,
      ...later.filter((s) => !uncalled.includes(s)),
      ...others.filter((s) => !later.includes(s) && !uncalled.includes(s)),
    ];
    const ranBetween = this.codeRunBetween(between, likely, reader, writer);
    return this.judgedPatternLast(writer, [
      ...likely,
      ...ranBetween,
      ...elsewhere.assignments.filter((s) => !likely.includes(s) && !ranBetween.includes(s)),
    ]).map(refOf);
  }

  /**
   * Runs in the writer's invocation of the decisions that kept a line of the writer's method
   * from running, where the line's source text updates the read's variable (an assignment, or a
   * call that changes the collection it holds) and no run updated it. A decision's run kept the
   * line from running when nothing it led to was the line, or the next decision nested towards
   * it (`if (same) { streak++; if (streak == 3) faults.add(..); } else streak = 1;`: the runs of
   * the inner `if`, then those of the outer one that took the `else`). Innermost decisions
   * first, each latest first. Needs the code behind the trace; without it, none.
   */
  private runsGuardingUnrunUpdates(
    writer: TraceStep,
    read: TraceAccess,
    between: readonly TraceStep[],
  ): TraceStep[] {
    const code = this.view.code;
    const updates = code && updatesInText(read);
    if (!code || !updates) return [];
    const inFrame = between.filter((s) => sameFrame(s, writer));
    const found = new Set<TraceStep>();
    for (const line of code.lines(writer.className, writer.method)) {
      const text = code.sourceLine(writer.className, line);
      if (line === writer.line || !text || !updates(text.replace(/\/\/.*$/, ''))) continue;
      // Outwards from the line, one decision at a time, up to the loop around them.
      let towards = line;
      for (let depth = 0; depth < MAX_GUARD_DEPTH; depth++) {
        const [guard] = code.guardsOfLine(writer.className, writer.method, towards);
        const runs = inFrame.filter((s) => s.line === guard);
        if (guard === undefined || runs.some((s) => this.isLoopCondition(s))) break;
        const kept = runs.filter(
          (run) => !stepsUnder(run, inFrame).some((s) => s.line === towards),
        );
        for (const run of kept.sort((a, b) => b.seq - a.seq)) found.add(run);
        towards = guard;
      }
    }
    return [...found].slice(0, MAX_UPDATE_CANDIDATES);
  }

  /**
   * For a field: where the source assigns it outside the writer's method (`l.water *= 0.9` under
   * `if (l.age > FIRN_AGE)`), the runs in `between` of the decisions around that line that read
   * the field's object and did not lead to it; and where the source calls a method that assigns
   * it (`m.earn(points)` after `if (m == null) return`), the latest run of each decision around
   * the call that did not lead to it. Decisions innermost first, up to MAX_GUARD_DEPTH out.
   * Needs the code behind the trace.
   */
  private runsKeepingUpdatesAway(
    writer: TraceStep,
    read: TraceAccess,
    between: readonly TraceStep[],
  ): TraceStep[] {
    const code = this.view.code;
    const updates = (read.kind === 'field' || read.kind === 'static') && updatesInText(read);
    if (!code || !updates) return [];
    const textOf = (className: string, line: number) =>
      code.sourceLine(className, line)?.replace(/\/\/.*$/, '') ?? '';
    const methods = code.methods();
    const found: TraceStep[] = [];
    const updating = new Set<string>();
    const readsTheObject = (s: TraceStep) =>
      read.owner !== undefined && s.reads.some((r) => r.owner === read.owner);
    for (const { className, method } of methods) {
      for (const line of code.lines(className, method)) {
        if (!updates(textOf(className, line))) continue;
        updating.add(method);
        if (method === writer.method && className === writer.className) continue;
        const kept = this.keptAwayRuns(className, method, line, between)
          .filter(readsTheObject)
          .sort((a, b) => b.seq - a.seq);
        found.push(...kept.slice(0, MAX_KEPT_AWAY_RUNS));
      }
    }
    const names = [...updating].filter((name) => /^[A-Za-z_$][\w$]*$/.test(name));
    if (names.length === 0) return [...new Set(found)].slice(0, MAX_UPDATE_CANDIDATES);
    const calls = new RegExp(`\\b(?:${names.join('|')})\\s*\\(`);
    for (const { className, method } of methods) {
      if (updating.has(method)) continue;
      for (const line of code.lines(className, method)) {
        if (!calls.test(textOf(className, line))) continue;
        // The latest run of each decision only: the others kept the call away alike, and a
        // loop's runs would crowd out every other candidate.
        const latestPerGuard = new Map<number, TraceStep>();
        for (const run of this.keptAwayRuns(className, method, line, between)) {
          const known = latestPerGuard.get(run.line);
          if (!known || run.seq > known.seq) latestPerGuard.set(run.line, run);
        }
        found.push(...latestPerGuard.values());
      }
    }
    return [...new Set(found)].slice(0, MAX_UPDATE_CANDIDATES);
  }

  /**
   * The runs in `between` of the decisions around a line of a method (innermost first, up to
   * MAX_GUARD_DEPTH out) that did not lead to it, or to the next decision nested towards it.
   */
  private keptAwayRuns(
    className: string,
    method: string,
    line: number,
    between: readonly TraceStep[],
  ): TraceStep[] {
    const code = this.view.code;
    if (!code) return [];
    const inMethod = between.filter((s) => s.className === className && s.method === method);
    const runs: TraceStep[] = [];
    let towards = line;
    for (const guard of code.guardsOfLine(className, method, line).slice(0, MAX_GUARD_DEPTH)) {
      // The decision runs that led to the line: those above a run of it, a few levels up in
      // its invocation (one pass, rather than a walk under each run of the decision).
      const led = new Set<string>();
      for (const step of inMethod) {
        if (step.line !== towards) continue;
        let above = this.controlOf(step);
        for (let level = 0; above && sameFrame(above, step) && level <= MAX_GUARD_DEPTH; level++) {
          led.add(stepId(above));
          above = this.controlOf(above);
        }
      }
      runs.push(...inMethod.filter((s) => s.line === guard && !led.has(stepId(s))));
      towards = guard;
    }
    return runs;
  }

  /**
   * Earlier runs in `between` of the reader's line that led somewhere (it is a decision): the
   * last step each led to (where a branch ends and an update of what it decided on belongs),
   * earliest run first.
   */
  private endsOfEarlierRuns(reader: TraceStep, between: readonly TraceStep[]): TraceStep[] {
    const runs = between
      .filter((s) => locationOf(s) === locationOf(reader))
      .slice(0, MAX_UPDATE_CANDIDATES);
    const ends: TraceStep[] = [];
    for (const run of runs) {
      const under = stepsUnder(run, between);
      if (under.length > 0) ends.push(under[under.length - 1]);
    }
    return ends;
  }

  /**
   * The calls, earliest first, under which a step in `between` assigned the read's field on
   * another object of the same class (the step itself where no call of the trace ran it).
   */
  private callsThatUpdatedAnotherObject(
    between: readonly TraceStep[],
    read: TraceAccess,
  ): { calls: TraceStep[]; assignments: TraceStep[] } {
    const ofItsClass = fieldOfItsClass(read);
    if (!ofItsClass) return { calls: [], assignments: [] };
    const calls = new Map<string, TraceStep>();
    const assignments: TraceStep[] = [];
    for (const step of between) {
      const elsewhere = step.writes.some(
        (w) => ofItsClass(w) && w.name === read.name && w.owner !== read.owner,
      );
      if (!elsewhere) continue;
      const call = this.parentOf(step) ?? step;
      if (!calls.has(stepId(call))) calls.set(stepId(call), call);
      // Asked later, after every other likely candidate, the assignment itself: a call that
      // did all its caller asked may still have updated the wrong object (`single.pieces -=
      // need` on the batch a helper picked).
      if (call !== step) assignments.push(step);
    }
    return { calls: [...calls.values()], assignments };
  }

  /**
   * A field no object of its class had assigned in between: the steps outside constructors that
   * assigned other fields of objects of that class (`p.nightsSold += n` in `book`, where
   * `p.freeFrom = r.departure()` was due too, on whichever pitch was booked), earliest first:
   * the first booking already lacked it, and the later ones may have booked the wrong pitch.
   */
  private otherFieldsOfItsClass(between: readonly TraceStep[], read: TraceAccess): TraceStep[] {
    const ofItsClass = fieldOfItsClass(read);
    if (!ofItsClass) return [];
    const assignedAnywhere = between.some((s) =>
      s.writes.some((w) => ofItsClass(w) && w.name === read.name),
    );
    if (assignedAnywhere) return [];
    return between
      .filter(
        (s) =>
          s.method !== '<init>' &&
          s.writes.some((w) => ofItsClass(w) && w.name !== read.name && w.owner !== read.owner),
      )
      .slice(0, MAX_UPDATE_CANDIDATES);
  }

  /** Steps in `between` that changed a library object held in another field of the read's object. */
  private heldStateChanges(between: readonly TraceStep[], read: TraceAccess): TraceStep[] {
    return between.filter((step) =>
      step.reads.some(
        (held) =>
          held.kind === 'field' &&
          held.owner === read.owner &&
          held.name !== read.name &&
          step.writes.some((w) => w.kind === 'library' && w.owner === held.value),
      ),
    );
  }

  /** Each step, then the call that ran it when that call lies in `between` too (once each). */
  private withTheirCalls(steps: readonly TraceStep[], between: readonly TraceStep[]): TraceStep[] {
    const first = between[0]?.seq ?? Infinity;
    const result: TraceStep[] = [];
    const seen = new Set<string>();
    const add = (step: TraceStep) => {
      if (seen.has(stepId(step))) return;
      seen.add(stepId(step));
      result.push(step);
    };
    for (const step of steps) {
      add(step);
      const call = this.parentOf(step);
      if (call && call.seq >= first && call.seq < step.seq) add(call);
    }
    return result;
  }

  /** A run of a loop's condition: controlled by the previous run of its own line. */
  private isLoopCondition(step: TraceStep): boolean {
    const control = this.controlOf(step);
    return control !== undefined && locationOf(control) === locationOf(step);
  }

  /**
   * The writer was judged right, and the other rounds of its loop (its line and the loop
   * condition that repeats it, in its invocation) follow the pattern already judged: a loop
   * filling an array with `seats[i] = '.'` did the same right thing each round. Microbat skips
   * such rounds; here they are asked last, after every other candidate.
   */
  private judgedPatternLast(writer: TraceStep, candidates: readonly TraceStep[]): TraceStep[] {
    const control = this.controlOf(writer);
    const pattern = new Set([roundKey(writer)]);
    // A branch's runs each decide on other data (the run that skipped the update is the one
    // to find); only a loop condition repeats the rounds.
    if (control && sameFrame(control, writer) && this.isLoopCondition(control)) {
      pattern.add(roundKey(control));
    }
    // The round that ended the loop decided otherwise than the pattern: it keeps its place
    // (a loop that stopped one short).
    const others: TraceStep[] = [];
    const rounds: TraceStep[] = [];
    for (const step of candidates) {
      const isRound =
        pattern.has(roundKey(step)) && (step === writer || !this.endedLoop(step, control));
      (isRound ? rounds : others).push(step);
    }
    return [...others, ...rounds];
  }

  /** A run of the loop condition `control`'s line after which the loop body did not run. */
  private endedLoop(step: TraceStep, control: TraceStep | undefined): boolean {
    if (!control || roundKey(step) !== roundKey(control)) return false;
    const next = this.nextInFrame(step);
    return !next || !sameStep(next.controlDominator, step);
  }

  /**
   * An element that missed its update while its siblings got theirs (`if (parent < n)
   * tree[parent] += tree[i]` in a loop): the runs of the decision guarding the sibling writes,
   * in the writer's invocation, that wrote no element are where one was skipped. Branches
   * first, latest first; then the runs of a loop condition guarding them that ended the loop
   * (`start + WINDOW < HOURS` stopping one round before the last element's turn).
   */
  private runsThatWroteNoElement(
    between: readonly TraceStep[],
    siblingWrites: readonly TraceStep[],
    writer: TraceStep,
    read: TraceAccess,
  ): TraceStep[] {
    const guardLines = new Set<string>();
    const wrote = new Set<string>();
    for (const write of siblingWrites) {
      const control = this.controlOf(write);
      if (!control || !sameFrame(control, writer)) continue;
      guardLines.add(locationOf(control));
      wrote.add(stepId(control));
    }
    const loopLines = new Set(
      between.filter((s) => this.isLoopCondition(s)).map((s) => locationOf(s)),
    );
    const wroteNothing = between
      .filter((s) => guardLines.has(locationOf(s)) && sameFrame(s, writer) && !wrote.has(stepId(s)))
      .sort((a, b) => b.seq - a.seq);
    // A loop condition's other runs that wrote nothing ran the body, which wrote through
    // another path or later: only the run that ended the loop can have skipped a turn, and
    // only if the element read would have been its next one (its writes went up by a stride
    // that lands on it: `totals[start]` for start 0..8, and [9] missing).
    const branches = wroteNothing.filter((s) => !loopLines.has(locationOf(s)));
    const loopExits = wroteNothing.filter(
      (s) =>
        loopLines.has(locationOf(s)) &&
        !sameStep(this.nextInFrame(s)?.controlDominator, s) &&
        this.nextElementWouldBe(s, siblingWrites, read),
    );
    return [...branches, ...loopExits].slice(0, MAX_UPDATE_CANDIDATES);
  }

  /** The last two sibling writes before the loop's end step apart by the stride to the read's index. */
  private nextElementWouldBe(
    loopEnd: TraceStep,
    siblingWrites: readonly TraceStep[],
    read: TraceAccess,
  ): boolean {
    const indexIn = (step: TraceStep) => {
      const write = step.writes.find((w) => w.kind === 'array' && w.owner === read.owner);
      return write ? elementIndex(write.name) : undefined;
    };
    const before = siblingWrites.filter((w) => w.seq < loopEnd.seq && sameFrame(w, loopEnd));
    const last = before.length > 0 ? indexIn(before[before.length - 1]) : undefined;
    const previous = before.length > 1 ? indexIn(before[before.length - 2]) : undefined;
    const wanted = elementIndex(read.name);
    if (last === undefined || wanted === undefined) return false;
    const stride = previous === undefined ? 1 : last - previous;
    return stride !== 0 && last + stride === wanted;
  }

  /**
   * Locations of the decisions guarding assignments of the read variable in other runs of the
   * writer's method, found in a bounded stretch of the trace before the writer and after the
   * reader. An array element counts as its array's variable (`best[...]`), whichever element.
   */
  private guardsOfAssignmentsElsewhere(
    writer: TraceStep,
    reader: TraceStep,
    read: TraceAccess,
  ): Set<string> {
    const variable = variableOf(reader, read);
    const guards = new Set<string>();
    if (!variable) return guards;
    const assigns = (step: TraceStep) =>
      step.className === writer.className &&
      step.method === writer.method &&
      step.writes.some((w) => variableOf(step, w) === variable);
    const look = (from: number, to: number) => {
      for (const step of this.walk(writer.threadId, from, to)) {
        if (assigns(step)) for (const g of this.guardsOf(step)) guards.add(locationOf(g));
      }
    };
    look(Math.max(1, writer.order - ELSEWHERE_LIMIT), writer.order);
    look(reader.order + 1, reader.order + 1 + ELSEWHERE_LIMIT);
    return guards;
  }

  /**
   * Runs of the decisions that guard the writer, after the write, that did not lead to an
   * assignment of the variable (`led` holds those that did), each followed by the first run of
   * each line it controlled: the update was most likely skipped there, by the decision or in
   * the branch it took, which lacks it. The writer's own branch first, earliest run first (the
   * first chance to update); then the loops around it, latest run first (a loop that stopped
   * early stopped at its last run).
   */
  private skippedUpdates(
    writer: TraceStep,
    between: readonly TraceStep[],
    led: ReadonlySet<string>,
  ): TraceStep[] {
    const guards = this.guardsOf(writer).map(locationOf);
    if (guards.length === 0) return [];
    const guardLines = new Set(guards);
    const skippedAt = (line: string) =>
      between.filter((s) => locationOf(s) === line && sameFrame(s, writer) && !led.has(stepId(s)));
    const ownBranch = skippedAt(guards[0]);
    const loops = guards
      .slice(1)
      .flatMap(skippedAt)
      .sort((a, b) => b.seq - a.seq);
    const seen = new Set<string>();
    const found: TraceStep[] = [];
    for (const decision of [...ownBranch, ...loops]) {
      if (found.length >= MAX_UPDATE_CANDIDATES) break;
      found.push(decision);
      for (const step of stepsUnder(decision, between)) {
        if (seen.has(locationOf(step)) || guardLines.has(locationOf(step))) continue;
        seen.add(locationOf(step));
        found.push(step);
      }
    }
    return found;
  }

  /**
   * The code that ran between the write and the read: the first run of each line, in execution
   * order, the reader's invocation first, then the writer's, then the rest. The missing update most
   * likely belonged right after one of them (a statement the code lacks, an `if` that skipped
   * it), and a line's first run after the write is the first chance it had.
   */
  private codeRunBetween(
    between: readonly TraceStep[],
    already: readonly TraceStep[],
    reader: TraceStep,
    writer: TraceStep,
  ): TraceStep[] {
    const seen = new Set([locationOf(writer), locationOf(reader), ...already.map(locationOf)]);
    const firstRuns: TraceStep[] = [];
    const methodOf = (step: TraceStep) => `${step.className}.${step.method}`;
    const ownMethods = new Set([methodOf(reader), methodOf(writer)]);
    // The reader's invocation, then the writer's, then other invocations of their methods (the
    // code that keeps the variable, on another path: a `catch` that should have reset it), then
    // any other (a callee or caller that ran in between, e.g. a method that should have updated
    // a field).
    const tiers: ((step: TraceStep) => boolean)[] = [
      (step) => sameFrame(step, reader),
      (step) => sameFrame(step, writer),
      (step) => ownMethods.has(methodOf(step)),
      () => true,
    ];
    for (const inTier of tiers) {
      between.forEach((step, index) => {
        if (firstRuns.length >= MAX_UPDATE_CANDIDATES) return;
        if (!inTier(step) || seen.has(locationOf(step))) return;
        seen.add(locationOf(step));
        firstRuns.push(lastPartOfLine(between, index));
      });
    }
    return firstRuns;
  }

  /**
   * Suggests the next candidate for a missing update (`missing-update` on a candidate: it did
   * all it should, try the next; `correct`: right inputs, wrong effect, it is the fault).
   */
  private nextUpdateCandidate(search: Extract<Suspicion, { kind: 'update' }>): State {
    const index = search.index + 1;
    if (index >= search.candidates.length) {
      return this.found(
        this.view.step(search.reader)!,
        `This step read a stale ${search.variable}: it was right when written at ` +
          `${here(this.view.step(search.writer)!)}, and nothing that ran in between was meant ` +
          `to update it. The update is missing before this line.`,
      );
    }
    return {
      suggestion: {
        step: search.candidates[index],
        reason:
          `${search.variable} was right when written but stale when read: this step, in ` +
          `between, may have been meant to update it (candidate ${index + 1} of ` +
          `${search.candidates.length}).`,
        rootCause: false,
      },
      suspicion: { ...search, index },
    };
  }

  /**
   * The decisions above a step in its invocation, innermost first, one run per line: a loop
   * condition is controlled by its own previous run, so the walk stops where a line repeats
   * (bounded by the nesting depth, not by the number of iterations).
   */
  private guardsOf(step: TraceStep): TraceStep[] {
    const guards: TraceStep[] = [];
    const lines = new Set<string>();
    for (let c = this.controlOf(step); c && sameFrame(c, step); c = this.controlOf(c)) {
      if (lines.has(locationOf(c))) break;
      lines.add(locationOf(c));
      guards.push(c);
    }
    return guards;
  }

  private parentOf(step: TraceStep): TraceStep | undefined {
    return step.invocationParent && this.view.step(step.invocationParent);
  }

  private controlOf(step: TraceStep): TraceStep | undefined {
    return step.controlDominator && this.view.step(step.controlDominator);
  }

  // ---- correct -------------------------------------------------------------------------------

  private onCorrect(
    step: TraceStep,
    suspicion: Suspicion,
    earlier: readonly HistoryEntry[],
  ): State {
    switch (suspicion.kind) {
      case 'failure':
        return this.found(step, 'This step reads correct values, yet the failure shows here.');
      case 'writer':
        return (
          this.intoCallee(step) ??
          this.found(
            step,
            `This step read correct values but wrote a wrong ${suspicion.variable}: its line ` +
              `computes it wrongly (or an assignment to it is missing after it).`,
          )
        );
      case 'update':
        return (
          this.intoCallee(step) ??
          this.found(
            step,
            `This step read correct values but did not do what it should have: the update of ` +
              `${suspicion.variable} that went missing belongs here.`,
          )
        );
      case 'controller':
        // Walking back through a rightly called invocation: right inputs are all it asks.
        if (this.walkingBackThroughCall(suspicion)) return this.onRightDecision(step, suspicion);
        return (
          this.wronglyCaught(step, suspicion) ??
          this.found(
            step,
            'This step read correct values but sent execution the wrong way: its condition ' +
              '(or call) is wrong.',
          )
        );
      case 'bisect':
        return this.onBisectProbe(step, suspicion, false);
      case 'found':
        return this.found(step, 'Confirmed.');
      case 'abstraction':
        return this.between(suspicion.of, earlier, step);
      case 'between':
        return this.between(suspicion.frontier, earlier, step);
      case 'path-bisect':
        return this.onPathProbe(step, { step: refOf(step), kind: 'correct' }, suspicion, earlier);
      case 'free': {
        const frontier = latestWrong(earlier) ?? this.failure;
        return this.between(frontier, earlier, step);
      }
    }
  }

  /**
   * A call that read right values and still left the wrong thing behind because the traced
   * code it called threw where it should have returned (`targets = parse(spec)` sent to a
   * `catch`): why it threw was decided in the callee, so the callee's last step is next. A call
   * that returned is not entered: its result is a read of the step, followed when wrong.
   */
  private intoCallee(step: TraceStep): State | undefined {
    // Methods the library called back (a comparator's keys during a sort) answered what they
    // were asked; the line that set the library call up decided what that was.
    if (step.reads.some(isCallbackAnswer)) return undefined;
    const inside = (later: TraceStep) =>
      later.invocationParent !== undefined &&
      later.invocationParent.threadId === step.threadId &&
      later.invocationParent.order >= step.order;
    let last: TraceStep | undefined;
    let after: TraceStep | undefined;
    for (const later of this.walk(step.threadId, step.order + 1, step.order + 1 + BETWEEN_LIMIT)) {
      if (!inside(later)) {
        after = later;
        break;
      }
      if (sameStep(later.invocationParent, step)) last = later;
    }
    if (!last || after?.caught === undefined) return undefined;
    return {
      suggestion: {
        step: refOf(last),
        reason:
          `${here(step)} read correct values, but the call of ${last.method} threw where it ` +
          `should not have: this is where it ended.`,
        rootCause: false,
      },
      suspicion: {
        kind: 'writer',
        variable: `what ${last.method} left behind`,
        reader: refOf(step),
      },
    };
  }

  /**
   * The fault is among the steps `frontier` depends on, but not among those a correct step
   * depends on. Suggests the middle one (by execution order) of what is left.
   */
  private between(
    frontier: StepRef,
    earlier: readonly HistoryEntry[],
    justCorrect: TraceStep,
  ): State {
    const cleared = new Set<string>();
    const correctSteps = [
      justCorrect,
      ...earlier.filter((e) => e.feedback.kind === 'correct').map((e) => e.feedback.step),
    ];
    for (const correct of correctSteps) {
      for (const id of this.backwardSlice(correct).keys()) cleared.add(id);
    }
    const judged = new Set(earlier.map((e) => stepId(e.feedback.step)));
    const candidates = [...this.backwardSlice(frontier).values()]
      .filter((s) => !cleared.has(stepId(s)) && !judged.has(stepId(s)) && !sameStep(s, frontier))
      .sort((a, b) => a.seq - b.seq);
    const frontierStep = this.view.step(frontier)!;
    if (candidates.length === 0) {
      return this.found(
        frontierStep,
        'Everything the wrong step depends on was judged correct: the wrong step itself is the ' +
          'likeliest root cause.',
      );
    }
    const middle = candidates[Math.floor(candidates.length / 2)];
    return {
      suggestion: {
        step: refOf(middle),
        reason:
          `${here(justCorrect)} is correct, ${here(frontierStep)} is not: ${candidates.length} ` +
          `step(s) between them could be at fault; this one halves them.`,
        rootCause: false,
      },
      suspicion: { kind: 'between', frontier },
    };
  }

  /** Steps `from` depends on, transitively (data and control), itself included. */
  private backwardSlice(from: StepRef): Map<string, TraceStep> {
    const slice = new Map<string, TraceStep>();
    const queue: StepRef[] = [from];
    while (queue.length > 0 && slice.size < SLICE_LIMIT) {
      const ref = queue.pop()!;
      if (slice.has(stepId(ref))) continue;
      const step = this.view.step(ref);
      if (!step) continue;
      slice.set(stepId(ref), step);
      for (const read of step.reads) if (read.writer) queue.push(read.writer);
      if (step.controlDominator) queue.push(step.controlDominator);
    }
    return slice;
  }

  // ---- unclear -------------------------------------------------------------------------------

  private onUnclear(step: TraceStep): State {
    const loopHead = this.enclosingLoopHead(step);
    const caller = this.parentOf(step);
    const parent = loopHead ?? caller;
    if (!parent) {
      return {
        suggestion: {
          step: refOf(step),
          reason: 'Nothing encloses this step (no loop, no caller): judge one of its values.',
          rootCause: false,
        },
        suspicion: { kind: 'free' },
      };
    }
    const what = loopHead ? 'the loop iteration' : `the call of ${step.method}`;
    return {
      suggestion: {
        step: refOf(parent),
        reason: `${here(step)} is hard to judge on its own; judge ${what} that contains it instead.`,
        rootCause: false,
      },
      suspicion: { kind: 'abstraction', of: step },
    };
  }

  /**
   * The loop condition step of this iteration: a control dominator that is itself controlled by
   * an earlier run of its own line (so from the second iteration on).
   */
  private enclosingLoopHead(step: TraceStep): TraceStep | undefined {
    let controller = step.controlDominator && this.view.step(step.controlDominator);
    while (controller) {
      const above = controller.controlDominator && this.view.step(controller.controlDominator);
      if (above && locationOf(above) === locationOf(controller)) return controller;
      controller = above;
    }
    return undefined;
  }

  private found(step: TraceStep, reason: string): State {
    return {
      suggestion: { step: refOf(step), reason, rootCause: true },
      suspicion: { kind: 'found' },
    };
  }
}

/**
 * What an access assigns, for comparing assignments across invocations: an array element is
 * its array's variable as the step names it (the local or field holding the array), any element.
 */
function variableOf(step: TraceStep, access: TraceAccess): string | undefined {
  if (access.kind !== 'array') return `${access.kind}:${access.name}`;
  const holder = step.reads.find((r) => r.kind !== 'array' && r.value === access.owner);
  return holder && `${holder.kind}:${holder.name}[]`;
}

/**
 * The steps of `between` after `decision` that it controls, directly or through decisions
 * nested in the branch it took (a `catch` or `if` inside a loop body), within one invocation,
 * in execution order. One forward pass: a step's controller runs before it.
 */
function stepsUnder(decision: TraceStep, between: readonly TraceStep[]): TraceStep[] {
  const under = new Map<string, TraceStep>([[stepId(decision), decision]]);
  for (const step of between) {
    if (step.seq <= decision.seq || !step.controlDominator) continue;
    const controller = under.get(stepId(step.controlDominator));
    if (controller && sameFrame(controller, step)) under.set(stepId(step), step);
  }
  under.delete(stepId(decision));
  return [...under.values()];
}

/** For a field read: whether an access is to a field of an object of the same class. */
function fieldOfItsClass(read: TraceAccess): ((access: TraceAccess) => boolean) | undefined {
  if (read.kind !== 'field' || read.owner === undefined) return undefined;
  const type = typeOfReference(read.owner);
  return (access) =>
    access.kind === 'field' && access.owner !== undefined && typeOfReference(access.owner) === type;
}

/**
 * Whether a line's source text updates the read's variable: `x = `, `x += `, `x++` for a local
 * or field, a call that may change it (`faults.add(`) for a collection's contents. Never for
 * names that are not a plain identifier (a call's result, a synthetic variable).
 */
function updatesInText(read: TraceAccess): ((text: string) => boolean) | undefined {
  const held = read.kind === 'library' ? /^contents of (?:.*\.)?([A-Za-z_$][\w$]*)$/ : undefined;
  const name = held ? held.exec(read.name)?.[1] : read.name;
  if (!name || !/^[A-Za-z_][\w]*$/.test(name)) return undefined;
  if (read.kind === 'library') return (text) => callsMutatingMethod(text, name);
  if (read.kind !== 'local' && read.kind !== 'field' && read.kind !== 'static') return undefined;
  const assignment = new RegExp(
    `\\b${name}\\s*(?:[-+*/%&|^]|<<|>>>?)?=(?!=)|\\b${name}\\s*(?:\\+\\+|--)|(?:\\+\\+|--)\\s*${name}\\b`,
  );
  return (text) => assignment.test(text);
}

/**
 * The part of a line's run that finishes it: `x = f(y)` runs as a step that calls f and one, after
 * f returns, that assigns x. The update a candidate may have missed is made by the last part.
 */
function lastPartOfLine(steps: readonly TraceStep[], index: number): TraceStep {
  const first = steps[index];
  let last = first;
  for (let i = index + 1; i < steps.length; i++) {
    if (!sameFrame(steps[i], first)) continue;
    if (steps[i].line !== first.line) break;
    last = steps[i];
  }
  return last;
}

/** A line in one invocation: its runs are the rounds of a loop there. */
function roundKey(step: TraceStep): string {
  return `${locationOf(step)}@${step.invocationParent ? stepId(step.invocationParent) : ''}`;
}

function refOf(step: StepRef): StepRef {
  return { threadId: step.threadId, order: step.order };
}

function here(step: TraceStep): string {
  const simpleClass = step.className.slice(step.className.lastIndexOf('.') + 1);
  return `${simpleClass}.${step.method} line ${step.line}`;
}

function latestWrong(entries: readonly HistoryEntry[]): StepRef | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const kind = entries[i].feedback.kind;
    if (kind === 'wrong-value' || kind === 'wrong-path') return entries[i].feedback.step;
  }
  return undefined;
}
