// Deterministic synthetic JVM traces in the agent's wire format (docs/jvm-trace-format.md), as
// WebSocket messages: the same program as syntheticTrace.ts (each thread loops in `main`,
// calling `work` every iteration; locals, a per-thread object's field, a static shared by all
// threads, array elements, a return value, and a loop branch controlling the body), written as
// events into per-thread buffers that are flushed as EVENTS chunks when full, so steps straddle
// chunks and messages as they do with the real agent. Feeds both decoders at sizes no test JVM
// produces quickly. With `boxes`, every iteration also stores a boxed primitive (of each kind in
// turn, or null) into a static and reads it back: a pool of box objects shared by the threads.

import { ByteWriter } from '../../../src/extension/jvm/chunkCodec';
import {
  Chunk,
  Decl,
  FORMAT_VERSION,
  LAST_WELL_KNOWN_TYPE,
  MAGIC,
  Tag,
  WellKnownType,
} from '../../../src/extension/jvm/format';

const CLASS = 1;
const MAIN = 1;
const WORK = 2;
const FIELD_COUNT = 1;
const STATIC_TOTAL = 2;
const STATIC_LATEST = 3;
// Type ids after the well-known ones, as the agent hands them out.
const TYPE_SYNTHETIC = LAST_WELL_KNOWN_TYPE + 1;
const TYPE_INT_ARRAY = LAST_WELL_KNOWN_TYPE + 2;

export interface SyntheticWireOptions {
  /** Distinct array elements written (bounds the last-writer map in long traces). */
  arraySize?: number;
  /** Per-thread event buffer flushed as one EVENTS chunk (the agent's `buffer`). */
  bufferBytes?: number;
  /** Chunks are grouped into messages of about this size. */
  messageBytes?: number;
  /** Steps a thread runs before the next thread's turn. */
  slice?: number;
  /** Each iteration writes a box (or null) into a static of type Object and reads it back. */
  boxes?: boolean;
}

/** Distinct box objects; object 0 of the pool stands for null. */
const BOX_POOL = 41;
const FIRST_BOX_ID = 5000;

interface WireThread {
  id: number;
  steps: number;
  iteration: number;
  phase: number;
  events: ByteWriter;
  /** Objects this thread's stream has used (the first use carries the type). */
  usedObjects: Set<number>;
}

export class SyntheticWireTrace {
  private readonly threads: WireThread[];
  private readonly arraySize: number;
  private readonly bufferBytes: number;
  private readonly messageBytes: number;
  private readonly slice: number;
  private readonly boxes: boolean;
  private message = new ByteWriter();

  constructor(
    threadCount: number,
    private readonly stepsPerThread: number,
    options: SyntheticWireOptions = {},
  ) {
    this.arraySize = options.arraySize ?? 5000;
    this.bufferBytes = options.bufferBytes ?? 65536;
    this.messageBytes = options.messageBytes ?? 65536;
    this.slice = options.slice ?? 37;
    this.boxes = options.boxes ?? false;
    this.threads = Array.from({ length: threadCount }, (_, t) => ({
      id: t + 1,
      steps: 0,
      iteration: 0,
      phase: 0,
      events: new ByteWriter(),
      usedObjects: new Set(),
    }));
  }

  get totalSteps(): number {
    return this.threads.length * this.stepsPerThread;
  }

  /** The stream, message by message; the last message holds the END chunk. */
  *messages(): Generator<Uint8Array> {
    this.message = new ByteWriter();
    for (const b of MAGIC) this.message.u8(b);
    this.message.u8(FORMAT_VERSION);
    this.chunk(Chunk.Declarations, this.declarations());
    for (const thread of this.threads) this.enterMain(thread);
    let live = this.threads.filter((t) => t.steps < this.stepsPerThread);
    while (live.length > 0) {
      for (const thread of live) {
        for (let k = 0; k < this.slice && thread.steps < this.stepsPerThread; k++) {
          this.step(thread);
          if (thread.events.length >= this.bufferBytes) this.flush(thread);
        }
        if (this.message.length >= this.messageBytes) yield this.takeMessage();
      }
      live = live.filter((t) => t.steps < this.stepsPerThread);
    }
    for (const thread of this.threads) this.flush(thread);
    const end = new ByteWriter();
    end.varint(0);
    this.chunk(Chunk.End, end.view());
    yield this.takeMessage();
  }

  private takeMessage(): Uint8Array {
    const out = this.message.view().slice();
    this.message.reset();
    return out;
  }

  private chunk(kind: number, payload: Uint8Array): void {
    this.message.u8(kind);
    this.message.varint(payload.length);
    this.message.append(payload);
  }

  private flush(thread: WireThread): void {
    if (thread.events.length === 0) return;
    const header = new ByteWriter();
    header.varint(thread.id);
    header.u8(0);
    this.message.u8(Chunk.Events);
    this.message.varint(header.length + thread.events.length);
    this.message.append(header.view());
    this.message.append(thread.events.view());
    thread.events.reset();
  }

  private declarations(): Uint8Array {
    const d = new ByteWriter();
    d.u8(Decl.Run);
    d.string('synthetic-run');
    d.varint(1);
    d.string('17');
    d.string('full');
    d.string('');
    d.u8(Decl.Class);
    d.varint(CLASS);
    d.string('demo.Synthetic');
    d.string('Synthetic.java');
    // main: lines 10-12, local i; the loop condition (line index 0) controls indices 0..2.
    this.method(d, MAIN, 'main', '([Ljava/lang/String;)V', [10, 11, 12], 'i', [[0, [0, 1, 2]]]);
    this.method(d, WORK, 'work', '(I)I', [20, 21, 22], 'x', []);
    d.u8(Decl.Field);
    d.varint(FIELD_COUNT);
    d.string('demo.Synthetic');
    d.string('count');
    d.string('I');
    d.u8(0);
    d.u8(Decl.Field);
    d.varint(STATIC_TOTAL);
    d.string('demo.Synthetic');
    d.string('total');
    d.string('I');
    d.u8(1);
    d.u8(Decl.Field);
    d.varint(STATIC_LATEST);
    d.string('demo.Synthetic');
    d.string('latest');
    d.string('Ljava/lang/Object;');
    d.u8(1);
    d.u8(Decl.Type);
    d.varint(TYPE_SYNTHETIC);
    d.string('demo.Synthetic');
    d.u8(Decl.Type);
    d.varint(TYPE_INT_ARRAY);
    d.string('[I');
    for (const thread of this.threads) {
      d.u8(Decl.Thread);
      d.varint(thread.id);
      d.string(thread.id === 1 ? 'main' : `worker-${thread.id - 1}`);
      d.u8(thread.id === 1 ? 1 : 0);
      d.string(`synthetic-run/${thread.id}`);
    }
    return d.view().slice();
  }

  private method(
    d: ByteWriter,
    id: number,
    name: string,
    descriptor: string,
    lines: number[],
    local: string,
    branches: [number, number[]][],
  ): void {
    d.u8(Decl.Method);
    d.varint(id);
    d.varint(CLASS);
    d.string(name);
    d.string(descriptor);
    d.varint(1); // static
    d.varint(lines.length);
    for (const line of lines) d.varint(line);
    d.varint(1);
    d.string(local);
    d.string('I');
    d.varint(branches.length);
    for (const [lineIndex, controls] of branches) {
      d.varint(lineIndex);
      d.varint(controls.length);
      for (const c of controls) d.varint(c);
    }
  }

  private enterMain(thread: WireThread): void {
    thread.events.u8(Tag.Enter);
    thread.events.varint(MAIN);
  }

  /** One step's events (the phase of the loop iteration decides which). */
  private step(thread: WireThread): void {
    const e = thread.events;
    const i = thread.iteration;
    switch (thread.phase) {
      case 0: // for (i...) condition: reads i, branch 0, writes i
        e.u8(Tag.Line | 0);
        e.u8(Tag.ReadLocal | 0);
        e.zigzag(i);
        e.u8(Tag.Branch | 0);
        e.u8(Tag.WriteLocal | 0);
        e.zigzag(i);
        break;
      case 1: // count = i; total = i; work(i)
        e.u8(Tag.Line | 1);
        e.u8(Tag.ReadLocal | 0);
        e.zigzag(i);
        e.u8(Tag.WriteField);
        e.varint(FIELD_COUNT);
        this.ref(thread, 1000 + thread.id, TYPE_SYNTHETIC);
        e.zigzag(i);
        e.u8(Tag.WriteStatic);
        e.varint(STATIC_TOTAL);
        e.zigzag(i);
        if (this.boxes) {
          e.u8(Tag.WriteStatic);
          e.varint(STATIC_LATEST);
          this.boxRef(thread, i % BOX_POOL);
        }
        e.u8(Tag.Enter);
        e.varint(WORK);
        e.u8(Tag.WriteLocal | 0); // the argument x, before work's first line
        e.zigzag(i);
        break;
      case 2: // work: reads count
        e.u8(Tag.Line | 0);
        e.u8(Tag.ReadField);
        e.varint(FIELD_COUNT);
        this.ref(thread, 1000 + thread.id, TYPE_SYNTHETIC);
        e.zigzag(i);
        break;
      case 3: // arr[i % n] = x
        e.u8(Tag.Line | 1);
        e.u8(Tag.ReadLocal | 0);
        e.zigzag(i);
        e.u8(Tag.WriteArray);
        this.ref(thread, 2000 + thread.id, TYPE_INT_ARRAY);
        e.varint(i % this.arraySize);
        e.zigzag(i);
        break;
      case 4: // return x + 1 (x is read as last written: the argument)
        e.u8(Tag.Line | 2);
        e.u8(Tag.ReadLocalAsWritten | 0);
        e.u8(Tag.Return);
        e.zigzag(i + 1);
        break;
      default: // back in main: read total and the element
        e.u8(Tag.Line | 2);
        e.u8(Tag.ReadStatic);
        e.varint(STATIC_TOTAL);
        e.zigzag(i);
        e.u8(Tag.ReadArray);
        this.ref(thread, 2000 + thread.id, TYPE_INT_ARRAY);
        e.varint(i % this.arraySize);
        e.zigzag(i);
        if (this.boxes) {
          e.u8(Tag.ReadStatic);
          e.varint(STATIC_LATEST);
          this.boxRef(thread, i % BOX_POOL);
        }
        thread.iteration++;
    }
    thread.phase = (thread.phase + 1) % 6;
    thread.steps++;
  }

  /**
   * An object reference: the first use in the thread's stream carries the object's type, and an
   * array's length.
   */
  private ref(thread: WireThread, id: number, typeId: number): void {
    if (!thread.usedObjects.has(id)) {
      thread.usedObjects.add(id);
      thread.events.varint(id * 2 + 1);
      thread.events.varint(typeId);
      if (typeId === TYPE_INT_ARRAY) thread.events.varint(this.arraySize);
    } else thread.events.varint(id * 2);
  }

  /** Box `box` of the pool: its kind and value follow from its number, as an object's do. */
  private boxRef(thread: WireThread, box: number): void {
    const e = thread.events;
    if (box === 0) return e.varint(0);
    const id = FIRST_BOX_ID + box;
    if (thread.usedObjects.has(id)) return e.varint(id * 2);
    thread.usedObjects.add(id);
    e.varint(id * 2 + 1);
    const kind = WellKnownType.Boolean + (box % 8);
    e.varint(kind);
    writeBoxValue(e, kind, box);
  }
}

/** The value of box `box` of the pool, encoded as the agent encodes a box of this kind. */
function writeBoxValue(e: ByteWriter, kind: WellKnownType, box: number): void {
  switch (kind) {
    case WellKnownType.Boolean:
      return e.u8(box & 1);
    case WellKnownType.Character:
      return e.varint(box * 7); // from control characters to beyond ASCII
    case WellKnownType.Byte:
      return e.zigzag(-box);
    case WellKnownType.Short:
      return e.zigzag(-300 * box);
    case WellKnownType.Integer:
      return e.zigzag(box * 11); // values the loop's ints also take: one text, one table entry
    case WellKnownType.Long:
      // Long.MIN_VALUE (zigzag 2^64 - 1: ten bytes) for one box, large negative ones otherwise.
      if (box === 5) return writeBytes(e, [...new Array(9).fill(0xff), 0x01]);
      return e.varint(box * 2 ** 40 * 2 - 1);
    case WellKnownType.Float:
      return writeBytes(e, new Uint8Array(new Float32Array([box / 3]).buffer));
    default:
      return writeBytes(e, new Uint8Array(new Float64Array([-box / 7]).buffer));
  }
}

function writeBytes(e: ByteWriter, bytes: ArrayLike<number>): void {
  for (let k = 0; k < bytes.length; k++) e.u8(bytes[k]);
}
