package bathysphere.hook;

/**
 * What a {@link TraceRecorder} needs from the agent runtime. Implemented by the runtime's
 * ExecutionTracer, which lives in an isolated class loader; this interface is the only coupling.
 */
public interface RecorderHost {
    /** Dense id for a thread seen for the first time; the host declares its name. */
    int registerThread(Thread thread);

    /**
     * Takes a filled buffer ({@code length} bytes of whole events) and returns an empty one to
     * continue with. May block (lossless mode). Returns null when the data was dropped because
     * the writer is behind (drop mode); the recorder then keeps its buffer and records a gap.
     */
    byte[] handOff(TraceRecorder recorder, byte[] filled, int length);

    /** Id of a runtime type, declared to the consumer before it is first referenced. */
    int typeId(Class<?> type);

    /**
     * How many more line events the thread may record: a positive grant, 0 to pause (outside the
     * recording window; asked again later) or -1 to stop for good (step limit, window end).
     */
    int grantLineBudget(TraceRecorder recorder);
}
