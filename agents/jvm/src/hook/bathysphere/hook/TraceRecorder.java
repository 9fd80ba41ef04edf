package bathysphere.hook;

import java.nio.charset.StandardCharsets;

/**
 * Per-thread event encoder called by instrumented code. Only the owning thread writes; the
 * buffer is handed to the runtime's writer when full. Event layout: docs/jvm-trace-format.md.
 *
 * <p>Never calls user code: values are encoded from primitives, object identity and
 * {@code Class.getName()} (via the host) only.
 */
public final class TraceRecorder {
    // Tags; keep in sync with docs/jvm-trace-format.md and src/extension/jvm/format.ts.
    static final int ENTER = 0x01;
    static final int RETURN = 0x02;
    static final int THROW_EXIT = 0x03;
    static final int CAUGHT = 0x04;
    static final int LINE_EXT = 0x05;
    static final int LINE_AFTER_CALL = 0x06;
    static final int BRANCH_EXT = 0x07;
    static final int READ_LOCAL_EXT = 0x08;
    static final int WRITE_LOCAL_EXT = 0x09;
    static final int READ_FIELD = 0x0A;
    static final int WRITE_FIELD = 0x0B;
    static final int READ_STATIC = 0x0C;
    static final int WRITE_STATIC = 0x0D;
    static final int READ_ARRAY = 0x0E; // + kind (0..4)
    static final int WRITE_ARRAY = 0x13; // + kind (0..4)
    static final int GAP = 0x18;
    static final int BRANCH = 0x20;
    static final int READ_LOCAL = 0x40;
    static final int WRITE_LOCAL = 0x60;
    static final int LINE = 0x80;

    static final int KIND_INT = 0, KIND_LONG = 1, KIND_FLOAT = 2, KIND_DOUBLE = 3, KIND_REF = 4;

    /** Reserved type id for java.lang.String: its declaration carries the (capped) text. */
    public static final int STRING_TYPE_ID = 1;

    /** Room kept free at the end of a buffer so that any single event fits without checks. */
    static final int EVENT_RESERVE = 1024;
    private static final int PAUSED_RECHECK_INTERVAL = 4096;
    private boolean paused;
    private static final int OBJECT_CACHE_SIZE = 1024;

    private final TracerStore store;
    private final int threadId;
    private final ObjectIds.Entry[] objectCache = new ObjectIds.Entry[OBJECT_CACHE_SIZE];

    private byte[] buffer;
    private int position;
    private int limit;
    private int lineBudget;
    private long lastHandOffNanos = System.nanoTime();
    private boolean outermostReturn;
    private static final long STALE_BUFFER_NANOS = 100_000_000L;
    /** Set when recording stopped (limit, window, shutdown): buffers are then discarded. */
    private volatile boolean discarding;
    /** Set when data was lost: the next buffer starts with a GAP carrying the call stack. */
    private long droppedBuffers;

    /** Shadow stack of instrumented method ids, used to resynchronise the consumer after gaps. */
    private int[] frames = new int[64];
    private int depth;

    TraceRecorder(TracerStore store, int threadId, byte[] buffer) {
        this.store = store;
        this.threadId = threadId;
        this.buffer = buffer;
        this.limit = buffer.length - EVENT_RESERVE;
    }

    /** A throwaway recorder for code that runs before the agent installed its store. */
    static TraceRecorder detached() {
        TraceRecorder recorder = new TraceRecorder(null, -1, new byte[2 * EVENT_RESERVE]);
        recorder.discarding = true;
        return recorder;
    }

    public int threadId() {
        return threadId;
    }

    // ---- structure events ------------------------------------------------------------------

    public void enter(int methodId) {
        if (position > limit) overflow();
        int d = depth;
        if (d == frames.length) frames = java.util.Arrays.copyOf(frames, d * 2);
        frames[d] = methodId;
        depth = d + 1;
        buffer[position++] = (byte) ENTER;
        putVarint(methodId);
    }

    public void returnVoid() {
        returnHeader();
        if (outermostReturn) afterOutermostReturn();
    }

    public void returnInt(int value) {
        returnHeader();
        putVarint(zigzag(value));
        if (outermostReturn) afterOutermostReturn();
    }

    public void returnLong(long value) {
        returnHeader();
        putVarlong(zigzag(value));
        if (outermostReturn) afterOutermostReturn();
    }

    public void returnFloat(float value) {
        returnHeader();
        putFixed32(Float.floatToRawIntBits(value));
        if (outermostReturn) afterOutermostReturn();
    }

    public void returnDouble(double value) {
        returnHeader();
        putFixed64(Double.doubleToRawLongBits(value));
        if (outermostReturn) afterOutermostReturn();
    }

    public void returnRef(Object value) {
        returnHeader();
        putRef(value);
        if (outermostReturn) afterOutermostReturn();
    }

    private void returnHeader() {
        if (position > limit) overflow();
        popFrame();
        buffer[position++] = (byte) RETURN;
    }

    public void throwExit(Throwable thrown) {
        if (position > limit) overflow();
        popFrame();
        buffer[position++] = (byte) THROW_EXIT;
        putRef(thrown);
        if (outermostReturn) afterOutermostReturn();
    }

    private void afterOutermostReturn() {
        outermostReturn = false;
        flushIfStale();
    }

    public void caught(Throwable caught) {
        if (position > limit) overflow();
        buffer[position++] = (byte) CAUGHT;
        putRef(caught);
    }

    public void line(int lineIndex) {
        if (--lineBudget < 0) refillLineBudget();
        if (position > limit) overflow();
        if (lineIndex < 128) {
            buffer[position++] = (byte) (LINE | lineIndex);
        } else {
            buffer[position++] = (byte) LINE_EXT;
            putVarint(lineIndex);
        }
    }

    /** After a call that returns into the middle of a line with nothing else recorded there. */
    public void lineAfterCall() {
        if (position > limit) overflow();
        buffer[position++] = (byte) LINE_AFTER_CALL;
    }

    public void branch(int branchIndex) {
        if (position > limit) overflow();
        if (branchIndex < 32) {
            buffer[position++] = (byte) (BRANCH | branchIndex);
        } else {
            buffer[position++] = (byte) BRANCH_EXT;
            putVarint(branchIndex);
        }
    }

    // ---- locals ------------------------------------------------------------------------------

    public void readLocalInt(int variable, int value) {
        localTag(READ_LOCAL, READ_LOCAL_EXT, variable);
        putVarint(zigzag(value));
    }

    public void readLocalLong(int variable, long value) {
        localTag(READ_LOCAL, READ_LOCAL_EXT, variable);
        putVarlong(zigzag(value));
    }

    public void readLocalFloat(int variable, float value) {
        localTag(READ_LOCAL, READ_LOCAL_EXT, variable);
        putFixed32(Float.floatToRawIntBits(value));
    }

    public void readLocalDouble(int variable, double value) {
        localTag(READ_LOCAL, READ_LOCAL_EXT, variable);
        putFixed64(Double.doubleToRawLongBits(value));
    }

    public void readLocalRef(int variable, Object value) {
        localTag(READ_LOCAL, READ_LOCAL_EXT, variable);
        putRef(value);
    }

    public void writeLocalInt(int variable, int value) {
        localTag(WRITE_LOCAL, WRITE_LOCAL_EXT, variable);
        putVarint(zigzag(value));
    }

    public void writeLocalLong(int variable, long value) {
        localTag(WRITE_LOCAL, WRITE_LOCAL_EXT, variable);
        putVarlong(zigzag(value));
    }

    public void writeLocalFloat(int variable, float value) {
        localTag(WRITE_LOCAL, WRITE_LOCAL_EXT, variable);
        putFixed32(Float.floatToRawIntBits(value));
    }

    public void writeLocalDouble(int variable, double value) {
        localTag(WRITE_LOCAL, WRITE_LOCAL_EXT, variable);
        putFixed64(Double.doubleToRawLongBits(value));
    }

    public void writeLocalRef(int variable, Object value) {
        localTag(WRITE_LOCAL, WRITE_LOCAL_EXT, variable);
        putRef(value);
    }

    // ---- instance fields ---------------------------------------------------------------------

    public void readFieldInt(int field, Object owner, int value) {
        fieldHeader(READ_FIELD, field, owner);
        putVarint(zigzag(value));
    }

    public void readFieldLong(int field, Object owner, long value) {
        fieldHeader(READ_FIELD, field, owner);
        putVarlong(zigzag(value));
    }

    public void readFieldFloat(int field, Object owner, float value) {
        fieldHeader(READ_FIELD, field, owner);
        putFixed32(Float.floatToRawIntBits(value));
    }

    public void readFieldDouble(int field, Object owner, double value) {
        fieldHeader(READ_FIELD, field, owner);
        putFixed64(Double.doubleToRawLongBits(value));
    }

    public void readFieldRef(int field, Object owner, Object value) {
        fieldHeader(READ_FIELD, field, owner);
        putRef(value);
    }

    public void writeFieldInt(int field, Object owner, int value) {
        fieldHeader(WRITE_FIELD, field, owner);
        putVarint(zigzag(value));
    }

    public void writeFieldLong(int field, Object owner, long value) {
        fieldHeader(WRITE_FIELD, field, owner);
        putVarlong(zigzag(value));
    }

    public void writeFieldFloat(int field, Object owner, float value) {
        fieldHeader(WRITE_FIELD, field, owner);
        putFixed32(Float.floatToRawIntBits(value));
    }

    public void writeFieldDouble(int field, Object owner, double value) {
        fieldHeader(WRITE_FIELD, field, owner);
        putFixed64(Double.doubleToRawLongBits(value));
    }

    public void writeFieldRef(int field, Object owner, Object value) {
        fieldHeader(WRITE_FIELD, field, owner);
        putRef(value);
    }

    // ---- static fields -----------------------------------------------------------------------

    public void readStaticInt(int field, int value) {
        staticHeader(READ_STATIC, field);
        putVarint(zigzag(value));
    }

    public void readStaticLong(int field, long value) {
        staticHeader(READ_STATIC, field);
        putVarlong(zigzag(value));
    }

    public void readStaticFloat(int field, float value) {
        staticHeader(READ_STATIC, field);
        putFixed32(Float.floatToRawIntBits(value));
    }

    public void readStaticDouble(int field, double value) {
        staticHeader(READ_STATIC, field);
        putFixed64(Double.doubleToRawLongBits(value));
    }

    public void readStaticRef(int field, Object value) {
        staticHeader(READ_STATIC, field);
        putRef(value);
    }

    public void writeStaticInt(int field, int value) {
        staticHeader(WRITE_STATIC, field);
        putVarint(zigzag(value));
    }

    public void writeStaticLong(int field, long value) {
        staticHeader(WRITE_STATIC, field);
        putVarlong(zigzag(value));
    }

    public void writeStaticFloat(int field, float value) {
        staticHeader(WRITE_STATIC, field);
        putFixed32(Float.floatToRawIntBits(value));
    }

    public void writeStaticDouble(int field, double value) {
        staticHeader(WRITE_STATIC, field);
        putFixed64(Double.doubleToRawLongBits(value));
    }

    public void writeStaticRef(int field, Object value) {
        staticHeader(WRITE_STATIC, field);
        putRef(value);
    }

    // ---- array elements (the element kind is in the tag, so events are self-describing) -----

    public void readArrayInt(Object array, int index, int value) {
        arrayHeader(READ_ARRAY + KIND_INT, array, index);
        putVarint(zigzag(value));
    }

    public void readArrayLong(Object array, int index, long value) {
        arrayHeader(READ_ARRAY + KIND_LONG, array, index);
        putVarlong(zigzag(value));
    }

    public void readArrayFloat(Object array, int index, float value) {
        arrayHeader(READ_ARRAY + KIND_FLOAT, array, index);
        putFixed32(Float.floatToRawIntBits(value));
    }

    public void readArrayDouble(Object array, int index, double value) {
        arrayHeader(READ_ARRAY + KIND_DOUBLE, array, index);
        putFixed64(Double.doubleToRawLongBits(value));
    }

    public void readArrayRef(Object array, int index, Object value) {
        arrayHeader(READ_ARRAY + KIND_REF, array, index);
        putRef(value);
    }

    public void writeArrayInt(Object array, int index, int value) {
        arrayHeader(WRITE_ARRAY + KIND_INT, array, index);
        putVarint(zigzag(value));
    }

    public void writeArrayLong(Object array, int index, long value) {
        arrayHeader(WRITE_ARRAY + KIND_LONG, array, index);
        putVarlong(zigzag(value));
    }

    public void writeArrayFloat(Object array, int index, float value) {
        arrayHeader(WRITE_ARRAY + KIND_FLOAT, array, index);
        putFixed32(Float.floatToRawIntBits(value));
    }

    public void writeArrayDouble(Object array, int index, double value) {
        arrayHeader(WRITE_ARRAY + KIND_DOUBLE, array, index);
        putFixed64(Double.doubleToRawLongBits(value));
    }

    public void writeArrayRef(Object array, int index, Object value) {
        arrayHeader(WRITE_ARRAY + KIND_REF, array, index);
        putRef(value);
    }

    // ---- runtime side (called by the agent, not by instrumented code) -----------------------

    /**
     * Stops recording for good and returns the bytes recorded but not yet handed off. Called from
     * the shutdown path on another thread: the owner may still be running, so only whole events
     * (up to the last published position) are taken, and the owner discards from now on.
     */
    public synchronized byte[] detachPendingBytes() {
        if (discarding || paused) return new byte[0]; // the buffer holds only discarded events
        discarding = true;
        byte[] pending = java.util.Arrays.copyOf(buffer, Math.min(position, buffer.length));
        return pending;
    }

    // ---- encoding helpers --------------------------------------------------------------------

    private void popFrame() {
        if (depth > 1) {
            depth--;
        } else {
            depth = 0;
            outermostReturn = true;
        }
    }

    private void localTag(int shortTag, int extendedTag, int variable) {
        if (position > limit) overflow();
        if (variable < 32) {
            buffer[position++] = (byte) (shortTag | variable);
        } else {
            buffer[position++] = (byte) extendedTag;
            putVarint(variable);
        }
    }

    private void fieldHeader(int tag, int field, Object owner) {
        if (position > limit) overflow();
        buffer[position++] = (byte) tag;
        putVarint(field);
        putRef(owner);
    }

    private void staticHeader(int tag, int field) {
        if (position > limit) overflow();
        buffer[position++] = (byte) tag;
        putVarint(field);
    }

    private void arrayHeader(int tag, Object array, int index) {
        if (position > limit) overflow();
        buffer[position++] = (byte) tag;
        putRef(array);
        putVarint(index);
    }

    private static int zigzag(int value) {
        return (value << 1) ^ (value >> 31);
    }

    private static long zigzag(long value) {
        return (value << 1) ^ (value >> 63);
    }

    private void putVarint(int value) {
        byte[] b = buffer;
        int p = position;
        // Fast paths for the common 1- and 2-byte cases (ids, small values): no loop.
        if ((value & ~0x7F) == 0) {
            b[p] = (byte) value;
            position = p + 1;
            return;
        }
        if ((value & ~0x3FFF) == 0) {
            b[p] = (byte) (value | 0x80);
            b[p + 1] = (byte) (value >>> 7);
            position = p + 2;
            return;
        }
        while ((value & ~0x7F) != 0) {
            b[p++] = (byte) (value | 0x80);
            value >>>= 7;
        }
        b[p++] = (byte) value;
        position = p;
    }

    private void putVarlong(long value) {
        if ((value & ~0x3FFFL) == 0) {
            putVarint((int) value);
            return;
        }
        byte[] b = buffer;
        int p = position;
        while ((value & ~0x7FL) != 0) {
            b[p++] = (byte) (value | 0x80);
            value >>>= 7;
        }
        b[p++] = (byte) value;
        position = p;
    }

    private void putFixed32(int bits) {
        byte[] b = buffer;
        int p = position;
        b[p] = (byte) bits;
        b[p + 1] = (byte) (bits >>> 8);
        b[p + 2] = (byte) (bits >>> 16);
        b[p + 3] = (byte) (bits >>> 24);
        position = p + 4;
    }

    private void putFixed64(long bits) {
        putFixed32((int) bits);
        putFixed32((int) (bits >>> 32));
    }

    /** Object reference: 0 = null, id<<1 = known, id<<1|1 = first use here (+ declaration). */
    private void putRef(Object value) {
        if (value == null) {
            buffer[position++] = 0;
            return;
        }
        int hash = System.identityHashCode(value);
        int slot = hash & (OBJECT_CACHE_SIZE - 1);
        ObjectIds.Entry cached = objectCache[slot];
        if (cached != null && cached.get() == value) {
            putVarlong(cached.id << 1);
            return;
        }
        declareObject(value, hash, slot);
    }

    private void declareObject(Object value, int hash, int slot) {
        if (store == null) {
            buffer[position++] = 0;
            return;
        }
        ObjectIds.Entry entry = store.objectIds().entryFor(value, hash);
        objectCache[slot] = entry;
        putVarlong((entry.id << 1) | 1);
        int typeId = store.typeIdOf(value.getClass());
        putVarint(typeId);
        if (typeId == STRING_TYPE_ID) putCappedString((String) value);
    }

    private void putCappedString(String text) {
        int length = text.length();
        int cap = store.stringCap();
        String kept = length <= cap ? text : text.substring(0, cap);
        byte[] utf8 = kept.getBytes(StandardCharsets.UTF_8);
        putVarint(length);
        putVarint(utf8.length);
        System.arraycopy(utf8, 0, buffer, position, utf8.length);
        position += utf8.length;
    }

    private void refillLineBudget() {
        int granted = store == null ? -1 : store.host().grantLineBudget(this);
        if (granted > 0) {
            if (paused) resumeAfterPause();
            lineBudget = granted;
            flushIfStale();
        } else if (granted == 0) {
            if (!paused) {
                if (position > 0) overflow(); // what was recorded before the pause is kept
                paused = true;
            }
            lineBudget = PAUSED_RECHECK_INTERVAL;
        } else {
            if (!paused && position > 0) overflow(); // keep what was recorded up to the limit
            discarding = true;
            lineBudget = Integer.MAX_VALUE;
        }
    }

    /** Events written while paused are junk; start over with a GAP so the consumer resyncs. */
    private void resumeAfterPause() {
        synchronized (this) {
            paused = false;
            position = 0;
            writeGap();
        }
    }

    /** Buffer nearly full: hand it to the writer, or drop (and note a gap), or discard. */
    private void overflow() {
        synchronized (this) {
            if (discarding || paused || store == null) {
                position = 0;
                return;
            }
            byte[] fresh = store.host().handOff(this, buffer, position);
            if (fresh == null) {
                droppedBuffers++;
                position = 0;
                writeGap();
                return;
            }
            lastHandOffNanos = System.nanoTime();
            buffer = fresh;
            limit = fresh.length - EVENT_RESERVE;
            position = 0;
            if (droppedBuffers > 0) writeGap();
        }
    }

    /** GAP: events were lost; carries the shadow call stack so the consumer can resynchronise. */
    private void writeGap() {
        java.util.Arrays.fill(objectCache, null); // declarations in the lost data are gone too
        buffer[position++] = (byte) GAP;
        putVarlong(droppedBuffers);
        int shown = Math.min(depth, (limit - position) / 5);
        putVarint(shown);
        for (int i = depth - shown; i < depth; i++) putVarint(frames[i]);
        droppedBuffers = 0;
    }

    /**
     * Owner thread only: hands over a partly filled buffer when it has been held for a while, so
     * a live consumer sees threads that record little. Checked at outermost returns and line
     * budget refills, never per event.
     */
    private void flushIfStale() {
        long now = System.nanoTime();
        if (now - lastHandOffNanos > STALE_BUFFER_NANOS && position > 0) overflow();
    }
}
