// Deflates sealed chunks on a worker thread, so that compressing a chunk overlaps decoding and
// relating the next steps instead of taking its turn on the recording thread. The bytes are
// the same as compressChunk's (same zlib, same options). Results are collected without the
// event loop (receiveMessageOnPort), and a caller that needs a chunk now blocks on a shared
// counter (Atomics.wait), so storing stays synchronous: after JvmRunStorage.storeQueuedChunks
// returns, every queued chunk is in the session, as before. If the worker cannot start, fails,
// or makes no progress for a while, chunks are compressed on the calling thread instead.

import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from 'node:worker_threads';
import { CHUNK_DEFLATE_OPTIONS, compressChunk } from './chunkCodec';

/** A chunk handed to the compressor; `data` is set (and `raw` let go) once it is compressed. */
export interface CompressionJob {
  raw: Uint8Array | undefined;
  data: Uint8Array | undefined;
}

/**
 * The worker: deflates the chunks of each message it is sent, answers them in one message on
 * the same port, and counts the chunks answered.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { deflateRawSync } = require('node:zlib');
const { port, answered, options } = workerData;
port.on('message', (jobs) => {
  port.postMessage(jobs.map((job) => ({ id: job.id, data: deflateRawSync(job.raw, options) })));
  Atomics.add(answered, 0, jobs.length);
  Atomics.notify(answered, 0);
});
`;

/** Chunks sent to the worker per message (fewer messages: fewer wake-ups of the worker). */
const JOBS_PER_MESSAGE = 4;

/** A chunk as sent to the worker. */
interface PostedJob {
  id: number;
  raw: Uint8Array;
}

/** Waiting longer than this for an answer means the worker is stuck: compress here instead. */
const DEFAULT_STALL_MS = 2000;

export class ChunkCompressor {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  /** Chunks the worker has answered so far (it counts after posting each answer). */
  private answered = new Int32Array(new SharedArrayBuffer(4));
  private readonly waiting = new Map<number, CompressionJob>();
  /** Submitted chunks not yet sent (they go JOBS_PER_MESSAGE at a time, or when waited for). */
  private unsent: PostedJob[] = [];
  private nextId = 1;
  private failed = false;

  /** One worker serves every recording in the process, started on first use. */
  static shared(): ChunkCompressor {
    sharedCompressor ??= new ChunkCompressor();
    return sharedCompressor;
  }

  constructor(
    private readonly stallMs = DEFAULT_STALL_MS,
    private readonly workerSource = WORKER_SOURCE,
  ) {}

  /** Starts compressing a copy of `raw` (the caller may reuse its buffer at once). */
  submit(raw: Uint8Array): CompressionJob {
    if (!this.started()) return { raw: undefined, data: compressChunk(raw) };
    // A copy stays here in case the worker fails before answering.
    const copy = raw.slice();
    const job: CompressionJob = { raw: copy, data: undefined };
    const id = this.nextId++;
    this.waiting.set(id, job);
    this.unsent.push({ id, raw: copy });
    if (this.unsent.length >= JOBS_PER_MESSAGE) this.send();
    return job;
  }

  /**
   * Takes the answers that have arrived; true when `job` is compressed (one not yet sent to
   * the worker is not: wait() sends it).
   */
  isDone(job: CompressionJob): boolean {
    if (job.data === undefined) this.collect();
    return job.data !== undefined;
  }

  /** Blocks until `job` is compressed (here, if the worker stalls or has failed). */
  wait(job: CompressionJob): Uint8Array {
    this.send();
    let lastAnswered = Atomics.load(this.answered, 0);
    this.collect();
    while (job.data === undefined) {
      if (this.failed || this.worker === undefined) {
        this.compressWaitingHere();
        break;
      }
      if (this.blockUntilAnswered(lastAnswered) === 'timed-out') this.fail();
      lastAnswered = Atomics.load(this.answered, 0);
      this.collect();
    }
    return job.data!;
  }

  /** Stops the worker; chunks still waiting are compressed here. */
  close(): void {
    this.fail();
    this.compressWaitingHere();
  }

  private started(): boolean {
    if (this.failed) return false;
    if (this.worker !== undefined) return true;
    try {
      const channel = new MessageChannel();
      this.worker = new Worker(this.workerSource, {
        eval: true,
        workerData: {
          port: channel.port2,
          answered: this.answered,
          options: CHUNK_DEFLATE_OPTIONS,
        },
        transferList: [channel.port2],
      });
      this.port = channel.port1;
      // Neither keeps the process alive: waiting is done with Atomics, not the event loop.
      this.worker.unref();
      this.port.unref();
      this.worker.on('error', () => this.fail());
      this.worker.on('exit', () => this.fail());
      return true;
    } catch {
      this.failed = true;
      return false;
    }
  }

  /** Atomics.wait, where a thread may not block (it throws) counting as a stalled worker. */
  private blockUntilAnswered(lastAnswered: number): string {
    try {
      return Atomics.wait(this.answered, 0, lastAnswered, this.stallMs);
    } catch {
      return 'timed-out';
    }
  }

  private send(): void {
    if (this.unsent.length === 0 || this.port === undefined) return;
    this.port.postMessage(this.unsent);
    this.unsent = [];
  }

  private collect(): void {
    const port = this.port;
    if (port === undefined) return;
    for (;;) {
      const received = receiveMessageOnPort(port);
      if (received === undefined) return;
      for (const answer of received.message as { id: number; data: Uint8Array }[]) {
        const job = this.waiting.get(answer.id);
        if (job === undefined) continue; // compressed here after a stall
        this.waiting.delete(answer.id);
        job.data = answer.data;
        job.raw = undefined;
      }
    }
  }

  private fail(): void {
    if (this.failed) return;
    this.failed = true;
    this.collect();
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    this.port?.close();
    this.port = undefined;
  }

  private compressWaitingHere(): void {
    for (const job of this.waiting.values()) {
      job.data = compressChunk(job.raw!);
      job.raw = undefined;
    }
    this.waiting.clear();
    this.unsent = [];
  }
}

let sharedCompressor: ChunkCompressor | undefined;
