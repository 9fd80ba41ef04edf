package bathysphere.hook;

/**
 * The single static entry point that instrumented code calls, once per frame, to obtain the
 * current thread's recorder. Everything else is reached through that recorder instance.
 *
 * <p>This class lives on the bootstrap class path so every class loader can see it; it holds
 * nothing but the store installed by the agent runtime.
 */
public final class Hook {
    private static volatile TracerStore store;

    private Hook() {}

    /** Called by instrumented code at method entry; never returns null. */
    public static TraceRecorder recorder() {
        TracerStore current = store;
        return current != null ? current.recorderForCurrentThread() : TraceRecorder.detached();
    }

    /** Called once by the agent runtime before any class is instrumented. */
    public static void install(TracerStore tracerStore) {
        store = tracerStore;
    }
}
