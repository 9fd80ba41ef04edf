package bathysphere.hook;

import java.nio.charset.StandardCharsets;

/**
 * Per-thread event encoder called by instrumented code. Only the owning thread writes; the
 * buffer is handed to the runtime's writer when full. Event layout: docs/jvm-trace-format.md.
 *
 * <p>Never calls user code: values are encoded from primitives, object identity,
 * {@code Class.getName()} (via the host), array lengths and the JDK's own text of a BigDecimal or
 * BigInteger (matched by exact class) only.
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
    static final int READ_LOCAL_AS_WRITTEN_EXT = 0x19;
    static final int BRANCH = 0x20;
    static final int READ_LOCAL = 0x40;
    static final int WRITE_LOCAL = 0x60;
    static final int LINE = 0x80; // + line index below SHORT_LINES
    static final int SHORT_LINES = 96;
    static final int READ_LOCAL_AS_WRITTEN = 0xE0;

    /** A tag and a five-byte varint: the longest constant event (see lineBytes). */
    static final int MAX_CONSTANT_EVENT_BYTES = 6;

    static final int KIND_INT = 0, KIND_LONG = 1, KIND_FLOAT = 2, KIND_DOUBLE = 3, KIND_REF = 4;

    /** Room kept free at the end of a buffer so that any single event fits without checks. */
    static final int EVENT_RESERVE = 1024;
    /**
     * A thread's first buffers are handed over after this many bytes, so that the hand-over
     * branch in {@link #room} is taken while the event methods are still being profiled.
     */
    private static final int WARM_UP_FILL = 2048;
    private static final int WARM_UP_HAND_OVERS = 32;
    private static final int PAUSED_RECHECK_INTERVAL = 4096;
    private boolean paused;
    private static final int OBJECT_CACHE_SIZE = 1024;

    private final TracerStore store;
    private final int threadId;
    private final ObjectIds.Entry[] objectCache = new ObjectIds.Entry[OBJECT_CACHE_SIZE];

    private byte[] buffer;
    private int position;
    private int limit;
    /** Hand-overs still to make early, after {@link #WARM_UP_FILL} bytes (see {@link #room}). */
    private int warmUpHandOvers = WARM_UP_HAND_OVERS;
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
        this.limit = limitFor(buffer);
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
    //
    // Every event method has the same shape: room() for the position, the buffer read after it
    // (a hand-over replaces it), bytes written through static helpers with the position in a
    // local, and one store of the position at the end. No nested instance calls on the common
    // path, so each event is one small method however the caller is compiled.

    public void enter(int methodId) {
        int p = room();
        int d = depth;
        if (d == frames.length) frames = java.util.Arrays.copyOf(frames, d * 2);
        frames[d] = methodId;
        depth = d + 1;
        byte[] b = buffer;
        b[p] = (byte) ENTER;
        position = putVarint(b, p + 1, methodId);
    }

    public void returnVoid() {
        position = returnHeader(room());
        if (outermostReturn) afterOutermostReturn();
    }

    public void returnInt(int value) {
        int p = returnHeader(room());
        position = putVarint(buffer, p, zigzag(value));
        if (outermostReturn) afterOutermostReturn();
    }

    public void returnLong(long value) {
        int p = returnHeader(room());
        position = putVarlong(buffer, p, zigzag(value));
        if (outermostReturn) afterOutermostReturn();
    }

    public void returnFloat(float value) {
        int p = returnHeader(room());
        position = putFixed32(buffer, p, Float.floatToRawIntBits(value));
        if (outermostReturn) afterOutermostReturn();
    }

    public void returnDouble(double value) {
        int p = returnHeader(room());
        position = putFixed64(buffer, p, Double.doubleToRawLongBits(value));
        if (outermostReturn) afterOutermostReturn();
    }

    public void returnRef(Object value) {
        position = returnHeader(room());
        putRef(value);
        if (outermostReturn) afterOutermostReturn();
    }

    /** Pops the shadow frame and writes the RETURN tag at {@code p}; returns the next position. */
    private int returnHeader(int p) {
        popFrame();
        buffer[p] = (byte) RETURN;
        return p + 1;
    }

    public void throwExit(Throwable thrown) {
        int p = room();
        popFrame();
        buffer[p] = (byte) THROW_EXIT;
        position = p + 1;
        putRef(thrown);
        if (outermostReturn) afterOutermostReturn();
    }

    private void afterOutermostReturn() {
        outermostReturn = false;
        flushIfStale();
    }

    public void caught(Throwable caught) {
        int p = room();
        buffer[p] = (byte) CAUGHT;
        position = p + 1;
        putRef(caught);
    }

    public void line(int lineIndex) {
        if (--lineBudget < 0) refillLineBudget();
        int p = room();
        position = putLine(buffer, p, lineIndex);
    }

    /** After a call that returns into the middle of a line with nothing else recorded there. */
    public void lineAfterCall() {
        int p = room();
        buffer[p] = (byte) LINE_AFTER_CALL;
        position = p + 1;
    }

    public void branch(int branchIndex) {
        int p = room();
        position = putBranch(buffer, p, branchIndex);
    }

    // ---- locals ------------------------------------------------------------------------------

    public void readLocalInt(int variable, int value) {
        int p = room();
        byte[] b = buffer;
        position = putVarint(b, localTag(b, p, READ_LOCAL, variable), zigzag(value));
    }

    public void readLocalLong(int variable, long value) {
        int p = room();
        byte[] b = buffer;
        position = putVarlong(b, localTag(b, p, READ_LOCAL, variable), zigzag(value));
    }

    public void readLocalFloat(int variable, float value) {
        int p = room();
        byte[] b = buffer;
        position = putFixed32(b, localTag(b, p, READ_LOCAL, variable), Float.floatToRawIntBits(value));
    }

    public void readLocalDouble(int variable, double value) {
        int p = room();
        byte[] b = buffer;
        position =
                putFixed64(b, localTag(b, p, READ_LOCAL, variable), Double.doubleToRawLongBits(value));
    }

    public void readLocalRef(int variable, Object value) {
        int p = room();
        position = localTag(buffer, p, READ_LOCAL, variable);
        putRef(value);
    }

    /**
     * A read of a local whose value is the frame's last recorded write of the same variable
     * (proved by the instrumenter), so the consumer fills it in: only the variable is sent.
     */
    public void readLocalAsWritten(int variable) {
        int p = room();
        position = putReadLocalAsWritten(buffer, p, variable);
    }

    public void writeLocalInt(int variable, int value) {
        int p = room();
        byte[] b = buffer;
        position = putVarint(b, localTag(b, p, WRITE_LOCAL, variable), zigzag(value));
    }

    public void writeLocalLong(int variable, long value) {
        int p = room();
        byte[] b = buffer;
        position = putVarlong(b, localTag(b, p, WRITE_LOCAL, variable), zigzag(value));
    }

    public void writeLocalFloat(int variable, float value) {
        int p = room();
        byte[] b = buffer;
        position = putFixed32(b, localTag(b, p, WRITE_LOCAL, variable), Float.floatToRawIntBits(value));
    }

    public void writeLocalDouble(int variable, double value) {
        int p = room();
        byte[] b = buffer;
        position =
                putFixed64(b, localTag(b, p, WRITE_LOCAL, variable), Double.doubleToRawLongBits(value));
    }

    public void writeLocalRef(int variable, Object value) {
        int p = room();
        position = localTag(buffer, p, WRITE_LOCAL, variable);
        putRef(value);
    }

    // ---- constant events in one call ---------------------------------------------------------
    //
    // LINE, BRANCH, LINE_AFTER_CALL and READ_LOCAL_AS_WRITTEN are bytes fixed when a method is
    // instrumented. Where several of them always run together (only instructions that cannot
    // throw or jump between them), the instrumenter passes all their bytes to one of the calls
    // below instead of calling the event methods one by one: the same bytes, with one room check
    // and one position store instead of one per event. The bytes are packed low byte first.
    //
    // The whole int (long) is stored, also the bytes past `length`: room() leaves far more than
    // eight bytes free, nothing reads a buffer past its position, and the next event overwrites
    // them. That keeps each method one straight line of stores.

    /** Two to four bytes of constant events. */
    public void constantEvents(int bytes, int length) {
        int p = room();
        putFixed32(buffer, p, bytes);
        position = p + length;
    }

    /** Five to eight bytes of constant events. */
    public void constantEvents(long bytes, int length) {
        int p = room();
        putFixed64(buffer, p, bytes);
        position = p + length;
    }

    /** Constant events that start with LINE: the line budget is charged once, as line() does. */
    public void lineAndConstantEvents(int bytes, int length) {
        if (--lineBudget < 0) refillLineBudget();
        int p = room();
        putFixed32(buffer, p, bytes);
        position = p + length;
    }

    /** The same for five to eight bytes. */
    public void lineAndConstantEvents(long bytes, int length) {
        if (--lineBudget < 0) refillLineBudget();
        int p = room();
        putFixed64(buffer, p, bytes);
        position = p + length;
    }

    /** The bytes {@link #line} writes, for the instrumenter to pass to a combined call. */
    public static byte[] lineBytes(int lineIndex) {
        byte[] b = new byte[MAX_CONSTANT_EVENT_BYTES];
        return java.util.Arrays.copyOf(b, putLine(b, 0, lineIndex));
    }

    /** The bytes {@link #branch} writes. */
    public static byte[] branchBytes(int branchIndex) {
        byte[] b = new byte[MAX_CONSTANT_EVENT_BYTES];
        return java.util.Arrays.copyOf(b, putBranch(b, 0, branchIndex));
    }

    /** The bytes {@link #readLocalAsWritten} writes. */
    public static byte[] readLocalAsWrittenBytes(int variable) {
        byte[] b = new byte[MAX_CONSTANT_EVENT_BYTES];
        return java.util.Arrays.copyOf(b, putReadLocalAsWritten(b, 0, variable));
    }

    /** The byte {@link #lineAfterCall} writes. */
    public static byte[] lineAfterCallBytes() {
        return new byte[] {(byte) LINE_AFTER_CALL};
    }

    // ---- instance fields ---------------------------------------------------------------------

    public void readFieldInt(int field, Object owner, int value) {
        fieldHeader(READ_FIELD, field, owner);
        position = putVarint(buffer, position, zigzag(value));
    }

    public void readFieldLong(int field, Object owner, long value) {
        fieldHeader(READ_FIELD, field, owner);
        position = putVarlong(buffer, position, zigzag(value));
    }

    public void readFieldFloat(int field, Object owner, float value) {
        fieldHeader(READ_FIELD, field, owner);
        position = putFixed32(buffer, position, Float.floatToRawIntBits(value));
    }

    public void readFieldDouble(int field, Object owner, double value) {
        fieldHeader(READ_FIELD, field, owner);
        position = putFixed64(buffer, position, Double.doubleToRawLongBits(value));
    }

    public void readFieldRef(int field, Object owner, Object value) {
        fieldHeader(READ_FIELD, field, owner);
        putRef(value);
    }

    public void writeFieldInt(int field, Object owner, int value) {
        fieldHeader(WRITE_FIELD, field, owner);
        position = putVarint(buffer, position, zigzag(value));
    }

    public void writeFieldLong(int field, Object owner, long value) {
        fieldHeader(WRITE_FIELD, field, owner);
        position = putVarlong(buffer, position, zigzag(value));
    }

    public void writeFieldFloat(int field, Object owner, float value) {
        fieldHeader(WRITE_FIELD, field, owner);
        position = putFixed32(buffer, position, Float.floatToRawIntBits(value));
    }

    public void writeFieldDouble(int field, Object owner, double value) {
        fieldHeader(WRITE_FIELD, field, owner);
        position = putFixed64(buffer, position, Double.doubleToRawLongBits(value));
    }

    public void writeFieldRef(int field, Object owner, Object value) {
        fieldHeader(WRITE_FIELD, field, owner);
        putRef(value);
    }

    // ---- static fields -----------------------------------------------------------------------

    public void readStaticInt(int field, int value) {
        int p = room();
        byte[] b = buffer;
        position = putVarint(b, staticHeader(b, p, READ_STATIC, field), zigzag(value));
    }

    public void readStaticLong(int field, long value) {
        int p = room();
        byte[] b = buffer;
        position = putVarlong(b, staticHeader(b, p, READ_STATIC, field), zigzag(value));
    }

    public void readStaticFloat(int field, float value) {
        int p = room();
        byte[] b = buffer;
        position = putFixed32(b, staticHeader(b, p, READ_STATIC, field), Float.floatToRawIntBits(value));
    }

    public void readStaticDouble(int field, double value) {
        int p = room();
        byte[] b = buffer;
        position =
                putFixed64(b, staticHeader(b, p, READ_STATIC, field), Double.doubleToRawLongBits(value));
    }

    public void readStaticRef(int field, Object value) {
        int p = room();
        position = staticHeader(buffer, p, READ_STATIC, field);
        putRef(value);
    }

    public void writeStaticInt(int field, int value) {
        int p = room();
        byte[] b = buffer;
        position = putVarint(b, staticHeader(b, p, WRITE_STATIC, field), zigzag(value));
    }

    public void writeStaticLong(int field, long value) {
        int p = room();
        byte[] b = buffer;
        position = putVarlong(b, staticHeader(b, p, WRITE_STATIC, field), zigzag(value));
    }

    public void writeStaticFloat(int field, float value) {
        int p = room();
        byte[] b = buffer;
        position = putFixed32(b, staticHeader(b, p, WRITE_STATIC, field), Float.floatToRawIntBits(value));
    }

    public void writeStaticDouble(int field, double value) {
        int p = room();
        byte[] b = buffer;
        position =
                putFixed64(b, staticHeader(b, p, WRITE_STATIC, field), Double.doubleToRawLongBits(value));
    }

    public void writeStaticRef(int field, Object value) {
        int p = room();
        position = staticHeader(buffer, p, WRITE_STATIC, field);
        putRef(value);
    }

    // ---- array elements (the element kind is in the tag, so events are self-describing) -----

    public void readArrayInt(Object array, int index, int value) {
        arrayHeader(READ_ARRAY + KIND_INT, array, index);
        position = putVarint(buffer, position, zigzag(value));
    }

    public void readArrayLong(Object array, int index, long value) {
        arrayHeader(READ_ARRAY + KIND_LONG, array, index);
        position = putVarlong(buffer, position, zigzag(value));
    }

    public void readArrayFloat(Object array, int index, float value) {
        arrayHeader(READ_ARRAY + KIND_FLOAT, array, index);
        position = putFixed32(buffer, position, Float.floatToRawIntBits(value));
    }

    public void readArrayDouble(Object array, int index, double value) {
        arrayHeader(READ_ARRAY + KIND_DOUBLE, array, index);
        position = putFixed64(buffer, position, Double.doubleToRawLongBits(value));
    }

    public void readArrayRef(Object array, int index, Object value) {
        arrayHeader(READ_ARRAY + KIND_REF, array, index);
        putRef(value);
    }

    public void writeArrayInt(Object array, int index, int value) {
        arrayHeader(WRITE_ARRAY + KIND_INT, array, index);
        position = putVarint(buffer, position, zigzag(value));
    }

    public void writeArrayLong(Object array, int index, long value) {
        arrayHeader(WRITE_ARRAY + KIND_LONG, array, index);
        position = putVarlong(buffer, position, zigzag(value));
    }

    public void writeArrayFloat(Object array, int index, float value) {
        arrayHeader(WRITE_ARRAY + KIND_FLOAT, array, index);
        position = putFixed32(buffer, position, Float.floatToRawIntBits(value));
    }

    public void writeArrayDouble(Object array, int index, double value) {
        arrayHeader(WRITE_ARRAY + KIND_DOUBLE, array, index);
        position = putFixed64(buffer, position, Double.doubleToRawLongBits(value));
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

    /**
     * The position of the next event, with at least {@link #EVENT_RESERVE} bytes free after it.
     * Every event asks here, so the JIT keeps one shared profile of the rare hand-over branch.
     * The early hand-overs after {@link #WARM_UP_FILL} bytes make that branch taken while it is
     * being profiled, so the optimising compiler keeps it as a real branch: otherwise it would
     * compile the branch out of every method that inlines this one, and the next full buffer
     * would throw each of them back to the interpreter to be compiled again.
     */
    private int room() {
        int p = position;
        return p <= limit ? p : handOverForRoom();
    }

    private int handOverForRoom() {
        overflow();
        return position;
    }

    private void popFrame() {
        if (depth > 1) {
            depth--;
        } else {
            depth = 0;
            outermostReturn = true;
        }
    }

    /** LINE with the line index in the tag, or LINE_EXT and a varint. */
    private static int putLine(byte[] b, int p, int lineIndex) {
        if (lineIndex < SHORT_LINES) {
            b[p] = (byte) (LINE + lineIndex);
            return p + 1;
        }
        b[p] = (byte) LINE_EXT;
        return putVarint(b, p + 1, lineIndex);
    }

    /** BRANCH with the branch index in the low 5 bits, or BRANCH_EXT and a varint. */
    private static int putBranch(byte[] b, int p, int branchIndex) {
        return indexedTag(b, p, BRANCH, BRANCH_EXT, branchIndex);
    }

    /** READ_LOCAL_AS_WRITTEN with the variable index in the low 5 bits, or the extended tag. */
    private static int putReadLocalAsWritten(byte[] b, int p, int variable) {
        return indexedTag(b, p, READ_LOCAL_AS_WRITTEN, READ_LOCAL_AS_WRITTEN_EXT, variable);
    }

    /** READ_LOCAL or WRITE_LOCAL with the variable index, or its extended tag and a varint. */
    private static int localTag(byte[] b, int p, int shortTag, int variable) {
        int extendedTag = shortTag == READ_LOCAL ? READ_LOCAL_EXT : WRITE_LOCAL_EXT;
        return indexedTag(b, p, shortTag, extendedTag, variable);
    }

    /** A short tag carrying an index below 32 in its low 5 bits, else the extended tag and a varint. */
    private static int indexedTag(byte[] b, int p, int shortTag, int extendedTag, int index) {
        if (index < 32) {
            b[p] = (byte) (shortTag | index);
            return p + 1;
        }
        b[p] = (byte) extendedTag;
        return putVarint(b, p + 1, index);
    }

    private static int staticHeader(byte[] b, int p, int tag, int field) {
        b[p] = (byte) tag;
        return putVarint(b, p + 1, field);
    }

    private void fieldHeader(int tag, int field, Object owner) {
        int p = room();
        byte[] b = buffer;
        b[p] = (byte) tag;
        position = putVarint(b, p + 1, field);
        putRef(owner);
    }

    private void arrayHeader(int tag, Object array, int index) {
        int p = room();
        buffer[p] = (byte) tag;
        position = p + 1;
        putRef(array);
        position = putVarint(buffer, position, index);
    }

    private static int zigzag(int value) {
        return (value << 1) ^ (value >> 31);
    }

    private static long zigzag(long value) {
        return (value << 1) ^ (value >> 63);
    }

    /** Writes {@code value} as a varint at {@code p}; returns the position after it. */
    private static int putVarint(byte[] b, int p, int value) {
        if ((value & ~0x7F) == 0) { // ids, small values, cached object ids: one byte
            b[p] = (byte) value;
            return p + 1;
        }
        return putLongerVarint(b, p, value);
    }

    /**
     * Two to five bytes, written without a loop: this is inlined into every event of a hot method
     * that records large values, and a loop in each of them made the optimising compiler's work
     * on instrumented methods several times longer (loop optimisations per event).
     */
    private static int putLongerVarint(byte[] b, int p, int value) {
        b[p] = (byte) (value | 0x80);
        if ((value >>> 14) == 0) {
            b[p + 1] = (byte) (value >>> 7);
            return p + 2;
        }
        b[p + 1] = (byte) ((value >>> 7) | 0x80);
        if ((value >>> 21) == 0) {
            b[p + 2] = (byte) (value >>> 14);
            return p + 3;
        }
        b[p + 2] = (byte) ((value >>> 14) | 0x80);
        if ((value >>> 28) == 0) {
            b[p + 3] = (byte) (value >>> 21);
            return p + 4;
        }
        b[p + 3] = (byte) ((value >>> 21) | 0x80);
        b[p + 4] = (byte) (value >>> 28);
        return p + 5;
    }

    private static int putVarlong(byte[] b, int p, long value) {
        if ((value & ~0x7FFFFFFFL) == 0) return putVarint(b, p, (int) value);
        return putWideVarlong(b, p, value);
    }

    private static int putWideVarlong(byte[] b, int p, long value) {
        while ((value & ~0x7FL) != 0) {
            b[p++] = (byte) (value | 0x80);
            value >>>= 7;
        }
        b[p] = (byte) value;
        return p + 1;
    }

    private static int putFixed32(byte[] b, int p, int bits) {
        b[p] = (byte) bits;
        b[p + 1] = (byte) (bits >>> 8);
        b[p + 2] = (byte) (bits >>> 16);
        b[p + 3] = (byte) (bits >>> 24);
        return p + 4;
    }

    private static int putFixed64(byte[] b, int p, long bits) {
        return putFixed32(b, putFixed32(b, p, (int) bits), (int) (bits >>> 32));
    }

    /**
     * Object reference: 0 = null, id<<1 = known, id<<1|1 = first use here (+ type, and the value
     * of a well-known type or the length of an array).
     */
    private void putRef(Object value) {
        if (value == null) {
            buffer[position++] = 0;
            return;
        }
        int hash = System.identityHashCode(value);
        int slot = hash & (OBJECT_CACHE_SIZE - 1);
        ObjectIds.Entry cached = objectCache[slot];
        if (cached != null && cached.get() == value) {
            position = putVarlong(buffer, position, cached.id << 1);
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
        position = putVarlong(buffer, position, (entry.id << 1) | 1);
        Class<?> type = value.getClass();
        int typeId = store.typeIdOf(type);
        position = putVarint(buffer, position, typeId);
        if (typeId <= WellKnownTypes.LAST) {
            putWellKnownValue(value, typeId);
        } else if (type.isArray()) {
            // An array's length never changes; knowing it shows a too short `split` result or a
            // buffer allocated one element short where the array is used.
            position = putVarint(buffer, position, java.lang.reflect.Array.getLength(value));
        }
    }

    /**
     * The value of a string or box, encoded like the primitive it boxes (a BigDecimal or
     * BigInteger as its decimal text, capped like a string). The type id comes from
     * the object's exact class, so each cast holds; the unboxing methods are the JDK's own.
     */
    private void putWellKnownValue(Object value, int typeId) {
        byte[] b = buffer;
        int p = position;
        switch (typeId) {
            case WellKnownTypes.STRING:
                putCappedString((String) value);
                return;
            case WellKnownTypes.BOOLEAN:
                b[p] = (byte) (((Boolean) value).booleanValue() ? 1 : 0);
                position = p + 1;
                return;
            case WellKnownTypes.CHARACTER:
                position = putVarint(b, p, ((Character) value).charValue());
                return;
            case WellKnownTypes.BYTE:
                position = putVarint(b, p, zigzag((int) ((Byte) value).byteValue()));
                return;
            case WellKnownTypes.SHORT:
                position = putVarint(b, p, zigzag((int) ((Short) value).shortValue()));
                return;
            case WellKnownTypes.INTEGER:
                position = putVarint(b, p, zigzag(((Integer) value).intValue()));
                return;
            case WellKnownTypes.LONG:
                position = putVarlong(b, p, zigzag(((Long) value).longValue()));
                return;
            case WellKnownTypes.FLOAT:
                position = putFixed32(b, p, Float.floatToRawIntBits(((Float) value).floatValue()));
                return;
            case WellKnownTypes.BIG_DECIMAL:
                // toString is the JDK's own (exact class) and cached by BigDecimal itself.
                putCappedString(value.toString());
                return;
            case WellKnownTypes.BIG_INTEGER:
                putCappedString(bigIntegerText((java.math.BigInteger) value));
                return;
            default:
                position =
                        putFixed64(b, p, Double.doubleToRawLongBits(((Double) value).doubleValue()));
        }
    }

    /** Decimal digits of a BigInteger, bounded: a huge one is named by its size instead. */
    private static String bigIntegerText(java.math.BigInteger value) {
        int bits = value.bitLength();
        return bits <= MAX_PRINTED_BIG_INTEGER_BITS ? value.toString() : "(" + bits + "-bit integer)";
    }

    /** Beyond this a BigInteger's decimal digits cost more than they tell (about 300 digits). */
    private static final int MAX_PRINTED_BIG_INTEGER_BITS = 1024;

    private void putCappedString(String text) {
        int length = text.length();
        int cap = store.stringCap();
        String kept = length <= cap ? text : text.substring(0, cap);
        byte[] utf8 = kept.getBytes(StandardCharsets.UTF_8);
        position = putVarint(buffer, position, length);
        position = putVarint(buffer, position, utf8.length);
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
            limit = limitFor(fresh);
            position = 0;
            if (droppedBuffers > 0) writeGap();
        }
    }

    private int limitFor(byte[] fresh) {
        int full = fresh.length - EVENT_RESERVE;
        if (warmUpHandOvers <= 0) return full;
        warmUpHandOvers--;
        return Math.min(full, WARM_UP_FILL);
    }

    /** GAP: events were lost; carries the shadow call stack so the consumer can resynchronise. */
    private void writeGap() {
        java.util.Arrays.fill(objectCache, null); // declarations in the lost data are gone too
        buffer[position++] = (byte) GAP;
        position = putVarlong(buffer, position, droppedBuffers);
        int shown = Math.min(depth, (limit - position) / 5);
        position = putVarint(buffer, position, shown);
        for (int i = depth - shown; i < depth; i++) position = putVarint(buffer, position, frames[i]);
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
