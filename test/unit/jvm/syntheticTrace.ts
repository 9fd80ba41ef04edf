// Deterministic synthetic JVM traces: decoded batches as the agent server would hand them over,
// without running a JVM. Each thread loops in `main`, calling `work` every iteration; steps
// read and write locals, a per-thread object's field, a static shared by all threads and array
// elements, and `main`'s loop branch controls the loop body. Used to test chunk boundaries and
// to benchmark storage at sizes no test JVM produces quickly.

import type {
  JvmDecodedBatch,
  JvmMethodInfo,
  JvmStep,
  JvmThreadInfo,
  JvmVarAccess,
} from '../../../src/extension/jvm/decoder';
import type { JvmDeclarationSource } from '../../../src/extension/jvm/traceWriter';

const MAIN = 1;
const WORK = 2;

const methods = new Map<number, JvmMethodInfo>([
  [
    MAIN,
    {
      id: MAIN,
      className: 'demo.Synthetic',
      name: 'main',
      descriptor: '([Ljava/lang/String;)V',
      isStatic: true,
      linesOnly: false,
      lines: [10, 11, 12],
      variables: [{ name: 'i', descriptor: 'I' }],
      // The loop condition (line index 0) controls the body (indices 0..2).
      branches: [{ lineIndex: 0, controls: [0, 1, 2] }],
      returnDescriptor: 'V',
    },
  ],
  [
    WORK,
    {
      id: WORK,
      className: 'demo.Synthetic',
      name: 'work',
      descriptor: '(I)I',
      isStatic: true,
      linesOnly: false,
      lines: [20, 21, 22],
      variables: [{ name: 'x', descriptor: 'I' }],
      branches: [],
      returnDescriptor: 'I',
    },
  ],
]);

export const syntheticDeclarations: JvmDeclarationSource = {
  methodTable: () => methods,
  classTable: () => new Map([[1, { name: 'demo.Synthetic', sourceFile: 'Synthetic.java' }]]),
};

interface ThreadCursor {
  info: JvmThreadInfo;
  order: number;
  iteration: number;
  /** Position in the 6-step iteration pattern. */
  phase: number;
  mainFrame: number;
  workFrame: number;
  callOrder: number;
}

// Access builders at module level: closures per step would dominate the generation time.
function localAccess(name: string, value: number, frame: number): JvmVarAccess {
  return { kind: 'local', name, value: String(value), key: `L${frame}:${name}` };
}

function fieldAccess(thread: number, value: number): JvmVarAccess {
  const id = 1000 + thread;
  return {
    kind: 'field',
    name: 'count',
    owner: `demo.Synthetic@${id}`,
    value: String(value),
    key: `F${id}.count`,
    ownerId: id,
  };
}

function staticAccess(value: number): JvmVarAccess {
  return {
    kind: 'static',
    name: 'demo.Synthetic.total',
    value: String(value),
    key: 'Sdemo.Synthetic.total',
  };
}

function elementAccess(thread: number, index: number, value: number): JvmVarAccess {
  const id = 2000 + thread;
  return {
    kind: 'array',
    name: `[${index}]`,
    owner: `int[]@${id}`,
    value: String(value),
    key: `A${id}[${index}]`,
    ownerId: id,
  };
}

export class SyntheticTrace {
  private seq = 0;
  private nextFrame = 1;
  private readonly cursors: ThreadCursor[];
  private declared = false;

  constructor(
    threadCount: number,
    private readonly stepsPerThread: number,
    /** Distinct array elements written (bounds the last-writer map in long traces). */
    private readonly arraySize = 5000,
  ) {
    this.cursors = Array.from({ length: threadCount }, (_, t) => ({
      info: { id: t + 1, name: t === 0 ? 'main' : `worker-${t}`, isMain: t === 0, traceId: '' },
      order: 0,
      iteration: 0,
      phase: 0,
      mainFrame: this.nextFrame++,
      workFrame: 0,
      callOrder: 0,
    }));
  }

  get totalSteps(): number {
    return this.cursors.length * this.stepsPerThread;
  }

  /** Batches of about `batchSteps` steps, threads interleaved in runs of `slice` steps. */
  *batches(batchSteps = 10_000, slice = 37): Generator<JvmDecodedBatch> {
    let live = this.cursors.filter((c) => c.order < this.stepsPerThread);
    while (live.length > 0) {
      const steps: JvmStep[] = [];
      while (steps.length < batchSteps && live.length > 0) {
        for (const cursor of live) {
          for (let k = 0; k < slice && cursor.order < this.stepsPerThread; k++) {
            steps.push(this.next(cursor));
          }
        }
        live = live.filter((c) => c.order < this.stepsPerThread);
      }
      yield {
        steps,
        threads: this.declared ? [] : this.cursors.map((c) => c.info),
        warnings: [],
        errors: [],
        ended: live.length === 0,
      };
      this.declared = true;
    }
  }

  private next(c: ThreadCursor): JvmStep {
    const i = c.iteration;
    const index = i % this.arraySize;
    const t = c.info.id;
    let step: JvmStep;
    switch (c.phase) {
      case 0: // for (i...) condition: branch 0
        step = this.step(
          c,
          MAIN,
          0,
          c.mainFrame,
          1,
          0,
          [localAccess('i', i, c.mainFrame)],
          [],
          [0],
        );
        step.writes.push(localAccess('i', i, c.mainFrame));
        break;
      case 1: // count = i; total = i; work(i) called
        step = this.step(
          c,
          MAIN,
          1,
          c.mainFrame,
          1,
          0,
          [localAccess('i', i, c.mainFrame)],
          [fieldAccess(t, i), staticAccess(i)],
        );
        c.callOrder = step.order;
        c.workFrame = this.nextFrame++;
        break;
      case 2: // work: x = arg; reads count
        step = this.step(
          c,
          WORK,
          0,
          c.workFrame,
          2,
          c.callOrder,
          [fieldAccess(t, i)],
          [localAccess('x', i, c.workFrame)],
        );
        break;
      case 3: // arr[i % n] = x
        step = this.step(
          c,
          WORK,
          1,
          c.workFrame,
          2,
          c.callOrder,
          [localAccess('x', i, c.workFrame)],
          [elementAccess(t, index, i)],
        );
        break;
      case 4: // return x + 1
        step = this.step(
          c,
          WORK,
          2,
          c.workFrame,
          2,
          c.callOrder,
          [localAccess('x', i, c.workFrame)],
          [],
        );
        step.returnValue = String(i + 1);
        break;
      default: // back in main: read total and the element
        step = this.step(
          c,
          MAIN,
          2,
          c.mainFrame,
          1,
          0,
          [staticAccess(i), elementAccess(t, index, i)],
          [],
        );
        c.iteration++;
    }
    c.phase = (c.phase + 1) % 6;
    return step;
  }

  private step(
    c: ThreadCursor,
    methodId: number,
    lineIndex: number,
    frameId: number,
    depth: number,
    callerOrder: number,
    reads: JvmVarAccess[],
    writes: JvmVarAccess[],
    branches: number[] = [],
  ): JvmStep {
    const method = methods.get(methodId)!;
    return {
      seq: this.seq++,
      threadId: c.info.id,
      thread: c.info.name,
      order: ++c.order,
      className: method.className,
      method: method.name,
      methodDescriptor: method.descriptor,
      methodId,
      line: method.lines[lineIndex],
      lineIndex,
      reads,
      writes,
      frameId,
      depth,
      callerOrder,
      branches,
    };
  }
}
