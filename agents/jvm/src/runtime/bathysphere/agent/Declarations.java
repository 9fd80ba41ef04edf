package bathysphere.agent;

import bathysphere.hook.WellKnownTypes;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Global, append-only declarations (classes, methods with their static tables, fields, runtime
 * types, threads, warnings). Ids are dense integers; the writer drains pending declarations
 * before every events chunk so that a declaration always precedes its first use.
 */
final class Declarations {
    static final int CLASS = 0x01, METHOD = 0x02, FIELD = 0x03, TYPE = 0x04, THREAD = 0x05;
    static final int WARNING = 0x06, RUN = 0x07;

    private final WireBuffer pending = new WireBuffer(4096);
    private final ConcurrentHashMap<String, Integer> classIds = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Integer> methodIds = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Integer> fieldIds = new ConcurrentHashMap<>();
    private final AtomicInteger nextClassId = new AtomicInteger(1);
    private final AtomicInteger nextMethodId = new AtomicInteger(1);
    private final AtomicInteger nextFieldId = new AtomicInteger(1);
    // The well-known types (String and the boxes, whose first uses carry their value) have the
    // ids up to WellKnownTypes.LAST, declared in the run header.
    private final AtomicInteger nextTypeId = new AtomicInteger(WellKnownTypes.LAST + 1);

    /** Static description of an instrumented method (its line, variable and branch tables). */
    static final class MethodTable {
        int methodId;
        int classId;
        String name;
        String descriptor;
        int flags;
        int[] lines;
        List<String[]> variables; // {name, descriptor}
        int[] branchLines; // line index of each branch instruction
        int[][] controlledLines; // per branch: line indices it controls
    }

    static final int METHOD_STATIC = 1, METHOD_LINES_ONLY = 2;

    synchronized void run(String runId, long pid, String javaVersion, String mode, String options) {
        pending.u8(RUN).string(runId).varint(pid).string(javaVersion).string(mode).string(options);
        for (int id = 1; id <= WellKnownTypes.LAST; id++) {
            pending.u8(TYPE).varint(id).string(WellKnownTypes.classOf(id).getName());
        }
    }

    int classId(String internalName, String sourceFile) {
        Integer known = classIds.get(internalName);
        if (known != null) return known;
        synchronized (this) {
            Integer again = classIds.get(internalName);
            if (again != null) return again;
            int id = nextClassId.getAndIncrement();
            pending.u8(CLASS).varint(id).string(internalName.replace('/', '.')).string(sourceFile);
            classIds.put(internalName, id);
            return id;
        }
    }

    /** Stable id per method signature, so retries and retransformation reuse it. */
    int methodId(String owner, String name, String descriptor) {
        return methodIds.computeIfAbsent(
                owner + '.' + name + descriptor, k -> nextMethodId.getAndIncrement());
    }

    synchronized void method(MethodTable table) {
        pending.u8(METHOD).varint(table.methodId).varint(table.classId);
        pending.string(table.name).string(table.descriptor).varint(table.flags);
        pending.varint(table.lines.length);
        for (int line : table.lines) pending.varint(line);
        pending.varint(table.variables.size());
        for (String[] variable : table.variables) pending.string(variable[0]).string(variable[1]);
        pending.varint(table.branchLines.length);
        for (int b = 0; b < table.branchLines.length; b++) {
            pending.varint(table.branchLines[b]).varint(table.controlledLines[b].length);
            for (int line : table.controlledLines[b]) pending.varint(line);
        }
    }

    int fieldId(String owner, String name, String descriptor, boolean isStatic) {
        String key = owner + '.' + name + ':' + descriptor;
        Integer known = fieldIds.get(key);
        if (known != null) return known;
        synchronized (this) {
            Integer again = fieldIds.get(key);
            if (again != null) return again;
            int id = nextFieldId.getAndIncrement();
            pending.u8(FIELD).varint(id).string(owner.replace('/', '.')).string(name);
            pending.string(descriptor).u8(isStatic ? 1 : 0);
            fieldIds.put(key, id);
            return id;
        }
    }

    synchronized int type(Class<?> type) {
        int wellKnown = WellKnownTypes.idOf(type);
        if (wellKnown != 0) return wellKnown;
        int id = nextTypeId.getAndIncrement();
        pending.u8(TYPE).varint(id).string(type.getName());
        return id;
    }

    synchronized void thread(int threadId, String name, boolean isMain, String traceId) {
        pending.u8(THREAD).varint(threadId).string(name).u8(isMain ? 1 : 0).string(traceId);
    }

    synchronized void warning(String text) {
        pending.u8(WARNING).string(text);
    }

    /** Removes and returns pending declarations, or null if there are none. */
    synchronized byte[] drain() {
        if (pending.size() == 0) return null;
        byte[] drained = pending.toByteArray();
        pending.clear();
        return drained;
    }
}
