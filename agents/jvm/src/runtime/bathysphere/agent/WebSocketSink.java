package bathysphere.agent;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Live recording: chunks are sent as binary WebSocket messages to the extension, which checks
 * the token header. Waiting for each send to complete gives back-pressure to the writer (and,
 * through its bounded queue, to the recording threads).
 */
final class WebSocketSink implements TraceSink {
    static final String TOKEN_HEADER = "X-Bathysphere-Token";
    private static final int MESSAGE_TARGET = 256 * 1024;

    private final WebSocket socket;
    private final WireBuffer message = new WireBuffer(MESSAGE_TARGET + 65536);

    WebSocketSink(String url, String token) throws IOException {
        try {
            HttpClient client =
                    HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            socket =
                    client.newWebSocketBuilder()
                            .header(TOKEN_HEADER, token)
                            .buildAsync(URI.create(url), new IgnoringListener())
                            .get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("cannot connect to " + url + ": " + e, e);
        }
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        message.raw(bytes, offset, length);
        if (message.size() >= MESSAGE_TARGET) endOfBatch();
    }

    @Override
    public void endOfBatch() throws IOException {
        if (message.size() == 0) return;
        ByteBuffer payload = ByteBuffer.wrap(message.toByteArray());
        message.clear();
        try {
            socket.sendBinary(payload, true).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("WebSocket send failed: " + e, e);
        }
    }

    @Override
    public void close() throws IOException {
        endOfBatch();
        try {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "end").get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            socket.abort();
        }
    }

    /** The extension sends nothing we need; keep requesting so pings are answered. */
    private static final class IgnoringListener implements WebSocket.Listener {
        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            webSocket.request(1);
            return null;
        }
    }
}
