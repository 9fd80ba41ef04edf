package bathysphere.agent;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/** Offline recording: the stream goes to a file (format in docs/jvm-trace-format.md). */
final class FileSink implements TraceSink {
    private final OutputStream out;

    FileSink(String path) throws IOException {
        out = new BufferedOutputStream(new FileOutputStream(path), 1 << 20);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        out.write(bytes, offset, length);
    }

    @Override
    public void endOfBatch() {
        // The buffered stream flushes itself when full; close() flushes the rest.
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
