package bathysphere.hook;

import java.util.ArrayList;
import java.util.List;

/**
 * Hands out one {@link TraceRecorder} per thread (dense thread ids) and keeps them all so the
 * runtime can flush every thread at shutdown.
 */
public final class TracerStore {
    private final RecorderHost host;
    private final ObjectIds objectIds = new ObjectIds();
    private final int bufferSize;
    private final int stringCap;
    private final boolean recordValues;
    private final List<TraceRecorder> recorders = new ArrayList<>();
    private final ThreadLocal<TraceRecorder> perThread =
            ThreadLocal.withInitial(this::createRecorderForCurrentThread);
    private final ClassValue<Integer> typeIds =
            new ClassValue<Integer>() {
                @Override
                protected Integer computeValue(Class<?> type) {
                    return host.typeId(type);
                }
            };

    public TracerStore(RecorderHost host, int bufferSize, int stringCap, boolean recordValues) {
        this.host = host;
        this.bufferSize = bufferSize;
        this.stringCap = stringCap;
        this.recordValues = recordValues;
    }

    public TraceRecorder recorderForCurrentThread() {
        return perThread.get();
    }

    /** Snapshot of all recorders created so far (for the shutdown flush). */
    public synchronized List<TraceRecorder> allRecorders() {
        return new ArrayList<>(recorders);
    }

    int typeIdOf(Class<?> type) {
        return typeIds.get(type);
    }

    ObjectIds objectIds() {
        return objectIds;
    }

    int stringCap() {
        return stringCap;
    }

    boolean recordValues() {
        return recordValues;
    }

    RecorderHost host() {
        return host;
    }

    private TraceRecorder createRecorderForCurrentThread() {
        Thread thread = Thread.currentThread();
        int threadId = host.registerThread(thread);
        TraceRecorder recorder = new TraceRecorder(this, threadId, new byte[bufferSize]);
        synchronized (this) {
            recorders.add(recorder);
        }
        return recorder;
    }
}
