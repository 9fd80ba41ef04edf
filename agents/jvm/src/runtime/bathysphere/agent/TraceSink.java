package bathysphere.agent;

import java.io.IOException;

/** Where encoded chunks go: a file or a WebSocket. Only the writer thread calls these. */
interface TraceSink {
    void write(byte[] bytes, int offset, int length) throws IOException;

    /** The writer has nothing more queued right now: a good moment to send/flush. */
    void endOfBatch() throws IOException;

    void close() throws IOException;
}
