// Chunks compressed on the worker thread are the bytes compressChunk gives, in any number and
// order of waits; a worker that never answers or dies leaves no chunk uncompressed.

import { strict as assert } from 'node:assert';
import { compressChunk } from '../../../src/extension/jvm/chunkCodec';
import { ChunkCompressor } from '../../../src/extension/jvm/chunkCompressor';

/** Deterministic chunk-like bytes: runs and noise, so deflate has work to do. */
function sampleChunk(seed: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = (x >>> 24) % 5 === 0 ? x & 0xff : i % 17;
  }
  return bytes;
}

/** Plain bytes (compressChunk gives a Buffer, the worker's answers arrive as Uint8Array). */
function plain(bytes: Uint8Array | undefined): Uint8Array {
  assert.ok(bytes !== undefined, 'compressed');
  return new Uint8Array(bytes);
}

describe('ChunkCompressor', () => {
  it('gives the same bytes as compressChunk, whatever order the chunks are waited for', () => {
    const compressor = new ChunkCompressor();
    try {
      const raws = Array.from({ length: 40 }, (_, i) => sampleChunk(i + 1, 1000 + i * 997));
      const jobs = raws.map((raw) => compressor.submit(raw));
      // The caller reuses its buffer at once: the compressor must have copied it.
      for (const raw of raws) raw.fill(0);
      const expected = Array.from({ length: 40 }, (_, i) =>
        compressChunk(sampleChunk(i + 1, 1000 + i * 997)),
      );
      for (const i of [39, 0, 17, 18, 5]) {
        assert.deepEqual(plain(compressor.wait(jobs[i])), plain(expected[i]), `chunk ${i}`);
      }
      jobs.forEach((job, i) => {
        assert.deepEqual(plain(compressor.wait(job)), plain(expected[i]), `chunk ${i}`);
      });
    } finally {
      compressor.close();
    }
  });

  it('compresses on the calling thread when the worker never answers', () => {
    const silent = `require('node:worker_threads').workerData.port.on('message', () => {});`;
    const compressor = new ChunkCompressor(200, silent);
    try {
      const first = compressor.submit(sampleChunk(7, 5000));
      const started = performance.now();
      assert.deepEqual(plain(compressor.wait(first)), plain(compressChunk(sampleChunk(7, 5000))));
      assert.ok(performance.now() - started >= 150, 'waited for the stall limit first');
      // From then on, chunks are compressed at once, without waiting again.
      const second = compressor.submit(sampleChunk(8, 5000));
      assert.ok(compressor.isDone(second));
      assert.deepEqual(plain(second.data), plain(compressChunk(sampleChunk(8, 5000))));
    } finally {
      compressor.close();
    }
  });

  it('compresses on the calling thread when the worker dies', () => {
    const crashing = `require('node:worker_threads').workerData.port.on('message', () => { process.exit(3); });`;
    const compressor = new ChunkCompressor(2000, crashing);
    try {
      const jobs = [1, 2, 3].map((seed) => compressor.submit(sampleChunk(seed, 3000)));
      jobs.forEach((job, i) => {
        assert.deepEqual(
          plain(compressor.wait(job)),
          plain(compressChunk(sampleChunk(i + 1, 3000))),
        );
      });
    } finally {
      compressor.close();
    }
  });
});
