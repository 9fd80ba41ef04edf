package bathysphere.agent;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LocalVariableNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * Resolves a local-variable slot at an instruction position to a per-method variable index with
 * the source name and type from the LocalVariableTable, or a synthetic {@code slotN} name (typed
 * by the opcode) when the table is absent or does not cover the position.
 */
final class LocalVariables {
    private final List<LocalVariableNode> table;
    private final Map<LabelNode, Integer> labelPositions;
    private final Map<String, Integer> indexByKey = new HashMap<>();
    private final List<String[]> variables = new ArrayList<>();

    LocalVariables(MethodNode method, Map<LabelNode, Integer> labelPositions) {
        this.table = method.localVariables == null ? List.of() : method.localVariables;
        this.labelPositions = labelPositions;
    }

    /** Declared variables in index order: {name, descriptor}. */
    List<String[]> declared() {
        return variables;
    }

    /** Descriptor of a declared variable. */
    String descriptorOf(int index) {
        return variables.get(index)[1];
    }

    /**
     * @param kind value kind of the instruction: one of I J F D A
     * @param position instruction index (for stores: the index after the store, where javac
     *     starts the variable's scope)
     */
    int variableAt(int slot, int position, char kind) {
        for (LocalVariableNode entry : table) {
            if (entry.index != slot || kindOf(entry.desc) != kind) continue;
            int start = labelPositions.getOrDefault(entry.start, Integer.MAX_VALUE);
            int end = labelPositions.getOrDefault(entry.end, -1);
            if (start <= position && position < end) return indexOf(entry.name, entry.desc, slot);
        }
        return indexOf("slot" + slot, syntheticDescriptor(kind), slot);
    }

    /** A variable of no slot, written by the instrumentation itself (see LibraryArguments). */
    int synthetic(String name, String descriptor) {
        return indexOf(name, descriptor, -1);
    }

    private int indexOf(String name, String descriptor, int slot) {
        String key = slot + " " + name + " " + descriptor;
        Integer known = indexByKey.get(key);
        if (known != null) return known;
        int index = variables.size();
        variables.add(new String[] {name, descriptor});
        indexByKey.put(key, index);
        return index;
    }

    static char kindOf(String descriptor) {
        switch (Type.getType(descriptor).getSort()) {
            case Type.BOOLEAN: case Type.BYTE: case Type.CHAR: case Type.SHORT: case Type.INT:
                return 'I';
            case Type.LONG: return 'J';
            case Type.FLOAT: return 'F';
            case Type.DOUBLE: return 'D';
            default: return 'A';
        }
    }

    static String syntheticDescriptor(char kind) {
        switch (kind) {
            case 'I': return "I";
            case 'J': return "J";
            case 'F': return "F";
            case 'D': return "D";
            default: return "Ljava/lang/Object;";
        }
    }
}
