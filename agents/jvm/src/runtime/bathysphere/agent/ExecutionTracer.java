package bathysphere.agent;

import bathysphere.hook.Hook;
import bathysphere.hook.RecorderHost;
import bathysphere.hook.TraceRecorder;
import bathysphere.hook.TracerStore;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One recording run: owns the per-thread recorders (through its {@link TracerStore}), the
 * declarations and the writer, and decides step limits and the recording window.
 */
final class ExecutionTracer implements RecorderHost {
    /** Line events granted to a thread at a time; the limit and window are checked per grant. */
    private static final int LINE_BUDGET_GRANT = 4096;

    private final AgentOptions options;
    private final Declarations declarations;
    private final TraceWriter writer;
    private final TracerStore store;
    private final Thread mainThread;
    private final String runId = UUID.randomUUID().toString();
    private final long startNanos = System.nanoTime();
    private final AtomicInteger nextThreadId = new AtomicInteger(1);
    private final AtomicLong remainingSteps;
    private final AtomicBoolean shutDown = new AtomicBoolean();

    ExecutionTracer(AgentOptions options, TraceSink sink, Thread mainThread, String rawOptions) {
        this.options = options;
        this.mainThread = mainThread;
        this.declarations = new Declarations();
        this.writer =
                new TraceWriter(sink, declarations, options.bufferSize, options.queuedBuffers);
        this.remainingSteps = new AtomicLong(options.maxSteps);
        this.store =
                new TracerStore(
                        this,
                        options.bufferSize,
                        options.stringCap,
                        options.mode == AgentOptions.Mode.FULL);
        declarations.run(
                runId,
                ProcessHandle.current().pid(),
                System.getProperty("java.version"),
                options.mode.name().toLowerCase(),
                rawOptions == null ? "" : redactToken(rawOptions));
    }

    void start() throws java.io.IOException {
        writer.start();
        Hook.install(store);
        Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "bathysphere-flush"));
    }

    Declarations declarations() {
        return declarations;
    }

    AgentOptions options() {
        return options;
    }

    void warn(String text) {
        declarations.warning(text);
        if (options.verbose) System.err.println("[bathysphere] " + text);
    }

    @Override
    public int registerThread(Thread thread) {
        int id = nextThreadId.getAndIncrement();
        boolean isMain =
                mainThread != null ? thread == mainThread : "main".equals(thread.getName());
        declarations.thread(id, thread.getName(), isMain, runId + "/" + id);
        return id;
    }

    @Override
    public byte[] handOff(TraceRecorder recorder, byte[] filled, int length) {
        return writer.submit(recorder.threadId(), filled, length, options.dropWhenFull);
    }

    @Override
    public int typeId(Class<?> type) {
        return declarations.type(type);
    }

    @Override
    public int grantLineBudget(TraceRecorder recorder) {
        if (shutDown.get()) return -1;
        long elapsedMillis = (System.nanoTime() - startNanos) / 1_000_000;
        if (elapsedMillis >= options.windowEndMillis) return -1;
        if (elapsedMillis < options.windowStartMillis) return 0;
        long before = remainingSteps.getAndAdd(-LINE_BUDGET_GRANT);
        if (before <= 0) return -1;
        return (int) Math.min(LINE_BUDGET_GRANT, before);
    }

    /** Flushes every thread and closes the output; runs once (shutdown hook or agent stop). */
    void shutdown() {
        if (!shutDown.compareAndSet(false, true)) return;
        for (TraceRecorder recorder : store.allRecorders()) {
            writer.submitTail(recorder.threadId(), recorder.detachPendingBytes());
        }
        writer.finish(20_000);
    }

    private static String redactToken(String raw) {
        return raw.replaceAll("token=[^,]*", "token=***");
    }
}
