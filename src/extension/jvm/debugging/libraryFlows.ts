// Data flows through code the agent does not instrument (the JDK). Microbat's dependencies stop
// at such calls: `list.add(x)` at one step and `y = list.get(0)` at a later one share no
// recorded variable, so "y is wrong" leads nowhere. Here the hidden state of each object of an
// uninstrumented class (a collection, a StringBuilder, ...) becomes a virtual variable,
// "contents of list": every step that uses the object reads it, and a step that hands the
// object to a possibly mutating call writes it. Arrays get the same treatment for bulk
// operations (Arrays.fill, System.arraycopy, sort): an element read depends on the latest of
// the element's own last write and the last call that received the whole array.
//
// Which calls mutate is a guess. With the line's source text: a call of a method on the
// variable that is not a known query (get, size, contains, ...), or passing the variable as a
// call argument (except to printing and formatting methods). Without source: a step that uses
// the object and stores no result anywhere (`list.add(x);`, `sb.append(y);`).

import type { JvmStep, JvmVarAccess } from '../decoder';
import { isArrayTypeText, referenceParts } from '../javaText';
import {
  callbackAnswerName,
  comparableValue,
  elementIndex,
  identityMatters,
  isCallbackAnswer,
  isLibraryArgument,
  stepId,
  type StepRef,
  type TraceAccess,
  type TraceStep,
} from './traceView';

const AS_CREATED = '(as created)';
const AS_CREATED_WITH = '(as created with ';

/**
 * A library object's state as described is the whole of it: made by the program with no
 * inputs or only literal settings, and not changed since (an empty list). No computation can
 * hide behind it, unlike a state known by a digest of its inputs.
 */
export function isStateKnownExactly(described: string): boolean {
  return described === AS_CREATED || described.startsWith(AS_CREATED_WITH);
}

/** Text of a source line of a class, or undefined when unknown. */
export type SourceLines = (className: string, line: number) => string | undefined;

/** Immutable JDK types: nothing can change behind a reference to them. */
const IMMUTABLE_TYPES = new Set(
  [
    'String',
    'Integer',
    'Long',
    'Short',
    'Byte',
    'Character',
    'Boolean',
    'Double',
    'Float',
    'Class',
    'math.BigInteger',
    'math.BigDecimal',
  ].map((name) => (name.includes('.') ? `java.${name}` : `java.lang.${name}`)),
);

/** Methods of JDK classes that only look at the object. */
const QUERY_METHODS = new Set([
  'get',
  'size',
  'isEmpty',
  'contains',
  'containsKey',
  'containsValue',
  'indexOf',
  'lastIndexOf',
  'equals',
  'hashCode',
  'toString',
  'length',
  'charAt',
  'peek',
  'peekFirst',
  'peekLast',
  'getFirst',
  'getLast',
  'getOrDefault',
  'keySet',
  'values',
  'entrySet',
  'stream',
  'toArray',
  'firstKey',
  'lastKey',
  'compareTo',
  'substring',
  'getKey',
  'getValue',
  'hasNext',
  'isPresent',
  // An iterator changes nothing by being made: what it yields is read through it, and what is
  // removed through it reaches its source as a change of its own (STRUCTURAL_CHANGES). Views
  // with bounds (`subList(1, 7)`) stay operations: their bounds say what a copy of them holds.
  'iterator',
  'listIterator',
  'descendingIterator',
  'spliterator',
]);

/** Calls that make an iterator or a view of the object they are called on. */
const VIEW_CALL =
  /\b(\w+)\s*\.\s*(?:iterator|listIterator|descendingIterator|subList|keySet|values|entrySet|navigableKeySet|descendingKeySet|descendingMap|headMap|tailMap|subMap|headSet|tailSet|subSet)\s*\(/;

/** Operations on an iterator or view that change what its source holds. */
const STRUCTURAL_CHANGES = new Set([
  'remove',
  'removeIf',
  'removeAll',
  'retainAll',
  'add',
  'addAll',
  'set',
  'clear',
  'put',
  'putAll',
  'replaceAll',
  'setValue',
]);

/** Calls that receive an object only to read or print it. */
const READING_CALLS = new Set([
  'println',
  'print',
  'printf',
  'format',
  'valueOf',
  'toString',
  'deepToString',
  'equals',
  'hash',
  'hashCode',
  'requireNonNull',
  // Searches, copies and comparisons read what they are given.
  'binarySearch',
  'copyOf',
  'copyOfRange',
  'deepEquals',
  'deepHashCode',
  'mismatch',
  'compare',
  'stream',
  'max',
  'min',
  'frequency',
  'String',
]);

interface TrackedObject {
  id: number;
  text: string;
  isArray: boolean;
}

export class LibraryFlowTracker {
  /** Per object id: the last step that may have changed its hidden state (or created it). */
  private readonly lastChange = new Map<number, StepRef & { seq: number }>();
  /**
   * Per object id: what went into it, as the values of the changing steps' other reads. Two
   * runs that fed an object the same values hold the same state (the JDK is deterministic), so
   * this stands in for the contents nobody recorded, and lets versions be compared.
   */
  private readonly history = new Map<number, { changes: number; digest: number }>();
  /** Per array id: last known value and writer of each element (recorded element writes). */
  private readonly elements = new Map<number, Map<number, { value: string; writer: StepRef }>>();
  /**
   * Per array id: a digest of what went into the last JDK call that may have rewritten it
   * (`Arrays.sort(words, 0, n)`): its elements' values after it are not known, only that.
   */
  private readonly bulkDigests = new Map<number, number>();
  /** Per iterator or view id: the library object it was made of. */
  private readonly viewSources = new Map<number, { object: TrackedObject; name: string }>();
  private readonly seqOf = new Map<string, number>();
  /** Per object id: the literal constructor arguments it was created with, when any. */
  private readonly createdWith = new Map<number, string>();
  /** Per object: the program's objects among its changes' inputs (TraceAccess.objectInputs). */
  private readonly objectInputs = new Map<number, readonly string[]>();
  /**
   * Per step id, for steps that call traced code: the library objects the step changed, so
   * that what callbacks return (a comparator's answers to a sort) becomes part of the change;
   * while it changed none, the answers wait for the part of the line that goes on after them.
   */
  private readonly changesWithCallbacks = new Map<string, CallbackScope>();

  constructor(
    private readonly instrumentedClasses: ReadonlySet<string>,
    private readonly sourceLine?: SourceLines,
  ) {}

  /** Adds virtual reads/writes to `step` (built from `raw`) and rewires bulk array writes. */
  visit(step: TraceStep, raw: JvmStep, line: LineContext = NO_TRACED_CALLS): void {
    this.seqOf.set(stepId(step), step.seq);
    this.foldCallbackResult(step, raw);
    const text = this.sourceLine?.(step.className, step.line);
    if (text !== undefined && line.tracedCalls.size > 0) {
      this.changesWithCallbacks.set(stepId(step), { step, text, changes: [], answers: [] });
    }
    this.linkElementReadsToBulkWrites(step);
    const elementOwners = new Set(
      [...line.carriedReads, ...raw.reads, ...raw.writes]
        .filter((a) => a.kind === 'array')
        .map((a) => a.ownerId),
    );
    this.takeEarlierAnswers(step, line);
    // With those carried from a statement's earlier lines (`return xs.stream()` then
    // `.collect(...)` on the next line).
    const answers = step.reads
      .filter(isCallbackAnswer)
      .map((r) => `${comparableValue(r.value)}\u0002`);
    const seen = new Set<number>();
    // What the line read, and what it handed to the JDK (`sb.append('A' + row)` passes 72
    // where `(char) ('A' + row)` passes 'H', from the same reads).
    const inputs = [
      ...step.reads.filter((r) => r.kind !== 'library'),
      ...raw.writes.filter(isLibraryArgument),
    ].map((r) => comparableValue(r.value));
    const used: { read: JvmVarAccess; object: TrackedObject }[] = [];
    // Objects the statement's earlier lines used count only where this last part changes them
    // (`order.sort(` ... `);`): what they held was read where they were used.
    const earlierLines = new Set(line.statementReads ?? []);
    for (const read of [...line.carriedReads, ...raw.reads, ...earlierLines]) {
      // System.out and other JDK statics are sinks or shared services, not data a program keeps.
      if (read.kind === 'static' && read.name.startsWith('java.')) continue;
      const object = this.trackedObject(read.value);
      if (!object || seen.has(object.id)) continue;
      seen.add(object.id);
      used.push({ read, object });
      if (!object.isArray && !earlierLines.has(read)) this.addHiddenRead(step, object, read.name);
    }
    // A library object a traced callee returned (`for (x : settle())`): the step uses what it
    // holds, though no variable of the line names it.
    for (const read of step.reads) {
      if (read.kind !== 'return') continue;
      const object = this.trackedObject(read.value);
      if (!object || object.isArray || seen.has(object.id)) continue;
      seen.add(object.id);
      this.addHiddenRead(step, object, read.name.replace(/ returned$/, ' result'));
    }
    // The source names a static field without its class (`TABLE.put(k, v)`).
    const nameOf = (read: JvmVarAccess) =>
      read.kind === 'static' ? read.name.slice(read.name.lastIndexOf('.') + 1) : read.name;
    for (const { read, object } of used) {
      const handedOver =
        object.isArray &&
        !elementOwners.has(object.id) &&
        text !== undefined &&
        passedAsArgument(text, nameOf(read), line.tracedCalls, true);
      // Uninstrumented code reading a whole array (Arrays.toString, a copy): its elements are
      // read, and go into what the call changes (`sb.append(row)` appends the row's characters).
      if (handedOver) inputs.push(...this.addElementReads(step, object));
    }
    for (const { read, object } of used) {
      const named = nameOf(read);
      // `sb.append(f(x))`: the library call runs after f returns, in the step that resumes the
      // line, and is fed f's result; this earlier part of the line changes nothing yet.
      // Nor does the first line of a statement that ends back on it: its last part makes the
      // call (`order.sort(comparing(...)` / `.thenComparing(...));`), with its callbacks.
      if (line.continuesAfterCall || line.statementEndsBackHere || line.cutShortByThrow) continue;
      const mutates = object.isArray
        ? !elementOwners.has(object.id) &&
          text !== undefined &&
          passedAsArgument(text, named, line.tracedCalls)
        : this.mayMutate(object, named, raw, text, line.tracedCalls);
      if (!mutates) continue;
      if (earlierLines.has(read) && !object.isArray) this.addHiddenRead(step, object, read.name);
      const operations = operationsOn(text, named);
      const changeInputs = [
        ...operations,
        ...inputs.filter((v) => v !== comparableValue(object.text)),
        // What other library objects held goes in too: `messages.add("#" + n + text)` with a
        // StringBuilder `text` stores what the builder held, which no plain value shows.
        ...otherLibraryStates(step, object),
      ];
      const given = step.reads
        .filter((r) => r.kind !== 'library' && r.value !== object.text && identityMatters(r.value))
        .map((r) => r.value);
      this.recordChange(step, object, read.name, changeInputs, [], given);
      // `it.remove()` takes the element out of the list the iterator walks, too.
      const source = this.viewSources.get(object.id);
      if (source && operations.some((op) => STRUCTURAL_CHANGES.has(op.replace(/\(\)$/, '')))) {
        this.recordChange(step, source.object, source.name, changeInputs);
      }
    }
    for (const write of raw.writes) {
      const object = this.trackedObject(write.value);
      // The step that first stores a new object made its initial state (not an array whose
      // elements were already written: an inner array of `new int[n][n]`, stored later).
      if (!object || this.elements.has(object.id)) continue;
      // Fetched again from a library object (`e = it.next()` over a map's entries, which are
      // the map's own nodes): what it holds depends on what its source holds now, on top of
      // what was done to it directly (a deque taken from a map keeps its own polls).
      const known = this.lastChange.has(object.id);
      if (known && !this.refetched(step, object, text)) continue;
      // What it held before is one of the inputs of what it holds now.
      if (known) this.addHiddenRead(step, object, write.name);
      if (!known) this.noteViewSource(object, raw, text);
      const origin = this.initialState(step, object, write.name, text, inputs);
      if (origin) {
        // Not for an object fetched again (`known`): its source's state holds the answers.
        this.recordChange(step, object, write.name, origin, known ? [] : answers);
      }
    }
    // A library object the line made and handed back (`return list.stream().collect(...)`):
    // made here, from what the line read and what its callbacks answered.
    if (raw.returnValue !== undefined && answers.length > 0) {
      this.recordMadeAndReturned(step, raw, text, inputs, answers);
    }
    // Callbacks of a line that changed nothing yet may shape what a later part of it makes.
    const scope = this.changesWithCallbacks.get(stepId(step));
    if (scope?.changes.length === 0 && !line.continuesAfterCall && !line.statementGoesOn) {
      this.changesWithCallbacks.delete(stepId(step));
    }
    for (const write of raw.writes) {
      if (write.kind !== 'array' || write.ownerId === undefined) continue;
      let known = this.elements.get(write.ownerId);
      if (!known) this.elements.set(write.ownerId, (known = new Map()));
      const index = elementIndex(write.name);
      if (index === undefined) continue;
      known.set(index, {
        value: write.value,
        writer: { threadId: step.threadId, order: step.order },
      });
    }
  }

  /** An iterator or view a line made of another library object (`it = pending.iterator()`). */
  private noteViewSource(object: TrackedObject, raw: JvmStep, text: string | undefined): void {
    const view = text === undefined ? null : VIEW_CALL.exec(text);
    if (!view) return;
    const read = raw.reads.find(
      (r) => r.name === view[1] || r.name.endsWith(`.${view[1]}`) || r.name === `this.${view[1]}`,
    );
    const source = read && this.trackedObject(read.value);
    if (source && !source.isArray && source.id !== object.id) {
      this.viewSources.set(object.id, { object: source, name: read.name });
    }
  }

  /**
   * What the first store of an object says about its state, or undefined when it says nothing.
   * A line that creates the object (`new`) gives its settings and what it copied (the hidden
   * state of other objects it read: `new ArrayList<>(map.values())`). A line that only fetched
   * it from a library object or made it by a library call (`x = it.next()`, `List.of(a, b)`)
   * gives the state it came from and the values the call was given. A step that only received
   * it as an argument from code nobody traced (a callback called by a library sort) knows
   * nothing: its state stays unknown until a step that fetches it from somewhere known.
   */
  private initialState(
    step: TraceStep,
    object: TrackedObject,
    variable: string,
    text: string | undefined,
    inputs: string[],
  ): string[] | undefined {
    const sources = otherLibraryStates(step, object);
    if (text === undefined || object.isArray) return creationLiterals(text);
    if (/\bnew\s/.test(text)) return [...creationLiterals(text), ...sources];
    if (step.reads.some((r) => r.name === `${variable} (argument)`)) return undefined;
    return [...sources, ...inputs.filter((v) => v !== comparableValue(object.text))];
  }

  /**
   * Whether a step stored an object it fetched again from another library object: not a
   * creation, not handed back by a traced call (`groups = group(phrases)` returns the map the
   * callee built, with its history), and the line read some other library object's state.
   */
  private refetched(step: TraceStep, object: TrackedObject, text: string | undefined): boolean {
    if (text === undefined || object.isArray || /\bnew\s/.test(text)) return false;
    if (step.reads.some((r) => r.kind === 'return' && r.value === object.text)) return false;
    return otherLibraryStates(step, object).length > 0;
  }

  /**
   * The recorded elements of an array handed to uninstrumented code, as reads of this step;
   * returns their values as inputs of what the call changes.
   */
  private addElementReads(step: TraceStep, object: TrackedObject): string[] {
    const known = this.elements.get(object.id);
    if (!known) return [];
    const indices = [...known.keys()].sort((a, b) => a - b).slice(0, MAX_ELEMENT_READS);
    const values: string[] = [];
    const bulk = this.lastChange.get(object.id);
    const digest = this.bulkDigests.get(object.id);
    for (const index of indices) {
      const element = known.get(index)!;
      const elementSeq = this.seqOf.get(stepId(element.writer)) ?? -1;
      // Rewritten by the JDK since its last recorded write: known only by what went in.
      const rewritten =
        bulk && digest !== undefined && bulk.seq > elementSeq && !sameRef(bulk, step);
      const value = rewritten ? `(after a library call, inputs #${hex(digest)})` : element.value;
      step.reads.push({
        kind: 'array',
        name: `[${index}]`,
        owner: object.text,
        value,
        wholeArray: true,
        writer: rewritten ? { threadId: bulk.threadId, order: bulk.order } : element.writer,
      });
      values.push(`[${index}]=${comparableValue(value)}`);
    }
    return values;
  }

  private addHiddenRead(step: TraceStep, object: TrackedObject, variable: string): void {
    const change = this.lastChange.get(object.id);
    step.reads.push({
      kind: 'library',
      name: `contents of ${variable}`,
      owner: object.text,
      value: this.describeState(object.id),
      ...this.objectInputsOf(object.id),
      ...(change ? { writer: { threadId: change.threadId, order: change.order } } : {}),
    });
  }

  private objectInputsOf(id: number): { objectInputs?: readonly string[] } {
    const given = this.objectInputs.get(id);
    return given ? { objectInputs: given } : {};
  }

  /** `answers`: what callbacks answered while the line made or changed the object. */
  private recordChange(
    step: TraceStep,
    object: TrackedObject,
    variable: string,
    inputs: string[],
    answers: string[] = [],
    givenObjects: readonly string[] = [],
  ): void {
    this.lastChange.set(object.id, { threadId: step.threadId, order: step.order, seq: step.seq });
    const known = this.objectInputs.get(object.id) ?? [];
    if (givenObjects.length > 0 && known.length < MAX_OBJECT_INPUTS) {
      // A new array each time: reads made earlier keep the state they saw.
      this.objectInputs.set(object.id, [...known, ...givenObjects].slice(0, MAX_OBJECT_INPUTS));
    }
    if (object.isArray) {
      // Element writes are recorded for real; a JDK call's are not (a sort, a fill).
      this.bulkDigests.set(object.id, fnv(FNV_OFFSET, inputs.join('\u0000')));
      return;
    }
    const before = this.history.get(object.id) ?? { changes: -1, digest: FNV_OFFSET };
    // Settings a person can read (`16, 0.75f, true`) are shown as such; states it was made from
    // and callbacks' answers are not readable, only comparable, and stay in the digest.
    const readable =
      inputs.length > 0 && answers.length === 0 && !inputs.some((input) => input.startsWith('('));
    if (before.changes < 0 && readable) this.createdWith.set(object.id, inputs.join(', '));
    this.history.set(object.id, {
      changes: before.changes + 1,
      digest: fnv(before.digest, [...inputs, ...answers].join('\u0000') + '\u0001'),
    });
    const write = {
      kind: 'library' as const,
      name: `contents of ${variable}`,
      owner: object.text,
      value: this.describeState(object.id),
      ...this.objectInputsOf(object.id),
    };
    step.writes.push(write);
    this.changesWithCallbacks.get(stepId(step))?.changes.push({ id: object.id, write });
  }

  /**
   * A step returned a library object nobody traced before, so the line made it (by a library
   * call such as `collect`, whose callbacks ran during an earlier part of the line). Its state
   * starts from what the line read and what those callbacks answered.
   */
  private recordMadeAndReturned(
    step: TraceStep,
    raw: JvmStep,
    text: string | undefined,
    inputs: string[],
    answers: string[],
  ): void {
    const object = this.trackedObject(raw.returnValue!);
    if (!object || object.isArray || this.lastChange.has(object.id)) return;
    if (text === undefined) return;
    const origin = this.initialState(step, object, `${raw.method}() result`, text, inputs) ?? [];
    this.recordChange(step, object, `${raw.method}() result`, origin, answers);
  }

  /**
   * What the callbacks of this line's earlier parts answered (`collect(groupingBy(r -> band(r)))`
   * calls back before the line goes on): reads of this step, which computes from them, and so
   * inputs of any object it makes. Taken once, by the part that ends the line.
   */
  private takeEarlierAnswers(step: TraceStep, line: LineContext): void {
    if (line.continuesAfterCall) return;
    for (const part of [...line.earlierParts, ...(line.statementParts ?? [])]) {
      const scope = this.changesWithCallbacks.get(stepId(part));
      if (!scope || scope.changes.length > 0) continue;
      this.changesWithCallbacks.delete(stepId(part));
      step.reads.push(...scope.answers);
    }
  }

  /**
   * A method the library called back during a step that changed a library object (`compare`
   * during `list.sort(order)`) returned: its answer shapes the change (the order the list ends
   * in), so it joins the digest of the object's state, and the step reads it (the first wrong
   * answer leads to the callback that gave it). Calls the line makes by name are not callbacks:
   * their results reach the change as the line's own inputs.
   */
  private foldCallbackResult(step: TraceStep, raw: JvmStep): void {
    if (raw.returnValue === undefined || !step.invocationParent) return;
    const caller = this.changesWithCallbacks.get(stepId(step.invocationParent));
    if (!caller) return;
    if (new RegExp(`\\b${escapeRegExp(raw.method)}\\s*\\(`).test(caller.text)) return;
    const answer: TraceAccess = {
      kind: 'return',
      name: callbackAnswerName(raw.method),
      value: raw.returnValue,
      writer: { threadId: step.threadId, order: step.order },
    };
    if (caller.changes.length === 0) {
      // Nothing changed yet: a later part of the line may make something of these answers.
      if (caller.answers.length < MAX_CALLBACK_ANSWERS) caller.answers.push(answer);
      return;
    }
    caller.step.reads.push(answer);
    for (const { id, write } of caller.changes) {
      const state = this.history.get(id);
      if (!state) continue;
      state.digest = fnv(state.digest, `${comparableValue(raw.returnValue)}\u0002`);
      this.createdWith.delete(id); // no longer just the settings it was made with
      write.value = this.describeState(id);
    }
  }

  /** The hidden state as far as it is known: how many changes, and a digest of their inputs. */
  private describeState(id: number): string {
    const state = this.history.get(id);
    if (!state) return '(made outside the trace)';
    const digest = hex(state.digest);
    const settings = this.createdWith.get(id);
    if (state.changes > 0) return `(after ${state.changes} change(s), inputs #${digest})`;
    if (settings) return `${AS_CREATED_WITH}${settings})`;
    return state.digest === FNV_OFFSET_AFTER_NOTHING ? AS_CREATED : `(as made, inputs #${digest})`;
  }

  private mayMutate(
    object: TrackedObject,
    variable: string,
    raw: JvmStep,
    text: string | undefined,
    tracedCalls: ReadonlySet<string>,
  ): boolean {
    if (text === undefined) return raw.writes.every((w) => w.value === object.text);
    return callsMutatingMethod(text, variable) || passedAsArgument(text, variable, tracedCalls);
  }

  /** An element read sees a bulk write (arraycopy, fill) made after the element's last write. */
  private linkElementReadsToBulkWrites(step: TraceStep): void {
    for (const read of step.reads) {
      if (read.kind !== 'array' || read.owner === undefined) continue;
      const id = objectIdOf(read.owner);
      const bulk = id === undefined ? undefined : this.lastChange.get(id);
      if (!bulk || sameRef(bulk, step)) continue;
      const elementSeq = read.writer ? (this.seqOf.get(stepId(read.writer)) ?? -1) : -1;
      if (bulk.seq > elementSeq) read.writer = { threadId: bulk.threadId, order: bulk.order };
    }
  }

  private trackedObject(value: string): TrackedObject | undefined {
    const reference = referenceParts(value);
    if (!reference) return undefined;
    const { type, id } = reference;
    // A lambda's class is made at run time: it keeps no state of its own beyond what it captured.
    if (type.includes('$$Lambda')) return undefined;
    const isArray = isArrayTypeText(type);
    if (!isArray && (IMMUTABLE_TYPES.has(type) || this.instrumentedClasses.has(type))) {
      return undefined;
    }
    return { id, text: value, isArray };
  }
}

/** How a step's line runs around calls into traced code. */
export interface LineContext {
  /** Names of the traced methods this step called (their effects are recorded). */
  tracedCalls: ReadonlySet<string>;
  /** The line goes on in a later step of the frame, after a traced call returns. */
  continuesAfterCall: boolean;
  /**
   * A traced call of the line threw, and a handler of the frame caught it: the rest of the line
   * (`holds.add(...)` around `reserve(...)`) never ran.
   */
  cutShortByThrow?: boolean;
  /** Reads made before the traced call, when this step resumes the line after it. */
  carriedReads: readonly JvmVarAccess[];
  /** The steps of the line's earlier parts, first part first (empty unless resumed). */
  earlierParts: readonly StepRef[];
  /**
   * A statement written over several lines comes back to this step's line at its end (`return
   * tutors.stream()` / `.filter(...)` / `.min(...)` returns on the first line): the steps of its
   * later lines, which ran in between. Empty otherwise.
   */
  statementParts?: readonly StepRef[];
  /** This step is one of those later lines: the statement ends back on an earlier line. */
  statementGoesOn?: boolean;
  /** What the parts of the statement before this step read, when it ends the statement. */
  statementReads?: readonly JvmVarAccess[];
  /** The statement goes on over later lines and ends back on this step's line. */
  statementEndsBackHere?: boolean;
}

const NO_TRACED_CALLS: LineContext = {
  tracedCalls: new Set(),
  continuesAfterCall: false,
  carriedReads: [],
  earlierParts: [],
};

/** Elements of an array handed to uninstrumented code that become reads, at most. */
const MAX_ELEMENT_READS = 256;
/** Answers of callbacks kept per step for what a later part of its line makes, at most. */
const MAX_CALLBACK_ANSWERS = 256;
/** The program's objects remembered per library object as inputs of its changes, at most. */
const MAX_OBJECT_INPUTS = 64;

/** A step whose line calls traced code, and what its callbacks did to library objects. */
interface CallbackScope {
  step: TraceStep;
  text: string;
  /** Library objects the step changed: callbacks' answers join their state. */
  changes: { id: number; write: TraceAccess }[];
  /** Callbacks' answers while the step had changed nothing (see takeEarlierAnswers). */
  answers: TraceAccess[];
}

const FNV_OFFSET = 0x811c9dc5;
/** The digest of a creation that was given nothing. */
const FNV_OFFSET_AFTER_NOTHING = fnv(FNV_OFFSET, '\u0001');

function fnv(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** What the library objects other than `object` that the step read held, as it read them. */
function otherLibraryStates(step: TraceStep, object: TrackedObject): string[] {
  return step.reads
    .filter((r) => r.kind === 'library' && r.owner !== object.text)
    .map((r) => r.value);
}

function hex(digest: number): string {
  return digest.toString(16).padStart(8, '0');
}

function sameRef(a: StepRef, b: StepRef): boolean {
  return a.threadId === b.threadId && a.order === b.order;
}

function objectIdOf(text: string): number | undefined {
  const match = /@(\d+)$/.exec(text);
  return match ? Number(match[1]) : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether the line calls a method on `variable` that may change the object (not a query). */
export function callsMutatingMethod(text: string, variable: string): boolean {
  return operationsOn(text, variable).length > 0;
}

/**
 * Whether the variable is a whole argument of an uninstrumented call (reading calls count only
 * if asked). Calls of traced methods are left out: what they do to the object is recorded.
 */
function passedAsArgument(
  text: string,
  variable: string,
  tracedCalls: ReadonlySet<string>,
  includingReadingCalls = false,
): boolean {
  const name = escapeRegExp(variable);
  const argument = new RegExp(`(\\w+)\\s*\\(\\s*(?:[^()]*,\\s*)?(?:this\\.)?${name}\\s*[,)]`, 'g');
  for (const match of text.matchAll(argument)) {
    if (tracedCalls.has(match[1])) continue;
    if (includingReadingCalls || !READING_CALLS.has(match[1])) return true;
  }
  return false;
}

/**
 * What the line does to the object, as far as the values read cannot tell: the names of the
 * mutating methods called on it (`clear()` and `trimToSize()` read the same variables). Their
 * arguments are left out: the values they are made of are among the inputs already.
 */
function operationsOn(text: string | undefined, variable: string): string[] {
  if (text === undefined) return [];
  // `map.get(k).add(x)` changes what the map holds: its contents include its values' contents.
  // The lookup's arguments may hold calls themselves (`sections.get(familyOf(m)).add(m)`).
  const call = new RegExp(
    `\\b${escapeRegExp(variable)}\\s*\\.\\s*(\\w+)\\s*\\((?:(?:[^()]|\\([^()]*\\))*\\)\\s*\\.\\s*(\\w+)\\s*\\()?`,
    'g',
  );
  const operations: string[] = [];
  for (const [, method, chained] of text.matchAll(call)) {
    if (!QUERY_METHODS.has(method)) operations.push(`${method}()`);
    else if (chained && CONTAINER_LOOKUPS.has(method) && !QUERY_METHODS.has(chained))
      operations.push(`${method}().${chained}()`);
  }
  return operations;
}

/** Queries that hand out an element the container keeps (a change to it changes the container). */
const CONTAINER_LOOKUPS = new Set([
  'get',
  'getOrDefault',
  'peek',
  'peekFirst',
  'peekLast',
  'getFirst',
  'getLast',
]);

/**
 * Literal arguments of the object creation on a line (`new LinkedHashMap<>(16, 0.75f, true)`):
 * settings that decide how the object behaves (access order, capacity, a fairness flag) and that
 * no recorded variable carries. Variables passed are left out: their values are compared anyway.
 */
function creationLiterals(text: string | undefined): string[] {
  const creation = text && /\bnew\s+[\w.$]+\s*(?:<[^>]*>)?\s*\(([^()]*)\)/.exec(text);
  if (!creation) return [];
  return creation[1]
    .split(',')
    .map((argument) => argument.trim())
    .filter((argument) =>
      /^(?:-?[\d.]+[lLfFdD]?|true|false|null|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)+')$/.test(argument),
    );
}
