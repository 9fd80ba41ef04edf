// The session side of a JVM run being recorded, shared by the trace writers: dictionaries
// (threads, methods, locations, variable names) inserted before the first chunk that uses them,
// sealed chunks with their per-line index, the run's statistics and metadata.

import type { SessionStore } from '../store/sessionStore';
import { CHUNK_ENCODING_DEFLATE_V1, compressChunk } from './chunkCodec';
import type { JvmBatchCommon, JvmMethodInfo, JvmThreadInfo } from './decoder';
import { ChunkCompressor, type CompressionJob } from './chunkCompressor';
import { NumberMap } from './numberMap';

/** Where the writers read the connection's static tables from (the connection's decoder). */
export interface JvmDeclarationSource {
  methodTable(): ReadonlyMap<number, JvmMethodInfo>;
  classTable(): ReadonlyMap<number, { name: string; sourceFile: string }>;
}

export interface JvmIngestStats {
  steps: number;
  threads: number;
  chunks: number;
  storedBytes: number;
  warnings: string[];
  errors: string[];
  droppedBuffers: number;
  ended: boolean;
}

/** What a chunk builder knows about the steps it holds. */
export interface ChunkSummary {
  count: number;
  firstOrder: number;
  firstSeq: number;
  lastSeq: number;
  minDepth: number;
  /** Distinct location ids of the chunk (for the per-line navigation index). */
  locationIds: Iterable<number>;
}

const MAX_WARNINGS_KEPT = 200;
/** Chunks per multi-row INSERT (10 parameters each; SQLite allows 32766). */
const CHUNKS_PER_INSERT = 100;

/**
 * Queued chunks whose compression has not finished, at most: beyond this the writer waits
 * for the compressor (memory stays bounded when it cannot keep up).
 */
const MAX_CHUNKS_COMPRESSING = 32;

/** A sealed chunk, being compressed, waiting to be inserted. */
interface QueuedChunk {
  threadId: number;
  firstOrder: number;
  count: number;
  firstSeq: number;
  lastSeq: number;
  minDepth: number;
  locations: number[];
  rawBytes: number;
  compressed: CompressionJob;
}

export class JvmRunStorage {
  private readonly locations = new NumberMap();
  private readonly storedMethods = new Map<number, JvmMethodInfo>();
  private readonly threadIds = new Set<number>();
  private pendingNames: [number, string][] = [];
  private pendingLocations: [number, number, number][] = [];
  private pendingThreads: JvmThreadInfo[] = [];
  private queuedChunks: QueuedChunk[] = [];
  readonly stats: JvmIngestStats = {
    steps: 0,
    threads: 0,
    chunks: 0,
    storedBytes: 0,
    warnings: [],
    errors: [],
    droppedBuffers: 0,
    ended: false,
  };

  constructor(
    private readonly store: SessionStore,
    readonly runId: number,
    private readonly declarations: JvmDeclarationSource,
    private readonly compressor: ChunkCompressor = ChunkCompressor.shared(),
  ) {}

  /** Threads, warnings, errors, run info and end marker of a decoded batch. */
  noteBatch(batch: JvmBatchCommon): void {
    for (const info of batch.threads) this.declareThread(info);
    for (const warning of batch.warnings) {
      if (this.stats.warnings.length < MAX_WARNINGS_KEPT) this.stats.warnings.push(warning);
    }
    for (const error of batch.errors) {
      if (this.stats.errors.length < MAX_WARNINGS_KEPT) this.stats.errors.push(error.message);
    }
    if (batch.droppedBuffers !== undefined) this.stats.droppedBuffers = batch.droppedBuffers;
    if (batch.ended) this.stats.ended = true;
    if (batch.run) this.mergeMetadata({ jvm: batch.run });
  }

  /** True the first time a thread id is seen (the caller sets up its state). */
  declareThread(info: JvmThreadInfo): boolean {
    if (this.threadIds.has(info.id)) return false;
    this.threadIds.add(info.id);
    this.pendingThreads.push(info);
    this.stats.threads = this.threadIds.size;
    return true;
  }

  /** A variable name id used by chunks from now on. */
  addName(id: number, name: string): void {
    this.pendingNames.push([id, name]);
  }

  locationId(methodId: number, line: number): number {
    const key = methodId * 2 ** 24 + (line + 1);
    let id = this.locations.get(key);
    if (id === 0) {
      id = this.locations.size + 1;
      this.locations.swap(key, id);
      this.pendingLocations.push([id, methodId, line]);
    }
    return id;
  }

  /** Compresses and inserts one chunk of a thread, with the dictionary rows it needs. */
  storeChunk(threadId: number, chunk: ChunkSummary, raw: Uint8Array): void {
    const data = compressChunk(raw);
    this.store.transaction(() => {
      this.storePendingDictionariesNow();
      this.store.query(
        `INSERT INTO jvm_chunks (run_id, thread_id, first_order, step_count, first_seq, last_seq,
                                 min_depth, encoding, raw_bytes, data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          this.runId,
          threadId,
          chunk.firstOrder,
          chunk.count,
          chunk.firstSeq,
          chunk.lastSeq,
          chunk.minDepth,
          CHUNK_ENCODING_DEFLATE_V1,
          raw.length,
          data,
        ],
      );
      insertRows(
        this.store,
        'INSERT OR IGNORE INTO jvm_chunk_locations (run_id, thread_id, location_id, first_order)',
        [...chunk.locationIds].map((location) => [
          this.runId,
          threadId,
          location,
          chunk.firstOrder,
        ]),
      );
      this.store.query(
        'UPDATE jvm_threads SET step_count = step_count + ? WHERE run_id = ? AND thread_id = ?',
        [chunk.count, this.runId, threadId],
      );
    });
    this.stats.chunks++;
    this.stats.storedBytes += data.length;
  }

  /**
   * Hands a chunk to the compressor (which copies it: the builder is reused) and queues it for
   * insertion; chunks are inserted in queue order, many to a transaction, because a
   * transaction per chunk cost more than compressing it.
   */
  queueChunk(threadId: number, chunk: ChunkSummary, raw: Uint8Array): void {
    this.queuedChunks.push({
      threadId,
      firstOrder: chunk.firstOrder,
      count: chunk.count,
      firstSeq: chunk.firstSeq,
      lastSeq: chunk.lastSeq,
      minDepth: chunk.minDepth,
      locations: [...chunk.locationIds],
      rawBytes: raw.length,
      compressed: this.compressor.submit(raw),
    });
    this.stats.chunks++;
  }

  /**
   * Inserts the oldest queued chunks once `groupSize` of them in a row are compressed; waits
   * for the compressor when too many are still being compressed.
   */
  storeCompressedChunks(groupSize: number): void {
    const queue = this.queuedChunks;
    let ready = 0;
    while (ready < queue.length && this.compressor.isDone(queue[ready].compressed)) ready++;
    for (let oldest = ready; queue.length - oldest > MAX_CHUNKS_COMPRESSING; oldest++) {
      this.compressor.wait(queue[oldest].compressed);
      ready = oldest + 1;
    }
    if (ready >= groupSize) this.insertQueuedChunks(ready);
  }

  /** Inserts every queued chunk (waiting for their compression) and the dictionary rows they need. */
  storeQueuedChunks(): void {
    for (const chunk of this.queuedChunks) this.compressor.wait(chunk.compressed);
    this.insertQueuedChunks(this.queuedChunks.length);
  }

  /** Inserts the first `count` queued chunks, compressed, in one transaction. */
  private insertQueuedChunks(count: number): void {
    if (count === 0) return;
    const chunks = this.queuedChunks.slice(0, count);
    this.queuedChunks = this.queuedChunks.slice(count);
    const run = this.runId;
    this.store.transaction(() => {
      this.storePendingDictionariesNow();
      insertRows(
        this.store,
        `INSERT INTO jvm_chunks (run_id, thread_id, first_order, step_count, first_seq, last_seq,
                                 min_depth, encoding, raw_bytes, data)`,
        chunks.map((c) => [
          run,
          c.threadId,
          c.firstOrder,
          c.count,
          c.firstSeq,
          c.lastSeq,
          c.minDepth,
          CHUNK_ENCODING_DEFLATE_V1,
          c.rawBytes,
          c.compressed.data!,
        ]),
        CHUNKS_PER_INSERT,
      );
      insertRows(
        this.store,
        'INSERT OR IGNORE INTO jvm_chunk_locations (run_id, thread_id, location_id, first_order)',
        chunks.flatMap((c) => c.locations.map((l) => [run, c.threadId, l, c.firstOrder])),
      );
      const added = new Map<number, number>();
      for (const c of chunks) added.set(c.threadId, (added.get(c.threadId) ?? 0) + c.count);
      for (const [threadId, count] of added) {
        this.store.query(
          'UPDATE jvm_threads SET step_count = step_count + ? WHERE run_id = ? AND thread_id = ?',
          [count, run, threadId],
        );
      }
    });
    for (const c of chunks) this.stats.storedBytes += c.compressed.data!.length;
  }

  storePendingDictionaries(): void {
    if (this.hasPendingDictionaries())
      this.store.transaction(() => this.storePendingDictionariesNow());
  }

  /** Records the outcome in the run's metadata and ends the run. */
  finish(extraMetadata: Record<string, unknown>): JvmIngestStats {
    this.mergeMetadata({
      warnings: this.stats.warnings,
      decodeErrors: this.stats.errors,
      droppedBuffers: this.stats.droppedBuffers,
      ended: this.stats.ended,
      ...extraMetadata,
    });
    this.store.endRun(this.runId);
    return this.stats;
  }

  private hasPendingDictionaries(): boolean {
    return (
      this.pendingNames.length > 0 ||
      this.pendingLocations.length > 0 ||
      this.pendingThreads.length > 0 ||
      this.changedMethods().length > 0
    );
  }

  /** Inserts dictionary rows met since the last call (inside the caller's transaction). */
  private storePendingDictionariesNow(): void {
    const run = this.runId;
    insertRows(
      this.store,
      'INSERT OR IGNORE INTO jvm_threads (run_id, thread_id, name, is_main, trace_id)',
      this.pendingThreads.map((t) => [run, t.id, t.name, t.isMain ? 1 : 0, t.traceId]),
    );
    insertRows(
      this.store,
      'INSERT INTO jvm_names (run_id, name_id, name)',
      this.pendingNames.map(([id, name]) => [run, id, name]),
    );
    insertRows(
      this.store,
      'INSERT INTO jvm_locations (run_id, location_id, method_id, line)',
      this.pendingLocations.map(([id, method, line]) => [run, id, method, line]),
    );
    const changed = this.changedMethods();
    // Every class of the program by name: built only when there are methods to store.
    const sourceFiles = new Map<string, string>();
    if (changed.length > 0) {
      for (const c of this.declarations.classTable().values())
        sourceFiles.set(c.name, c.sourceFile);
    }
    insertRows(
      this.store,
      `INSERT OR REPLACE INTO jvm_methods
         (run_id, method_id, class_name, source_file, name, descriptor, is_static, lines, branches)`,
      changed.map((m) => {
        this.storedMethods.set(m.id, m);
        return [
          run,
          m.id,
          m.className,
          sourceFiles.get(m.className) ?? '',
          m.name,
          m.descriptor,
          m.isStatic ? 1 : 0,
          JSON.stringify(m.lines),
          JSON.stringify(m.branches.map((b) => [b.lineIndex, b.controls])),
        ];
      }),
    );
    this.pendingThreads = [];
    this.pendingNames = [];
    this.pendingLocations = [];
  }

  private changedMethods(): JvmMethodInfo[] {
    const changed: JvmMethodInfo[] = [];
    for (const method of this.declarations.methodTable().values()) {
      if (this.storedMethods.get(method.id) !== method) changed.push(method);
    }
    return changed;
  }

  mergeMetadata(extra: Record<string, unknown>): void {
    mergeRunMetadata(this.store, this.runId, extra);
  }
}

/** Adds keys to a run's metadata JSON (runs.metadata), keeping the others. */
export function mergeRunMetadata(
  store: SessionStore,
  runId: number,
  extra: Record<string, unknown>,
): void {
  const run = store.run(runId);
  if (!run) return;
  const metadata = JSON.stringify({ ...run.metadata, ...extra });
  store.transaction(() =>
    store.query('UPDATE runs SET metadata = ? WHERE id = ?', [metadata, runId]),
  );
}

/** Multi-row INSERT in groups, so thousands of rows cost a handful of statements. */
function insertRows(
  store: SessionStore,
  insert: string,
  rows: (string | number | Uint8Array)[][],
  rowsPerStatement = 500,
): void {
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    const group = rows.slice(start, start + rowsPerStatement);
    const placeholders = `(${group[0].map(() => '?').join(', ')})`;
    store.query(`${insert} VALUES ${group.map(() => placeholders).join(', ')}`, group.flat());
  }
}
