package bathysphere.agent;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodTooLargeException;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * Instruments one class file. Methods that would exceed the 64 KB code limit are degraded, first
 * to line-only recording, then to no recording, each with a warning.
 *
 * <p>Class files newer than the bundled ASM (Java 21+): their format is unchanged from Java 20
 * except for the version number (no new constant pool tags, attributes or opcodes outside
 * preview features), so they are read with the version lowered to 64 and written back with
 * their own version; preview class files (minor 0xFFFF) are refused. The JVM still verifies the
 * result against the real version, so a mistake could never slip through silently.
 */
final class ClassInstrumenter {
    /** Highest major version the bundled ASM (9.4) parses: Java 20. */
    static final int ASM_MAX_MAJOR = 64;

    private enum Level { FULL, LINES, NONE }

    private final Declarations declarations;
    private final boolean recordValues;
    /** Local reads whose value the consumer holds are recorded without it. */
    private final boolean omitKnownReadValues;
    private final List<String> warnings = new ArrayList<>();

    ClassInstrumenter(Declarations declarations, boolean recordValues, boolean omitKnownReadValues) {
        this.declarations = declarations;
        this.recordValues = recordValues;
        this.omitKnownReadValues = omitKnownReadValues;
    }

    List<String> warnings() {
        return warnings;
    }

    /** Returns the instrumented class file, or null when nothing was instrumented. */
    byte[] instrument(byte[] classFile, ClassLoader loader) throws Exception {
        int major = ((classFile[6] & 0xFF) << 8) | (classFile[7] & 0xFF);
        int minor = ((classFile[4] & 0xFF) << 8) | (classFile[5] & 0xFF);
        if (minor == 0xFFFF && major > ASM_MAX_MAJOR) {
            throw new UnsupportedOperationException("preview class file (version " + major + ")");
        }
        byte[] readable = major > ASM_MAX_MAJOR ? withMajorVersion(classFile, ASM_MAX_MAJOR) : classFile;

        Map<String, Level> levels = new HashMap<>();
        for (int attempt = 0; ; attempt++) {
            try {
                byte[] result = instrumentOnce(readable, loader, levels);
                if (result == null) return null;
                return major > ASM_MAX_MAJOR ? withMajorVersion(result, major) : result;
            } catch (MethodTooLargeException tooLarge) {
                String key = tooLarge.getMethodName() + tooLarge.getDescriptor();
                Level current = levels.getOrDefault(key, recordValues ? Level.FULL : Level.LINES);
                Level next = current == Level.FULL ? Level.LINES : Level.NONE;
                if (current == Level.NONE || attempt > 1000) throw tooLarge;
                levels.put(key, next);
                warnings.add(
                        tooLarge.getClassName().replace('/', '.') + "." + tooLarge.getMethodName()
                                + " would exceed 64 KB instrumented; recording "
                                + (next == Level.LINES ? "lines only" : "nothing") + " in it");
            }
        }
    }

    private byte[] instrumentOnce(byte[] classFile, ClassLoader loader, Map<String, Level> levels)
            throws Exception {
        ClassReader reader = new ClassReader(classFile);
        ClassNode node = new ClassNode();
        reader.accept(node, ClassReader.SKIP_FRAMES);
        if ((node.access & Opcodes.ACC_MODULE) != 0) return null;

        int classId = declarations.classId(node.name, node.sourceFile);
        List<Declarations.MethodTable> tables = new ArrayList<>();
        for (MethodNode method : node.methods) {
            Level level =
                    levels.getOrDefault(method.name + method.desc, recordValues ? Level.FULL : Level.LINES);
            if (level == Level.NONE || !MethodInstrumenter.isInstrumentable(method)) continue;
            MethodInstrumenter instrumenter =
                    new MethodInstrumenter(
                            node.name,
                            method,
                            declarations,
                            classId,
                            level == Level.FULL,
                            omitKnownReadValues);
            tables.add(instrumenter.instrument());
        }
        if (tables.isEmpty()) return null;

        ClassHierarchy hierarchy = new ClassHierarchy(loader);
        hierarchy.add(node.name, node.superName, (node.access & Opcodes.ACC_INTERFACE) != 0);
        boolean needsFrames = (node.version & 0xFFFF) >= Opcodes.V1_6;
        ClassWriter writer =
                new HierarchyClassWriter(
                        needsFrames ? ClassWriter.COMPUTE_FRAMES : ClassWriter.COMPUTE_MAXS, hierarchy);
        node.accept(writer);
        byte[] result = writer.toByteArray(); // throws MethodTooLargeException
        for (Declarations.MethodTable table : tables) declarations.method(table);
        return result;
    }

    static byte[] withMajorVersion(byte[] classFile, int major) {
        byte[] copy = classFile.clone();
        copy[6] = (byte) (major >>> 8);
        copy[7] = (byte) major;
        return copy;
    }

    /** Computes frames from class-file headers via the defining loader, never loading classes. */
    private static final class HierarchyClassWriter extends ClassWriter {
        private final ClassHierarchy hierarchy;

        HierarchyClassWriter(int flags, ClassHierarchy hierarchy) {
            super(flags);
            this.hierarchy = hierarchy;
        }

        @Override
        protected String getCommonSuperClass(String type1, String type2) {
            return hierarchy.commonSuperClass(type1, type2);
        }
    }
}
