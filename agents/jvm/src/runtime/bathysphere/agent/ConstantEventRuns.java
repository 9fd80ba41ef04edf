package bathysphere.agent;

import bathysphere.hook.TraceRecorder;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.TryCatchBlockNode;
import org.objectweb.asm.tree.VarInsnNode;

/**
 * Records runs of constant events with one recorder call each. LINE, BRANCH, LINE_AFTER_CALL
 * and READ_LOCAL_AS_WRITTEN have bytes that are fixed when the method is instrumented. Where
 * several of them follow one another with only instructions between them that cannot throw,
 * jump, call or be jumped to, either all of them run or none does, and nothing else is recorded
 * between them; so one call at the place of the first can write the bytes of all of them, and
 * the stream is byte for byte the one the separate calls would write.
 *
 * <p>The instrumenter walks the original code in order and reports each constant event
 * ({@link #addBefore}, {@link #addAfter}), each instruction or label it goes past ({@link
 * #pass}), and each event with a value ({@link #close}). A run's call is inserted when the run
 * closes: a single event as its own event method (as without runs), several as one call of
 * {@code constantEvents} with their bytes packed in an int (up to four) or a long (up to eight).
 *
 * <p>LINE only ever starts a run: its call also charges the thread's line budget (step limit,
 * recording window), which may hand over or drop what was recorded before it, so nothing may be
 * written in the same call ahead of it.
 */
final class ConstantEventRuns {
    /** The most bytes one call carries: a long. */
    static final int MAX_RUN_BYTES = 8;

    /** One constant event: its bytes, and the event method that records it alone. */
    static final class Event {
        final byte[] bytes;
        final boolean isLine;
        private final String method;
        /** The event method's int argument, or -1 for none. */
        private final int argument;

        private Event(byte[] bytes, boolean isLine, String method, int argument) {
            this.bytes = bytes;
            this.isLine = isLine;
            this.method = method;
            this.argument = argument;
        }

        static Event line(int lineIndex) {
            return new Event(TraceRecorder.lineBytes(lineIndex), true, "line", lineIndex);
        }

        static Event branch(int branchIndex) {
            return new Event(TraceRecorder.branchBytes(branchIndex), false, "branch", branchIndex);
        }

        static Event readLocalAsWritten(int variable) {
            byte[] bytes = TraceRecorder.readLocalAsWrittenBytes(variable);
            return new Event(bytes, false, "readLocalAsWritten", variable);
        }

        static Event lineAfterCall() {
            return new Event(TraceRecorder.lineAfterCallBytes(), false, "lineAfterCall", -1);
        }
    }

    private final InsnList instructions;
    private final int recorderSlot;
    /** Labels control can reach from elsewhere than the code before, or where handlers change. */
    private final Set<LabelNode> labelsEndingRuns;

    /** Where the open run's call goes (a NOP replaced when the run closes); null: no open run. */
    private AbstractInsnNode placeholder;
    private final List<Event> run = new ArrayList<>();
    private int runBytes;

    ConstantEventRuns(
            InsnList instructions,
            int recorderSlot,
            AbstractInsnNode[] original,
            List<TryCatchBlockNode> tryCatchBlocks) {
        this.instructions = instructions;
        this.recorderSlot = recorderSlot;
        this.labelsEndingRuns = labelsEndingRuns(original, tryCatchBlocks);
    }

    /** A constant event recorded right before {@code insn}. */
    void addBefore(AbstractInsnNode insn, Event event) {
        if (!joins(event)) {
            close();
            placeholder = new InsnNode(Opcodes.NOP);
            instructions.insertBefore(insn, placeholder);
        }
        append(event);
    }

    /** A constant event recorded right after {@code insn}. */
    void addAfter(AbstractInsnNode insn, Event event) {
        if (!joins(event)) {
            close();
            placeholder = new InsnNode(Opcodes.NOP);
            instructions.insert(insn, placeholder);
        }
        append(event);
    }

    /**
     * The code goes past {@code insn} (after the events recorded before it, before those after
     * it): the open run ends unless {@code insn} lets it go on.
     */
    void pass(AbstractInsnNode insn) {
        if (!letsRunGoOn(insn)) close();
    }

    /** Ends the open run (an event with a value follows, or the code ends): inserts its call. */
    void close() {
        if (placeholder == null) return;
        InsnList call = run.size() == 1 ? singleCall(run.get(0)) : runCall();
        instructions.insertBefore(placeholder, call);
        instructions.remove(placeholder);
        placeholder = null;
        run.clear();
        runBytes = 0;
    }

    private boolean joins(Event event) {
        if (placeholder == null || event.isLine) return false;
        return runBytes + event.bytes.length <= MAX_RUN_BYTES;
    }

    private void append(Event event) {
        run.add(event);
        runBytes += event.bytes.length;
    }

    private InsnList singleCall(Event event) {
        InsnList call = new InsnList();
        call.add(new VarInsnNode(Opcodes.ALOAD, recorderSlot));
        if (event.argument >= 0) call.add(MethodInstrumenter.pushInt(event.argument));
        String descriptor = event.argument >= 0 ? "(I)V" : "()V";
        call.add(recorderCall(event.method, descriptor));
        return call;
    }

    private InsnList runCall() {
        long packed = 0;
        int shift = 0;
        for (Event event : run) {
            for (byte b : event.bytes) {
                packed |= (b & 0xFFL) << shift;
                shift += 8;
            }
        }
        boolean inInt = runBytes <= 4;
        InsnList call = new InsnList();
        call.add(new VarInsnNode(Opcodes.ALOAD, recorderSlot));
        call.add(inInt ? MethodInstrumenter.pushInt((int) packed) : new LdcInsnNode(packed));
        call.add(MethodInstrumenter.pushInt(runBytes));
        String method = run.get(0).isLine ? "lineAndConstantEvents" : "constantEvents";
        call.add(recorderCall(method, inInt ? "(II)V" : "(JI)V"));
        return call;
    }

    private static MethodInsnNode recorderCall(String name, String descriptor) {
        return new MethodInsnNode(
                Opcodes.INVOKEVIRTUAL, MethodInstrumenter.RECORDER, name, descriptor, false);
    }

    private boolean letsRunGoOn(AbstractInsnNode insn) {
        if (insn instanceof LabelNode) return !labelsEndingRuns.contains(insn);
        if (insn.getOpcode() < 0) return true; // line numbers and frames are no code
        return cannotThrowOrJump(insn);
    }

    /**
     * Instructions that only move values between the stack and locals or compute on them: they
     * cannot throw (no division of integers, no object, array or class access, no call) and
     * always go on to the next instruction.
     */
    static boolean cannotThrowOrJump(AbstractInsnNode insn) {
        int op = insn.getOpcode();
        if (op == Opcodes.LDC) return isNumber(((LdcInsnNode) insn).cst);
        if (op == Opcodes.IDIV || op == Opcodes.LDIV || op == Opcodes.IREM || op == Opcodes.LREM) {
            return false; // ArithmeticException on zero
        }
        return (op >= Opcodes.NOP && op <= Opcodes.SIPUSH) // constants
                || (op >= Opcodes.ILOAD && op <= Opcodes.ALOAD)
                || (op >= Opcodes.ISTORE && op <= Opcodes.ASTORE)
                || (op >= Opcodes.POP && op <= Opcodes.SWAP)
                // arithmetic, shifts, bitwise, IINC, conversions, comparisons to an int
                || (op >= Opcodes.IADD && op <= Opcodes.DCMPG);
    }

    /** A numeric constant is in the constant pool already; a string or class may be resolved. */
    private static boolean isNumber(Object constant) {
        return constant instanceof Integer
                || constant instanceof Long
                || constant instanceof Float
                || constant instanceof Double;
    }

    /** Jump and switch targets, and the start, end and handler of every try block. */
    private static Set<LabelNode> labelsEndingRuns(
            AbstractInsnNode[] original, List<TryCatchBlockNode> tryCatchBlocks) {
        Set<LabelNode> labels = ControlFlow.jumpTargets(original);
        for (TryCatchBlockNode block : tryCatchBlocks) {
            labels.add(block.start);
            labels.add(block.end);
            labels.add(block.handler);
        }
        return labels;
    }
}
