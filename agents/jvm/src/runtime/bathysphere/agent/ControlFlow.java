package bathysphere.agent;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LookupSwitchInsnNode;
import org.objectweb.asm.tree.TableSwitchInsnNode;

/** The normal (non-exceptional) control-flow edges of a method's instruction array. */
final class ControlFlow {
    private ControlFlow() {}

    /**
     * Successor positions of every instruction; position {@code instructions.length} is a single
     * exit node (returns and throws lead there; it has no successors).
     */
    static int[][] successors(AbstractInsnNode[] instructions, Map<LabelNode, Integer> labelIndex) {
        int exit = instructions.length;
        int[][] successors = new int[exit + 1][];
        for (int i = 0; i < exit; i++) successors[i] = successorsOf(instructions, i, exit, labelIndex);
        successors[exit] = new int[0];
        return successors;
    }

    /** Labels a jump or a switch can go to: code reached otherwise than by falling into it. */
    static Set<LabelNode> jumpTargets(AbstractInsnNode[] instructions) {
        Set<LabelNode> targets = new HashSet<>();
        for (AbstractInsnNode insn : instructions) {
            if (insn instanceof JumpInsnNode) targets.add(((JumpInsnNode) insn).label);
            if (insn instanceof TableSwitchInsnNode) {
                targets.add(((TableSwitchInsnNode) insn).dflt);
                targets.addAll(((TableSwitchInsnNode) insn).labels);
            }
            if (insn instanceof LookupSwitchInsnNode) {
                targets.add(((LookupSwitchInsnNode) insn).dflt);
                targets.addAll(((LookupSwitchInsnNode) insn).labels);
            }
        }
        return targets;
    }

    private static int[] successorsOf(
            AbstractInsnNode[] instructions, int i, int exit, Map<LabelNode, Integer> labelIndex) {
        AbstractInsnNode insn = instructions[i];
        int op = insn.getOpcode();
        int next = i + 1 < instructions.length ? i + 1 : exit;
        if (op == Opcodes.GOTO) return new int[] {labelIndex.get(((JumpInsnNode) insn).label)};
        if (insn instanceof JumpInsnNode) {
            return distinct(next, labelIndex.get(((JumpInsnNode) insn).label));
        }
        if (insn instanceof TableSwitchInsnNode) {
            TableSwitchInsnNode s = (TableSwitchInsnNode) insn;
            return targets(s.dflt, s.labels, labelIndex);
        }
        if (insn instanceof LookupSwitchInsnNode) {
            LookupSwitchInsnNode s = (LookupSwitchInsnNode) insn;
            return targets(s.dflt, s.labels, labelIndex);
        }
        if ((op >= Opcodes.IRETURN && op <= Opcodes.RETURN) || op == Opcodes.ATHROW) {
            return new int[] {exit};
        }
        return new int[] {next};
    }

    private static int[] targets(
            LabelNode dflt, List<LabelNode> labels, Map<LabelNode, Integer> labelIndex) {
        int[] all = new int[labels.size() + 1];
        all[0] = labelIndex.get(dflt);
        for (int k = 0; k < labels.size(); k++) all[k + 1] = labelIndex.get(labels.get(k));
        return Arrays.stream(all).distinct().toArray();
    }

    private static int[] distinct(int a, int b) {
        return a == b ? new int[] {a} : new int[] {a, b};
    }
}
