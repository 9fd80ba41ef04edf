package bathysphere.agent;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.TryCatchBlockNode;

/**
 * Static control dependence of one method: post-dominators of the normal control-flow graph
 * (Cooper, Harvey and Kennedy's iterative algorithm on the reverse graph), then for every
 * conditional branch the source lines it controls — the nodes on the post-dominator tree path
 * from each successor up to (excluding) the branch's immediate post-dominator.
 *
 * <p>Exceptional edges are left out of the post-dominator analysis on purpose: with them, every
 * instruction inside a try would weaken post-dominance and make branch regions leak into
 * unrelated handlers. Handlers are added afterwards, structurally: a handler's region (the code
 * only an exception reaches) belongs to every branch whose region holds the start of its try
 * block (a catch inside a loop body is part of the loop), and each handler becomes a branch of
 * its own that controls its region, reported when the handler is entered, so the steps of a
 * catch block depend on the exception that led there.
 */
final class ControlDependence {
    /** One conditional branch instruction (if/switch) in instruction-list order. */
    static final class Branch {
        final AbstractInsnNode instruction;
        final int lineIndex;
        final int[] controlledLineIndices;

        Branch(AbstractInsnNode instruction, int lineIndex, int[] controlledLineIndices) {
            this.instruction = instruction;
            this.lineIndex = lineIndex;
            this.controlledLineIndices = controlledLineIndices;
        }
    }

    private ControlDependence() {}

    /**
     * @param instructions the method's instructions, in list order
     * @param lineIndexAt line index per instruction (-1 where no line is known yet)
     */
    static List<Branch> analyze(
            AbstractInsnNode[] instructions, int[] lineIndexAt, List<TryCatchBlockNode> tryCatchBlocks) {
        int count = instructions.length;
        int exit = count;
        Map<LabelNode, Integer> labelIndex = LABEL_INDEX.get();
        labelIndex.clear();
        for (int i = 0; i < count; i++) {
            if (instructions[i] instanceof LabelNode) labelIndex.put((LabelNode) instructions[i], i);
        }
        int[][] successors = ControlFlow.successors(instructions, labelIndex);
        int[] postDominator = immediatePostDominators(successors, exit);

        List<Branch> branches = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            if (!isConditionalBranch(instructions[i])) continue;
            BitSet lines = new BitSet();
            for (int successor : successors[i]) {
                for (int n = successor; n != postDominator[i] && n != exit; n = postDominator[n]) {
                    if (instructions[n].getOpcode() >= 0 && lineIndexAt[n] >= 0) {
                        lines.set(lineIndexAt[n]);
                    }
                    if (postDominator[n] == n) break; // unreachable-from-exit guard
                }
            }
            branches.add(new Branch(instructions[i], lineIndexAt[i], lines.stream().toArray()));
        }
        addHandlers(instructions, lineIndexAt, successors, tryCatchBlocks, branches);
        labelIndex.clear();
        return branches;
    }

    /** Handler regions join the regions around their try blocks, and become branches. */
    private static void addHandlers(
            AbstractInsnNode[] instructions,
            int[] lineIndexAt,
            int[][] successors,
            List<TryCatchBlockNode> tryCatchBlocks,
            List<Branch> branches) {
        BitSet normal = reachable(successors, 0, null);
        int realBranches = branches.size();
        Map<LabelNode, Boolean> done = new IdentityHashMap<>();
        for (TryCatchBlockNode block : tryCatchBlocks) {
            if (done.put(block.handler, Boolean.TRUE) != null) continue;
            int handler = indexOf(block.handler);
            if (normal.get(handler)) continue; // also reached without an exception: not a region
            BitSet region = reachable(successors, handler, normal);
            BitSet lines = new BitSet();
            for (int n = region.nextSetBit(0); n >= 0; n = region.nextSetBit(n + 1)) {
                if (n < instructions.length && instructions[n].getOpcode() >= 0 && lineIndexAt[n] >= 0) {
                    lines.set(lineIndexAt[n]);
                }
            }
            int tryLine = firstLineFrom(instructions, lineIndexAt, indexOf(block.start));
            for (int b = 0; b < realBranches; b++) {
                Branch around = branches.get(b);
                if (tryLine >= 0 && contains(around.controlledLineIndices, tryLine)) {
                    branches.set(b, new Branch(around.instruction, around.lineIndex, union(around, lines)));
                }
            }
            int handlerLine = firstLineFrom(instructions, lineIndexAt, handler);
            branches.add(new Branch(block.handler, handlerLine, lines.stream().toArray()));
        }
    }

    /** Nodes reachable from {@code start} along normal edges, not entering {@code stopAt}. */
    private static BitSet reachable(int[][] successors, int start, BitSet stopAt) {
        BitSet seen = new BitSet();
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        queue.add(start);
        seen.set(start);
        while (!queue.isEmpty()) {
            for (int next : successors[queue.poll()]) {
                if (seen.get(next) || (stopAt != null && stopAt.get(next))) continue;
                seen.set(next);
                queue.add(next);
            }
        }
        return seen;
    }

    private static int firstLineFrom(AbstractInsnNode[] instructions, int[] lineIndexAt, int from) {
        for (int i = from; i < instructions.length; i++) {
            if (instructions[i].getOpcode() >= 0) return lineIndexAt[i];
        }
        return -1;
    }

    private static boolean contains(int[] sorted, int value) {
        return Arrays.binarySearch(sorted, value) >= 0;
    }

    private static int[] union(Branch branch, BitSet lines) {
        BitSet all = (BitSet) lines.clone();
        for (int line : branch.controlledLineIndices) all.set(line);
        return all.stream().toArray();
    }

    static boolean isConditionalBranch(AbstractInsnNode insn) {
        int op = insn.getOpcode();
        return (op >= Opcodes.IFEQ && op <= Opcodes.IF_ACMPNE)
                || op == Opcodes.IFNULL
                || op == Opcodes.IFNONNULL
                || op == Opcodes.TABLESWITCH
                || op == Opcodes.LOOKUPSWITCH;
    }

    /** Index of a label node in the instruction array being analysed. */
    private static int indexOf(LabelNode label) {
        return LABEL_INDEX.get().get(label);
    }

    private static final ThreadLocal<Map<LabelNode, Integer>> LABEL_INDEX =
            ThreadLocal.withInitial(IdentityHashMap::new);

    /**
     * Post-dominator tree as parent array (exit is its own parent). Nodes that cannot reach the
     * exit (infinite loops) get the exit as parent, which treats their region as open-ended.
     */
    private static int[] immediatePostDominators(int[][] successors, int exit) {
        int total = successors.length;
        List<List<Integer>> predecessors = new ArrayList<>(total);
        for (int i = 0; i < total; i++) predecessors.add(new ArrayList<>());
        for (int n = 0; n < total; n++) for (int s : successors[n]) predecessors.get(s).add(n);

        // Reverse post-order of the reverse graph, from the exit, iteratively.
        int[] order = new int[total];
        int[] rank = new int[total];
        Arrays.fill(rank, -1);
        int placed = 0;
        boolean[] seen = new boolean[total];
        ArrayDeque<int[]> stack = new ArrayDeque<>();
        stack.push(new int[] {exit, 0});
        seen[exit] = true;
        while (!stack.isEmpty()) {
            int[] top = stack.peek();
            List<Integer> preds = predecessors.get(top[0]);
            if (top[1] < preds.size()) {
                int p = preds.get(top[1]++);
                if (!seen[p]) {
                    seen[p] = true;
                    stack.push(new int[] {p, 0});
                }
            } else {
                stack.pop();
                order[placed++] = top[0];
            }
        }
        // order holds post-order; ranks in reverse post-order (exit first).
        int[] rpo = new int[placed];
        for (int k = 0; k < placed; k++) {
            rpo[k] = order[placed - 1 - k];
            rank[rpo[k]] = k;
        }

        int[] ipdom = new int[total];
        Arrays.fill(ipdom, -1);
        ipdom[exit] = exit;
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int k = 1; k < placed; k++) {
                int n = rpo[k];
                int candidate = -1;
                for (int s : successors[n]) {
                    if (ipdom[s] == -1) continue;
                    candidate = candidate == -1 ? s : intersect(candidate, s, ipdom, rank);
                }
                if (candidate != -1 && ipdom[n] != candidate) {
                    ipdom[n] = candidate;
                    changed = true;
                }
            }
        }
        for (int n = 0; n < total; n++) if (ipdom[n] == -1) ipdom[n] = exit;
        return ipdom;
    }

    private static int intersect(int a, int b, int[] ipdom, int[] rank) {
        while (a != b) {
            while (rank[a] > rank[b]) a = ipdom[a];
            while (rank[b] > rank[a]) b = ipdom[b];
        }
        return a;
    }
}
