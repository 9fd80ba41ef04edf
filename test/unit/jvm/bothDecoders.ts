// Both JVM trace decoders over the same input, their steps printed alike: JvmTraceDecoder (one
// object per step) and JvmColumnDecoder (columns), for the tests that hold them equal.

import { JvmColumnDecoder, type JvmColumnBatch } from '../../../src/extension/jvm/columnDecoder';
import { JvmTraceDecoder, type JvmStep } from '../../../src/extension/jvm/decoder';
import {
  EXTRA_CAUGHT,
  EXTRA_RETURN,
  EXTRA_THROWN,
  ValueType,
} from '../../../src/extension/jvm/stepColumns';

const ACCESS_KINDS = ['local', 'field', 'static', 'array'];

/** A step as both decoders can describe it, values printed. */
export interface PlainStep {
  seq: number;
  threadId: number;
  order: number;
  methodId: number;
  lineIndex: number;
  line: number;
  frameId: number;
  depth: number;
  callerOrder: number;
  branches: number[];
  reads: string[];
  writes: string[];
  returnValue?: string;
  thrown?: string;
  caught?: string;
}

function plainAccess(a: JvmStep['reads'][number]): string {
  return `${a.kind} ${a.name} ${a.owner ?? '-'} = ${a.value}`;
}

function fromObject(step: JvmStep): PlainStep {
  return {
    seq: step.seq,
    threadId: step.threadId,
    order: step.order,
    methodId: step.methodId,
    lineIndex: step.lineIndex,
    line: step.line,
    frameId: step.frameId,
    depth: step.depth,
    callerOrder: step.callerOrder,
    branches: step.branches,
    reads: step.reads.map(plainAccess),
    writes: step.writes.map(plainAccess),
    ...(step.returnValue === undefined ? {} : { returnValue: step.returnValue }),
    ...(step.thrown === undefined ? {} : { thrown: step.thrown }),
    ...(step.caught === undefined ? {} : { caught: step.caught }),
  };
}

/** Reads column rows back into PlainSteps (names from the batches, objects from the decoder). */
class ColumnReader {
  private readonly names = new Map<number, string>();

  constructor(private readonly decoder: JvmColumnDecoder) {}

  steps(batch: JvmColumnBatch): PlainStep[] {
    for (const [id, name] of batch.names) this.names.set(id, name);
    const c = batch.steps;
    const out: PlainStep[] = [];
    for (let row = 0; row < c.count; row++) {
      const accesses: string[] = [];
      for (let a = c.accessStart[row]; a < c.accessStart[row + 1]; a++)
        accesses.push(this.access(batch, a));
      const flags = c.extraFlags[row];
      out.push({
        seq: c.seq[row],
        threadId: c.threadId[row],
        order: c.order[row],
        methodId: c.methodId[row],
        lineIndex: c.lineIndex[row],
        line: c.line[row],
        frameId: c.frameId[row],
        depth: c.depth[row],
        callerOrder: c.callerOrder[row],
        branches: [...c.branches.subarray(c.branchStart[row], c.branchStart[row + 1])],
        reads: accesses.slice(0, c.readCount[row]),
        writes: accesses.slice(c.readCount[row]),
        ...(flags & EXTRA_RETURN
          ? { returnValue: this.value(c.returnType[row], c.returnValue[row], c.returnText[row]) }
          : {}),
        ...(flags & EXTRA_THROWN ? { thrown: this.decoder.renderRef(c.thrown[row]) } : {}),
        ...(flags & EXTRA_CAUGHT ? { caught: this.decoder.renderRef(c.caught[row]) } : {}),
      });
    }
    return out;
  }

  private access(batch: JvmColumnBatch, a: number): string {
    const x = batch.steps.accesses;
    const kind = ACCESS_KINDS[x.kind[a]];
    const name = kind === 'array' ? `[${x.slot[a]}]` : this.names.get(x.slot[a]);
    const owner = x.owner[a] < 0 ? '-' : this.decoder.renderRef(x.owner[a]);
    return `${kind} ${name} ${owner} = ${this.value(x.valueType[a], x.value[a], x.text[a])}`;
  }

  private value(type: ValueType, value: number, text: string | undefined): string {
    switch (type) {
      case ValueType.Int:
        return String(value);
      case ValueType.Char:
        return String.fromCharCode(value);
      case ValueType.Bool:
        return value ? 'true' : 'false';
      case ValueType.Ref:
        return this.decoder.renderRef(value);
      default:
        return text!;
    }
  }
}

/** Both decoders over the same slices: steps (in seq order), errors, warnings, end marker. */
export function decodeBoth(slices: Uint8Array[]) {
  const objects = new JvmTraceDecoder();
  const columns = new JvmColumnDecoder();
  const reader = new ColumnReader(columns);
  const sides = {
    old: [] as PlainStep[],
    new: [] as PlainStep[],
    oldErrors: [] as string[],
    newErrors: [] as string[],
  };
  const take = (a: ReturnType<JvmTraceDecoder['push']>, b: JvmColumnBatch) => {
    sides.old.push(...a.steps.map(fromObject));
    sides.new.push(...reader.steps(b));
    sides.oldErrors.push(
      ...a.errors.map((e) => `${e.code} ${e.message} @${e.offset}`),
      ...a.warnings,
    );
    sides.newErrors.push(
      ...b.errors.map((e) => `${e.code} ${e.message} @${e.offset}`),
      ...b.warnings,
    );
  };
  for (const slice of slices) take(objects.push(slice), columns.push(slice));
  take(objects.end(), columns.end());
  // Within a batch the decoders may close steps in a different order; the writers sort by seq.
  sides.old.sort((x, y) => x.seq - y.seq);
  sides.new.sort((x, y) => x.seq - y.seq);
  return sides;
}
