package bathysphere.agent;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.IincInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.TryCatchBlockNode;
import org.objectweb.asm.tree.VarInsnNode;

/**
 * Finds the local-variable reads whose value the consumer already holds, so that their event
 * can leave the value out. Only the frame itself changes its locals, and every recorded write
 * (arguments at entry, stores, iinc) carries its value; so a read of variable v needs no value
 * when, on every path from the method's entry, the last write of the read's slot was recorded
 * as variable v (variable indices are per slot, so that write is also the consumer's last write
 * of v).
 *
 * <p>A forward dataflow over the original instructions: the state is, per slot, the variable
 * index of the slot's last recorded write, or {@link #UNKNOWN} (never written, written without
 * a record, or different variables on different paths). Paths meet by keeping equal entries
 * only. A handler starts from every state its try range can throw in; a store inside the range
 * also leaves the slot unknown there, since the call that records the store could throw after
 * the slot changed. A two-slot store clears the slot above it, and a store into the upper half
 * of a long or double clears the slot below.
 */
final class KnownLocalReads {
    static final int UNKNOWN = -1;

    private final AbstractInsnNode[] code;
    private final int[][] successors;
    private final int[] readVariableAt;
    private final int[] writeVariableAt;
    private final LocalVariables variables;
    /** Per position, the handler positions of the try blocks covering it (null: none). */
    private final int[][] handlersAt;
    /** State before each position that starts a walk (null: not reached yet). */
    private final int[][] stateAt;
    private final ArrayDeque<Integer> pending = new ArrayDeque<>();

    private KnownLocalReads(
            AbstractInsnNode[] code,
            Map<LabelNode, Integer> labelPositions,
            List<TryCatchBlockNode> tryCatchBlocks,
            int[] readVariableAt,
            int[] writeVariableAt,
            LocalVariables variables) {
        this.code = code;
        this.successors = ControlFlow.successors(code, labelPositions);
        this.readVariableAt = readVariableAt;
        this.writeVariableAt = writeVariableAt;
        this.variables = variables;
        this.handlersAt = handlersAt(code.length, labelPositions, tryCatchBlocks);
        this.stateAt = new int[code.length][];
    }

    /**
     * @param entryVariables per slot, the variable recorded for it at method entry, or UNKNOWN
     * @param readVariableAt per position, the variable a load or iinc records as read, or -1
     * @param writeVariableAt per position, the variable a store or iinc records as written, or -1
     *     (also for stores that are not recorded)
     * @return positions whose read may be recorded without its value
     */
    static BitSet analyze(
            AbstractInsnNode[] code,
            Map<LabelNode, Integer> labelPositions,
            List<TryCatchBlockNode> tryCatchBlocks,
            int[] entryVariables,
            int[] readVariableAt,
            int[] writeVariableAt,
            LocalVariables variables) {
        KnownLocalReads analysis =
                new KnownLocalReads(
                        code, labelPositions, tryCatchBlocks, readVariableAt, writeVariableAt, variables);
        return analysis.run(entryVariables);
    }

    private BitSet run(int[] entryVariables) {
        BitSet known = new BitSet();
        if (code.length == 0) return known;
        mergeInto(0, entryVariables);
        while (!pending.isEmpty()) walk(pending.poll(), null);
        // The states are final now: walk every reached start once more to judge the reads.
        for (int start = 0; start < code.length; start++) {
            if (stateAt[start] != null) walk(start, known);
        }
        return known;
    }

    /**
     * Runs the transfer from {@code start} along straight-line code until a position with
     * several predecessors or a jump, merging into the states of the successors reached.
     */
    private void walk(int start, BitSet known) {
        int[] state = stateAt[start].clone();
        for (int i = start; ; i++) {
            if (known != null) judgeRead(i, state, known);
            int[] handlers = handlersAt[i];
            if (handlers != null) mergeIntoHandlers(i, handlers, state);
            apply(i, state);
            int[] next = successors[i];
            if (next.length == 1 && next[0] == i + 1 && next[0] < code.length && !startsWalk(i + 1)) {
                continue;
            }
            for (int successor : next) if (successor < code.length) mergeInto(successor, state);
            return;
        }
    }

    /** An exception at {@code i} enters each handler with the locals as they are before it. */
    private void mergeIntoHandlers(int i, int[] handlers, int[] state) {
        for (int handler : handlers) mergeInto(handler, state);
        if (!isStore(code[i])) return;
        // The slot changes before the call that records the store, and that call may throw.
        int[] unrecorded = state.clone();
        applyStore(unrecorded, slotOf(code[i]), isWideStore(code[i]), UNKNOWN);
        for (int handler : handlers) mergeInto(handler, unrecorded);
    }

    /** Positions where paths join (labels) start walks of their own. */
    private boolean startsWalk(int position) {
        return code[position] instanceof LabelNode;
    }

    private void judgeRead(int i, int[] state, BitSet known) {
        int variable = readVariableAt[i];
        if (variable < 0) return;
        int slot = slotOf(code[i]);
        if (slot < state.length && state[slot] == variable) known.set(i);
    }

    private void apply(int i, int[] state) {
        AbstractInsnNode insn = code[i];
        if (!isStore(insn)) return;
        applyStore(state, slotOf(insn), isWideStore(insn), writeVariableAt[i]);
    }

    private void applyStore(int[] state, int slot, boolean wide, int variable) {
        if (slot >= state.length) return;
        state[slot] = variable;
        if (wide && slot + 1 < state.length) state[slot + 1] = UNKNOWN;
        if (slot > 0 && state[slot - 1] >= 0 && isWideVariable(state[slot - 1])) {
            state[slot - 1] = UNKNOWN;
        }
    }

    private boolean isWideVariable(int variable) {
        String descriptor = variables.descriptorOf(variable);
        return descriptor.equals("J") || descriptor.equals("D");
    }

    private void mergeInto(int position, int[] state) {
        int[] known = stateAt[position];
        if (known == null) {
            stateAt[position] = state.clone();
            pending.add(position);
            return;
        }
        boolean changed = false;
        for (int slot = 0; slot < known.length; slot++) {
            if (known[slot] != UNKNOWN && known[slot] != state[slot]) {
                known[slot] = UNKNOWN;
                changed = true;
            }
        }
        if (changed) pending.add(position);
    }

    private static int[][] handlersAt(
            int count, Map<LabelNode, Integer> labelPositions, List<TryCatchBlockNode> blocks) {
        List<List<Integer>> lists = new ArrayList<>(count);
        for (int i = 0; i < count; i++) lists.add(null);
        for (TryCatchBlockNode block : blocks) {
            Integer start = labelPositions.get(block.start);
            Integer end = labelPositions.get(block.end);
            Integer handler = labelPositions.get(block.handler);
            if (start == null || end == null || handler == null) continue;
            for (int i = start; i < end; i++) {
                if (lists.get(i) == null) lists.set(i, new ArrayList<>());
                if (!lists.get(i).contains(handler)) lists.get(i).add(handler);
            }
        }
        int[][] result = new int[count][];
        for (int i = 0; i < count; i++) {
            List<Integer> list = lists.get(i);
            if (list != null) result[i] = list.stream().mapToInt(Integer::intValue).toArray();
        }
        return result;
    }

    private static boolean isStore(AbstractInsnNode insn) {
        int op = insn.getOpcode();
        return insn instanceof IincInsnNode || (op >= Opcodes.ISTORE && op <= Opcodes.ASTORE);
    }

    /** The slot a load, store or iinc uses. */
    private static int slotOf(AbstractInsnNode insn) {
        return insn instanceof IincInsnNode ? ((IincInsnNode) insn).var : ((VarInsnNode) insn).var;
    }

    private static boolean isWideStore(AbstractInsnNode insn) {
        int op = insn.getOpcode();
        return op == Opcodes.LSTORE || op == Opcodes.DSTORE;
    }

    /** The entry state: every slot unknown except those the method's arguments fill. */
    static int[] unknownSlots(int maxLocals) {
        int[] state = new int[maxLocals];
        Arrays.fill(state, UNKNOWN);
        return state;
    }
}
