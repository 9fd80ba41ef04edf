package bathysphere.agent;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.VarInsnNode;
import org.objectweb.asm.tree.analysis.Analyzer;
import org.objectweb.asm.tree.analysis.AnalyzerException;
import org.objectweb.asm.tree.analysis.Frame;
import org.objectweb.asm.tree.analysis.SourceInterpreter;
import org.objectweb.asm.tree.analysis.SourceValue;

/**
 * Finds the arguments a method hands to the JDK that the trace would otherwise not show: a value
 * computed on the line ({@code count - 1}, {@code 'A' + row}) or a constant, passed into code
 * that records nothing. Each is recorded as a write of a synthetic variable named after the call
 * ({@code Arrays.sort(…) argument 3}), so a step that passed a wrong value shows it. Only
 * primitive and String arguments, and not those simply loaded from a local, a field or an array
 * element: that read is recorded already.
 */
final class LibraryArguments {
    /** One argument to record at a call. */
    static final class Argument {
        /** Position among the call's arguments, from 0. */
        final int index;
        final char kind;
        /** The synthetic variable it is recorded as. */
        final int variable;

        Argument(int index, char kind, int variable) {
            this.index = index;
            this.kind = kind;
            this.variable = variable;
        }
    }

    private LibraryArguments() {}

    /**
     * Per instruction position of a call into the JDK (from {@code firstPosition} on), the
     * arguments to record, in argument order.
     */
    static Map<Integer, List<Argument>> analyze(
            String owner,
            MethodNode method,
            AbstractInsnNode[] original,
            int firstPosition,
            LocalVariables variables)
            throws AnalyzerException {
        Map<Integer, List<Argument>> found = new HashMap<>();
        Frame<SourceValue>[] frames = null;
        for (int i = Math.max(0, firstPosition); i < original.length; i++) {
            if (!(original[i] instanceof MethodInsnNode)) continue;
            MethodInsnNode call = (MethodInsnNode) original[i];
            if (!Scope.isJdkClass(call.owner)) continue;
            Type[] types = Type.getArgumentTypes(call.desc);
            if (!anyValueType(types)) continue;
            if (frames == null) frames = new Analyzer<>(new SourceInterpreter()).analyze(owner, method);
            Frame<SourceValue> frame = frames[i];
            if (frame == null) continue; // unreachable code
            int first = frame.getStackSize() - types.length;
            List<Argument> arguments = new ArrayList<>();
            for (int a = 0; a < types.length; a++) {
                if (!isValueType(types[a]) || isRecordedRead(frame.getStack(first + a))) continue;
                String descriptor = types[a].getDescriptor();
                int variable = variables.synthetic(nameOf(call, a), descriptor);
                arguments.add(new Argument(a, LocalVariables.kindOf(descriptor), variable));
            }
            if (!arguments.isEmpty()) found.put(i, arguments);
        }
        return found;
    }

    /** How the trace names the argument: {@code Arrays.sort(…) argument 3}, {@code new StringBuilder(…) argument 1}. */
    static String nameOf(MethodInsnNode call, int index) {
        String type = call.owner.substring(call.owner.lastIndexOf('/') + 1).replace('$', '.');
        String callee = "<init>".equals(call.name) ? "new " + type : type + "." + call.name;
        return callee + "(\u2026) argument " + (index + 1);
    }

    private static boolean anyValueType(Type[] types) {
        for (Type type : types) if (isValueType(type)) return true;
        return false;
    }

    private static boolean isValueType(Type type) {
        int sort = type.getSort();
        return (sort >= Type.BOOLEAN && sort <= Type.DOUBLE)
                || (sort == Type.OBJECT && "java/lang/String".equals(type.getInternalName()));
    }

    /** The value was pushed by one load whose read the trace records (local, field, element). */
    private static boolean isRecordedRead(SourceValue value) {
        if (value.insns.size() != 1) return false;
        AbstractInsnNode producer = value.insns.iterator().next();
        int op = producer.getOpcode();
        if (producer instanceof VarInsnNode) return op >= Opcodes.ILOAD && op <= Opcodes.ALOAD;
        return op == Opcodes.GETFIELD
                || op == Opcodes.GETSTATIC
                || (op >= Opcodes.IALOAD && op <= Opcodes.SALOAD);
    }
}
