package bathysphere.agent;

import java.io.IOException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The single writer thread. Recording threads hand over full buffers; a semaphore bounds how
 * many may be queued (memory bound). In lossless mode a producer waits for a slot; in drop mode
 * it gets none and the recorder notes a gap.
 */
final class TraceWriter {
    static final byte[] MAGIC = {'B', 'S', 'T', 'R', 3}; // format version 3
    static final int CHUNK_DECLARATIONS = 1, CHUNK_EVENTS = 2, CHUNK_END = 3;
    static final int EVENTS_FLAG_TAIL = 1;

    private static final Object END_MARKER = new Object();

    /** A thread's events; {@code pooled} buffers go back to the free list after writing. */
    private static final class EventsChunk {
        final int threadId;
        final byte[] data;
        final int length;
        final boolean tail;

        EventsChunk(int threadId, byte[] data, int length, boolean tail) {
            this.threadId = threadId;
            this.data = data;
            this.length = length;
            this.tail = tail;
        }
    }

    private final TraceSink sink;
    private final Declarations declarations;
    private final int bufferSize;
    private final Semaphore queueSlots;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final ConcurrentLinkedQueue<byte[]> freeBuffers = new ConcurrentLinkedQueue<>();
    private final WireBuffer header = new WireBuffer(32);
    private final Thread thread;
    private final AtomicLong droppedBuffers = new AtomicLong();
    private final AtomicLong bytesWritten = new AtomicLong();
    private volatile boolean failed;

    TraceWriter(TraceSink sink, Declarations declarations, int bufferSize, int queuedBuffers) {
        this.sink = sink;
        this.declarations = declarations;
        this.bufferSize = bufferSize;
        this.queueSlots = new Semaphore(queuedBuffers);
        this.thread = new Thread(this::run, "bathysphere-writer");
        thread.setDaemon(true);
    }

    void start() throws IOException {
        sink.write(MAGIC, 0, MAGIC.length);
        thread.start();
    }

    /** Called by a recording thread with a full buffer; returns the buffer to continue with. */
    byte[] submit(int threadId, byte[] filled, int length, boolean dropWhenFull) {
        if (failed) return filled; // sink is gone: keep recording into the same buffer, no output
        if (dropWhenFull) {
            if (!queueSlots.tryAcquire()) {
                droppedBuffers.incrementAndGet();
                return null;
            }
        } else {
            queueSlots.acquireUninterruptibly();
        }
        queue.add(new EventsChunk(threadId, filled, length, false));
        byte[] fresh = freeBuffers.poll();
        return fresh != null ? fresh : new byte[bufferSize];
    }

    /** Shutdown path: the remaining bytes of a thread, possibly ending in a partial event. */
    void submitTail(int threadId, byte[] bytes) {
        if (bytes.length > 0) queue.add(new EventsChunk(threadId, bytes, bytes.length, true));
    }

    /** Queues the end marker and waits (bounded) until everything before it was written. */
    void finish(long timeoutMillis) {
        queue.add(END_MARKER);
        try {
            thread.join(timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    long droppedBuffers() {
        return droppedBuffers.get();
    }

    long bytesWritten() {
        return bytesWritten.get();
    }

    private void run() {
        try {
            while (true) {
                Object item = queue.poll(200, TimeUnit.MILLISECONDS);
                if (item == null) {
                    writeDeclarations();
                    sink.endOfBatch();
                    continue;
                }
                if (item == END_MARKER) {
                    writeDeclarations();
                    writeEnd();
                    break;
                }
                writeEvents((EventsChunk) item);
                if (queue.isEmpty()) sink.endOfBatch();
            }
        } catch (Throwable t) {
            failed = true;
            System.err.println("[bathysphere] trace output failed, recording stops: " + t);
            queueSlots.release(Integer.MAX_VALUE / 2); // never block producers again
        } finally {
            try {
                sink.close();
            } catch (IOException e) {
                System.err.println("[bathysphere] closing trace output failed: " + e);
            }
        }
    }

    private void writeEvents(EventsChunk chunk) throws IOException {
        writeDeclarations(); // every id used by the chunk was declared before it was handed over
        header.clear();
        int threadIdLength = varintLength(chunk.threadId);
        header.u8(CHUNK_EVENTS).varint(threadIdLength + 1 + chunk.length);
        header.varint(chunk.threadId).u8(chunk.tail ? EVENTS_FLAG_TAIL : 0);
        sink.write(header.array(), 0, header.size());
        sink.write(chunk.data, 0, chunk.length);
        bytesWritten.addAndGet(header.size() + chunk.length);
        if (!chunk.tail) {
            freeBuffers.add(chunk.data);
            queueSlots.release();
        }
    }

    private void writeDeclarations() throws IOException {
        byte[] pending = declarations.drain();
        if (pending == null) return;
        header.clear();
        header.u8(CHUNK_DECLARATIONS).varint(pending.length);
        sink.write(header.array(), 0, header.size());
        sink.write(pending, 0, pending.length);
        bytesWritten.addAndGet(header.size() + pending.length);
    }

    private void writeEnd() throws IOException {
        header.clear();
        WireBuffer payload = new WireBuffer(16).varint(droppedBuffers.get());
        header.u8(CHUNK_END).varint(payload.size()).raw(payload.array(), 0, payload.size());
        sink.write(header.array(), 0, header.size());
        sink.endOfBatch();
    }

    private static int varintLength(long value) {
        int length = 1;
        while ((value & ~0x7FL) != 0) {
            value >>>= 7;
            length++;
        }
        return length;
    }
}
