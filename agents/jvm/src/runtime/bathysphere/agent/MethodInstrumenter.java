package bathysphere.agent;

import java.util.BitSet;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.FrameNode;
import org.objectweb.asm.tree.IincInsnNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.IntInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.LineNumberNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TryCatchBlockNode;
import org.objectweb.asm.tree.VarInsnNode;
import org.objectweb.asm.tree.analysis.Analyzer;
import org.objectweb.asm.tree.analysis.AnalyzerException;
import org.objectweb.asm.tree.analysis.BasicInterpreter;
import org.objectweb.asm.tree.analysis.BasicValue;
import org.objectweb.asm.tree.analysis.Frame;

/**
 * Rewrites one method so that it reports its execution to the thread's TraceRecorder, which is
 * fetched once at entry into a fresh local. Events: entry (+ arguments), each line-number entry,
 * each conditional branch, reads and writes of locals, fields, statics and array elements (FULL
 * mode), return (+ value), exceptional exit (a catch-all wrapper that rethrows) and handler entry.
 */
final class MethodInstrumenter {
    static final String HOOK = "bathysphere/hook/Hook";
    static final String RECORDER = "bathysphere/hook/TraceRecorder";
    private static final String OBJECT = "Ljava/lang/Object;";

    private final String ownerName;
    private final MethodNode method;
    private final Declarations declarations;
    private final int classId;
    private final boolean recordValues;
    private final boolean omitKnownReadValues;

    private AbstractInsnNode[] original;
    private final Map<LabelNode, Integer> labelPositions = new IdentityHashMap<>();
    private final Map<Integer, Integer> lineIndexByNumber = new java.util.LinkedHashMap<>();
    private int[] lineIndexAt;
    private LocalVariables variables;
    /** Per parameter slot, the variable its value is recorded as at entry (-1: none). */
    private int[] argumentVariables;
    /** Per original position, the variable a load or iinc records as read (-1: none). */
    private int[] readVariableAt;
    /** Per original position, the variable a store or iinc records as written (-1: none). */
    private int[] writeVariableAt;
    /** Per position of a call into the JDK, the arguments recorded as synthetic writes. */
    private Map<Integer, List<LibraryArguments.Argument>> libraryArguments = Map.of();
    /** Temps holding a call's arguments while some are recorded, by kind and position. */
    private final Map<String, Integer> argumentTemps = new java.util.HashMap<>();
    /** Positions whose read the consumer can fill from the frame's last write (no value sent). */
    private BitSet readsAsWritten = new BitSet();
    private int recorderSlot;
    private final int[] valueTemps = {-1, -1, -1, -1, -1}; // by kind index I J F D A
    private int ownerTemp = -1;
    private int indexTemp = -1;
    /** Instructions before this index run before super()/this() in a constructor. */
    private int firstInitializedIndex;
    private boolean wrapExceptionalExit = true;
    /** Groups consecutive constant events of the body into one recorder call each. */
    private ConstantEventRuns constantRuns;

    MethodInstrumenter(
            String ownerName,
            MethodNode method,
            Declarations declarations,
            int classId,
            boolean recordValues,
            boolean omitKnownReadValues) {
        this.ownerName = ownerName;
        this.method = method;
        this.declarations = declarations;
        this.classId = classId;
        this.recordValues = recordValues;
        this.omitKnownReadValues = omitKnownReadValues;
    }

    /** Whether the method can be instrumented at all (has code and line numbers, no JSR). */
    static boolean isInstrumentable(MethodNode method) {
        if (method.instructions.size() == 0) return false;
        boolean hasLines = false;
        for (AbstractInsnNode insn : method.instructions) {
            if (insn.getOpcode() == Opcodes.JSR || insn.getOpcode() == Opcodes.RET) return false;
            if (insn instanceof LineNumberNode) hasLines = true;
        }
        return hasLines;
    }

    /** Rewrites the method in place and returns its static tables for the consumer. */
    Declarations.MethodTable instrument() throws AnalyzerException {
        original = method.instructions.toArray();
        indexLabelsAndLines();
        List<ControlDependence.Branch> branches =
                ControlDependence.analyze(original, lineIndexAt, method.tryCatchBlocks);
        Map<AbstractInsnNode, Integer> branchIndex = new IdentityHashMap<>();
        for (int b = 0; b < branches.size(); b++) branchIndex.put(branches.get(b).instruction, b);
        findConstructorInitialization();
        variables = new LocalVariables(method, labelPositions);
        if (recordValues) resolveLocalAccesses();
        if (recordValues && omitKnownReadValues) {
            readsAsWritten =
                    KnownLocalReads.analyze(
                            original,
                            labelPositions,
                            method.tryCatchBlocks,
                            argumentVariables,
                            readVariableAt,
                            writeVariableAt,
                            variables);
        }
        if (recordValues) {
            libraryArguments =
                    LibraryArguments.analyze(
                            ownerName, method, original, firstInitializedIndex, variables);
        }
        recorderSlot = method.maxLocals++;

        int methodId = declarations.methodId(ownerName, method.name, method.desc);
        LabelNode wrapperStart = insertPrologue(methodId);
        Set<LabelNode> handlers = safeHandlerLabels();
        instrumentBody(branchIndex, handlers);
        if (wrapExceptionalExit) appendExceptionalExitWrapper(wrapperStart);

        return table(methodId, branches);
    }

    // ---- analysis -----------------------------------------------------------------------------

    private void indexLabelsAndLines() {
        lineIndexAt = new int[original.length];
        int current = -1;
        for (int i = 0; i < original.length; i++) {
            AbstractInsnNode insn = original[i];
            if (insn instanceof LabelNode) labelPositions.put((LabelNode) insn, i);
            if (insn instanceof LineNumberNode) {
                int line = ((LineNumberNode) insn).line;
                Integer index = lineIndexByNumber.get(line);
                if (index == null) {
                    index = lineIndexByNumber.size();
                    lineIndexByNumber.put(line, index);
                }
                current = index;
            }
            lineIndexAt[i] = current;
        }
    }

    /**
     * In a constructor, finds the super()/this() call on the uninitialised receiver. Code before it
     * must not pass {@code this} anywhere, so it records lines and branches only, and the
     * exceptional-exit wrapper starts after it (a handler covering it would fail verification).
     */
    private void findConstructorInitialization() throws AnalyzerException {
        firstInitializedIndex = 0;
        if (!"<init>".equals(method.name)) return;
        final BasicValue uninitializedThis =
                new BasicValue(Type.getObjectType("bathysphere/UninitializedThis"));
        BasicInterpreter interpreter =
                new BasicInterpreter(Opcodes.ASM9) {
                    @Override
                    public BasicValue newParameterValue(
                            boolean isInstanceMethod, int local, Type type) {
                        if (local == 0) return uninitializedThis;
                        return super.newParameterValue(isInstanceMethod, local, type);
                    }
                };
        Frame<BasicValue>[] frames = new Analyzer<>(interpreter).analyze(ownerName, method);
        int found = -1;
        for (int i = 0; i < original.length; i++) {
            if (!(original[i] instanceof MethodInsnNode) || frames[i] == null) continue;
            MethodInsnNode call = (MethodInsnNode) original[i];
            if (call.getOpcode() != Opcodes.INVOKESPECIAL || !"<init>".equals(call.name)) continue;
            Frame<BasicValue> frame = frames[i];
            int receiverPosition =
                    frame.getStackSize() - 1 - Type.getArgumentTypes(call.desc).length;
            if (frame.getStack(receiverPosition) != uninitializedThis) continue;
            if (found >= 0) { // several initialisation paths: keep it simple and safe
                found = -1;
                break;
            }
            found = i;
        }
        if (found < 0) {
            firstInitializedIndex = Integer.MAX_VALUE; // never record values here
            wrapExceptionalExit = false;
        } else {
            firstInitializedIndex = found + 1;
        }
    }

    /**
     * Handler labels where the caught exception can be recorded safely: reached only as
     * handlers (not jump targets, not fallen into), so the stack is exactly [exception].
     */
    private Set<LabelNode> safeHandlerLabels() {
        Set<LabelNode> jumpTargets = ControlFlow.jumpTargets(original);
        Set<LabelNode> safe = new HashSet<>();
        for (TryCatchBlockNode block : method.tryCatchBlocks) {
            LabelNode handler = block.handler;
            Integer position = labelPositions.get(handler);
            if (position == null || jumpTargets.contains(handler)) continue;
            if (position < firstInitializedIndex) continue;
            if (!previousInstructionNeverFallsThrough(position)) continue;
            safe.add(handler);
        }
        return safe;
    }

    private boolean previousInstructionNeverFallsThrough(int position) {
        for (int i = position - 1; i >= 0; i--) {
            int op = original[i].getOpcode();
            if (op < 0) continue;
            return op == Opcodes.GOTO
                    || op == Opcodes.ATHROW
                    || (op >= Opcodes.IRETURN && op <= Opcodes.RETURN)
                    || op == Opcodes.TABLESWITCH
                    || op == Opcodes.LOOKUPSWITCH;
        }
        return false;
    }

    /**
     * Which variable each recorded local access uses, resolved once for the analysis and the
     * rewriting. Resolved in the order the events are emitted (arguments, then by position,
     * an iinc's read before its write), which is the order variable indices are numbered in.
     */
    private void resolveLocalAccesses() {
        argumentVariables = KnownLocalReads.unknownSlots(method.maxLocals);
        boolean isStatic = (method.access & Opcodes.ACC_STATIC) != 0;
        int slot = isStatic ? 0 : 1;
        for (Type argument : Type.getArgumentTypes(method.desc)) {
            char kind = LocalVariables.kindOf(argument.getDescriptor());
            argumentVariables[slot] = variables.variableAt(slot, 0, kind);
            slot += argument.getSize();
        }
        readVariableAt = new int[original.length];
        writeVariableAt = new int[original.length];
        java.util.Arrays.fill(readVariableAt, -1);
        java.util.Arrays.fill(writeVariableAt, -1);
        for (int i = firstInitializedIndex; i < original.length; i++) {
            AbstractInsnNode insn = original[i];
            int op = insn.getOpcode();
            if (insn instanceof VarInsnNode && op >= Opcodes.ILOAD && op <= Opcodes.ALOAD) {
                VarInsnNode load = (VarInsnNode) insn;
                if (isThisLoad(load)) continue;
                readVariableAt[i] = variables.variableAt(load.var, i, kindOfLoadStore(op - Opcodes.ILOAD));
            } else if (insn instanceof VarInsnNode && op >= Opcodes.ISTORE && op <= Opcodes.ASTORE) {
                char kind = kindOfLoadStore(op - Opcodes.ISTORE);
                writeVariableAt[i] = variables.variableAt(((VarInsnNode) insn).var, i + 1, kind);
            } else if (insn instanceof IincInsnNode) {
                int incremented = ((IincInsnNode) insn).var;
                readVariableAt[i] = variables.variableAt(incremented, i, 'I');
                writeVariableAt[i] = variables.variableAt(incremented, i + 1, 'I');
            }
        }
    }

    // ---- rewriting ----------------------------------------------------------------------------

    /** Fetches the recorder into a local, reports entry and arguments. Returns wrapper start. */
    private LabelNode insertPrologue(int methodId) {
        InsnList prologue = new InsnList();
        prologue.add(new MethodInsnNode(Opcodes.INVOKESTATIC, HOOK, "recorder", "()L" + RECORDER + ";"));
        prologue.add(new VarInsnNode(Opcodes.ASTORE, recorderSlot));
        prologue.add(new VarInsnNode(Opcodes.ALOAD, recorderSlot));
        prologue.add(pushInt(methodId));
        prologue.add(recorderCall("enter", "(I)V"));
        if (recordValues) recordArguments(prologue);
        LabelNode start = new LabelNode();
        if (firstInitializedIndex == 0) prologue.add(start);
        method.instructions.insert(prologue);
        if (firstInitializedIndex > 0 && firstInitializedIndex != Integer.MAX_VALUE) {
            method.instructions.insert(original[firstInitializedIndex - 1], start);
        }
        return start;
    }

    private void recordArguments(InsnList into) {
        boolean isStatic = (method.access & Opcodes.ACC_STATIC) != 0;
        int slot = isStatic ? 0 : 1;
        for (Type argument : Type.getArgumentTypes(method.desc)) {
            char kind = LocalVariables.kindOf(argument.getDescriptor());
            int variable = argumentVariables[slot];
            into.add(new VarInsnNode(Opcodes.ALOAD, recorderSlot));
            into.add(pushInt(variable));
            into.add(new VarInsnNode(argument.getOpcode(Opcodes.ILOAD), slot));
            into.add(recorderCall("writeLocal" + suffix(kind), "(I" + descriptor(kind) + ")V"));
            slot += argument.getSize();
        }
    }

    private void instrumentBody(Map<AbstractInsnNode, Integer> branchIndex, Set<LabelNode> handlers) {
        constantRuns =
                new ConstantEventRuns(
                        method.instructions, recorderSlot, original, method.tryCatchBlocks);
        LabelNode caughtPending = null;
        for (int i = 0; i < original.length; i++) {
            AbstractInsnNode insn = original[i];
            if (insn instanceof LineNumberNode) {
                int lineIndex = lineIndexByNumber.get(((LineNumberNode) insn).line);
                constantRuns.addAfter(insn, ConstantEventRuns.Event.line(lineIndex));
                continue;
            }
            if (insn instanceof LabelNode && handlers.contains(insn)) caughtPending = (LabelNode) insn;
            if (insn.getOpcode() < 0) {
                constantRuns.pass(insn);
                continue;
            }
            if (caughtPending != null) {
                recordCaught(insn, branchIndex.get(caughtPending));
                caughtPending = null;
            }
            Integer branch = branchIndex.get(insn);
            if (branch != null) {
                constantRuns.addBefore(insn, ConstantEventRuns.Event.branch(branch));
            }
            boolean values = recordValues && i >= firstInitializedIndex;
            // An event with a value lies between what came before and any constant event after.
            if (values && instrumentValueAccess(insn, i)) constantRuns.close();
            constantRuns.pass(insn);
            if (isReturn(insn.getOpcode())) instrumentReturn(insn);
            if (isInvoke(insn) && needsLineAfterCall(i)) {
                constantRuns.addAfter(insn, ConstantEventRuns.Event.lineAfterCall());
            }
        }
        constantRuns.close();
    }

    /** Handler entry: CAUGHT, then the branch that controls the catch block's steps. */
    private void recordCaught(AbstractInsnNode firstInHandler, Integer handlerBranch) {
        constantRuns.close();
        method.instructions.insertBefore(firstInHandler, caughtEvent());
        if (handlerBranch != null) {
            constantRuns.addBefore(firstInHandler, ConstantEventRuns.Event.branch(handlerBranch));
        }
    }

    /**
     * Records a local, field or array access of {@code insn}. Returns whether it recorded an
     * event with a value (anything but a read the consumer fills in).
     */
    private boolean instrumentValueAccess(AbstractInsnNode insn, int position) {
        int op = insn.getOpcode();
        if (insn instanceof VarInsnNode && op >= Opcodes.ILOAD && op <= Opcodes.ALOAD) {
            if (readVariableAt[position] < 0) return false; // `this`
            char kind = kindOfLoadStore(op - Opcodes.ILOAD);
            return recordRead(insn, kind, position, ((VarInsnNode) insn).var);
        } else if (insn instanceof VarInsnNode && op >= Opcodes.ISTORE && op <= Opcodes.ASTORE) {
            VarInsnNode store = (VarInsnNode) insn;
            char kind = kindOfLoadStore(op - Opcodes.ISTORE);
            int variable = writeVariableAt[position];
            method.instructions.insert(insn, localEvent("writeLocal", kind, variable, store.var));
        } else if (insn instanceof IincInsnNode) {
            int slot = ((IincInsnNode) insn).var;
            recordRead(insn, 'I', position, slot);
            method.instructions.insert(
                    insn, localEvent("writeLocal", 'I', writeVariableAt[position], slot));
        } else if (insn instanceof FieldInsnNode) {
            instrumentField((FieldInsnNode) insn);
        } else if (libraryArguments.containsKey(position)) {
            instrumentLibraryArguments((MethodInsnNode) insn, libraryArguments.get(position));
        } else if (op >= Opcodes.IALOAD && op <= Opcodes.SALOAD) {
            instrumentArrayLoad(insn, arrayElementKind(op - Opcodes.IALOAD));
        } else if (op >= Opcodes.IASTORE && op <= Opcodes.SASTORE) {
            instrumentArrayStore(insn, arrayElementKind(op - Opcodes.IASTORE));
        } else {
            return false;
        }
        return true;
    }

    private boolean isThisLoad(VarInsnNode load) {
        return load.getOpcode() == Opcodes.ALOAD
                && load.var == 0
                && (method.access & Opcodes.ACC_STATIC) == 0;
    }

    /**
     * Records a local read before {@code insn}: without its value where the consumer holds it
     * (the frame's last write), as a constant event. Returns whether the event carries a value.
     */
    private boolean recordRead(AbstractInsnNode insn, char kind, int position, int slot) {
        int variable = readVariableAt[position];
        if (readsAsWritten.get(position)) {
            constantRuns.addBefore(insn, ConstantEventRuns.Event.readLocalAsWritten(variable));
            return false;
        }
        method.instructions.insertBefore(insn, localEvent("readLocal", kind, variable, slot));
        return true;
    }

    private InsnList localEvent(String event, char kind, int variable, int slot) {
        InsnList list = new InsnList();
        list.add(new VarInsnNode(Opcodes.ALOAD, recorderSlot));
        list.add(pushInt(variable));
        list.add(new VarInsnNode(loadOpcode(kind), slot));
        list.add(recorderCall(event + suffix(kind), "(I" + descriptor(kind) + ")V"));
        return list;
    }

    private void instrumentField(FieldInsnNode field) {
        char kind = LocalVariables.kindOf(field.desc);
        int op = field.getOpcode();
        boolean isStatic = op == Opcodes.GETSTATIC || op == Opcodes.PUTSTATIC;
        int fieldId = declarations.fieldId(field.owner, field.name, field.desc, isStatic);
        int value = valueTemp(kind);
        InsnList before = new InsnList();
        InsnList after = new InsnList();
        switch (op) {
            case Opcodes.GETSTATIC:
                after.add(new VarInsnNode(storeOpcode(kind), value));
                addRecorderCall(after, "readStatic", kind, fieldId, -1, -1, value);
                after.add(new VarInsnNode(loadOpcode(kind), value));
                break;
            case Opcodes.PUTSTATIC:
                before.add(new InsnNode(kind == 'J' || kind == 'D' ? Opcodes.DUP2 : Opcodes.DUP));
                before.add(new VarInsnNode(storeOpcode(kind), value));
                addRecorderCall(after, "writeStatic", kind, fieldId, -1, -1, value);
                break;
            case Opcodes.GETFIELD:
                int owner = ownerTemp();
                before.add(new InsnNode(Opcodes.DUP));
                before.add(new VarInsnNode(Opcodes.ASTORE, owner));
                after.add(new VarInsnNode(storeOpcode(kind), value));
                addRecorderCall(after, "readField", kind, fieldId, owner, -1, value);
                after.add(new VarInsnNode(loadOpcode(kind), value));
                break;
            default: // PUTFIELD: [owner value]
                int target = ownerTemp();
                before.add(new VarInsnNode(storeOpcode(kind), value));
                before.add(new InsnNode(Opcodes.DUP));
                before.add(new VarInsnNode(Opcodes.ASTORE, target));
                before.add(new VarInsnNode(loadOpcode(kind), value));
                addRecorderCall(after, "writeField", kind, fieldId, target, -1, value);
                break;
        }
        method.instructions.insertBefore(field, before);
        method.instructions.insert(field, after);
    }

    /**
     * [args] -> [args], recording some of them first: the arguments from the first recorded one
     * on are stored into temps, recorded, and pushed back.
     */
    private void instrumentLibraryArguments(
            MethodInsnNode call, List<LibraryArguments.Argument> recorded) {
        Type[] types = Type.getArgumentTypes(call.desc);
        int from = recorded.get(0).index;
        int[] temps = new int[types.length];
        InsnList before = new InsnList();
        for (int a = types.length - 1; a >= from; a--) {
            char kind = LocalVariables.kindOf(types[a].getDescriptor());
            temps[a] = argumentTemp(kind, a - from);
            before.add(new VarInsnNode(storeOpcode(kind), temps[a]));
        }
        for (LibraryArguments.Argument argument : recorded) {
            before.add(localEvent("writeLocal", argument.kind, argument.variable, temps[argument.index]));
        }
        for (int a = from; a < types.length; a++) {
            before.add(new VarInsnNode(loadOpcode(LocalVariables.kindOf(types[a].getDescriptor())), temps[a]));
        }
        method.instructions.insertBefore(call, before);
    }

    /** [array index] -> [value]; records after the load succeeded. */
    private void instrumentArrayLoad(AbstractInsnNode load, char kind) {
        int array = ownerTemp();
        int index = indexTemp();
        int value = valueTemp(kind);
        InsnList before = new InsnList();
        before.add(new InsnNode(Opcodes.DUP2));
        before.add(new VarInsnNode(Opcodes.ISTORE, index));
        before.add(new VarInsnNode(Opcodes.ASTORE, array));
        InsnList after = new InsnList();
        after.add(new VarInsnNode(storeOpcode(kind), value));
        addRecorderCall(after, "readArray", kind, -1, array, index, value);
        after.add(new VarInsnNode(loadOpcode(kind), value));
        method.instructions.insertBefore(load, before);
        method.instructions.insert(load, after);
    }

    /** [array index value] -> []; records after the store succeeded. */
    private void instrumentArrayStore(AbstractInsnNode store, char kind) {
        int array = ownerTemp();
        int index = indexTemp();
        int value = valueTemp(kind);
        InsnList before = new InsnList();
        before.add(new VarInsnNode(storeOpcode(kind), value));
        before.add(new VarInsnNode(Opcodes.ISTORE, index));
        before.add(new VarInsnNode(Opcodes.ASTORE, array));
        before.add(new VarInsnNode(Opcodes.ALOAD, array));
        before.add(new VarInsnNode(Opcodes.ILOAD, index));
        before.add(new VarInsnNode(loadOpcode(kind), value));
        InsnList after = new InsnList();
        addRecorderCall(after, "writeArray", kind, -1, array, index, value);
        method.instructions.insertBefore(store, before);
        method.instructions.insert(store, after);
    }

    /** Emits recorder.&lt;event&gt;&lt;Kind&gt;(...) with the operands held in temps. */
    private void addRecorderCall(
            InsnList into, String event, char kind, int id, int objectSlot, int indexSlot, int valueSlot) {
        into.add(new VarInsnNode(Opcodes.ALOAD, recorderSlot));
        StringBuilder desc = new StringBuilder("(");
        if (id >= 0) {
            into.add(pushInt(id));
            desc.append('I');
        }
        if (objectSlot >= 0) {
            into.add(new VarInsnNode(Opcodes.ALOAD, objectSlot));
            desc.append(OBJECT);
        }
        if (indexSlot >= 0) {
            into.add(new VarInsnNode(Opcodes.ILOAD, indexSlot));
            desc.append('I');
        }
        into.add(new VarInsnNode(loadOpcode(kind), valueSlot));
        desc.append(descriptor(kind)).append(")V");
        into.add(recorderCall(event + suffix(kind), desc.toString()));
    }

    private void instrumentReturn(AbstractInsnNode ret) {
        InsnList event = new InsnList();
        if (ret.getOpcode() == Opcodes.RETURN || !recordValues) {
            event.add(new VarInsnNode(Opcodes.ALOAD, recorderSlot));
            event.add(recorderCall("returnVoid", "()V"));
        } else {
            char kind = kindOfLoadStore(ret.getOpcode() - Opcodes.IRETURN);
            int value = valueTemp(kind);
            event.add(new VarInsnNode(storeOpcode(kind), value));
            event.add(new VarInsnNode(Opcodes.ALOAD, recorderSlot));
            event.add(new VarInsnNode(loadOpcode(kind), value));
            event.add(recorderCall("return" + suffix(kind), "(" + descriptor(kind) + ")V"));
            event.add(new VarInsnNode(loadOpcode(kind), value));
        }
        method.instructions.insertBefore(ret, event);
    }

    /** The handler is entered with [exception]; record it and leave the stack unchanged. */
    private InsnList caughtEvent() {
        InsnList list = new InsnList();
        list.add(new InsnNode(Opcodes.DUP));
        list.add(new VarInsnNode(Opcodes.ALOAD, recorderSlot));
        list.add(new InsnNode(Opcodes.SWAP));
        list.add(recorderCall("caught", "(Ljava/lang/Throwable;)V"));
        return list;
    }

    /** A catch-all around the body reports the frame's exceptional exit and rethrows. */
    private void appendExceptionalExitWrapper(LabelNode start) {
        LabelNode end = new LabelNode();
        LabelNode handler = new LabelNode();
        method.instructions.add(end);
        method.instructions.add(handler);
        method.instructions.add(new InsnNode(Opcodes.DUP));
        method.instructions.add(new VarInsnNode(Opcodes.ALOAD, recorderSlot));
        method.instructions.add(new InsnNode(Opcodes.SWAP));
        method.instructions.add(recorderCall("throwExit", "(Ljava/lang/Throwable;)V"));
        method.instructions.add(new InsnNode(Opcodes.ATHROW));
        method.tryCatchBlocks.add(new TryCatchBlockNode(start, end, handler, null));
    }

    /**
     * JDI stops again on the caller's line when a stepped-into callee returns. The consumer sees
     * that from the next event this frame records; when the rest of the line records nothing,
     * this marker stands in (it costs nothing to the consumer when the callee was not traced).
     */
    private boolean needsLineAfterCall(int callIndex) {
        for (int j = callIndex + 1; j < original.length; j++) {
            AbstractInsnNode next = original[j];
            if (next instanceof LineNumberNode) return false;
            if (next instanceof LabelNode || next instanceof FrameNode || next.getOpcode() < 0) {
                continue;
            }
            return !recordsAnEvent(next, j);
        }
        return false;
    }

    private boolean recordsAnEvent(AbstractInsnNode insn, int position) {
        int op = insn.getOpcode();
        if (ControlDependence.isConditionalBranch(insn) || isReturn(op)) return true;
        if (!recordValues || position < firstInitializedIndex) return false;
        if (insn instanceof VarInsnNode) return !isThisLoad((VarInsnNode) insn);
        if (libraryArguments.containsKey(position)) return true;
        return insn instanceof IincInsnNode
                || insn instanceof FieldInsnNode
                || (op >= Opcodes.IALOAD && op <= Opcodes.SALOAD)
                || (op >= Opcodes.IASTORE && op <= Opcodes.SASTORE);
    }

    // ---- tables ------------------------------------------------------------------------------

    private Declarations.MethodTable table(int methodId, List<ControlDependence.Branch> branches) {
        Declarations.MethodTable table = new Declarations.MethodTable();
        table.methodId = methodId;
        table.classId = classId;
        table.name = method.name;
        table.descriptor = method.desc;
        table.flags =
                ((method.access & Opcodes.ACC_STATIC) != 0 ? Declarations.METHOD_STATIC : 0)
                        | (recordValues ? 0 : Declarations.METHOD_LINES_ONLY);
        table.lines = lineIndexByNumber.keySet().stream().mapToInt(Integer::intValue).toArray();
        table.variables = variables.declared();
        table.branchLines = new int[branches.size()];
        table.controlledLines = new int[branches.size()][];
        for (int b = 0; b < branches.size(); b++) {
            table.branchLines[b] = branches.get(b).lineIndex;
            table.controlledLines[b] = branches.get(b).controlledLineIndices;
        }
        return table;
    }

    // ---- small helpers -------------------------------------------------------------------------

    private static MethodInsnNode recorderCall(String name, String desc) {
        return new MethodInsnNode(Opcodes.INVOKEVIRTUAL, RECORDER, name, desc, false);
    }

    private int valueTemp(char kind) {
        int k = kindIndex(kind);
        if (valueTemps[k] < 0) {
            valueTemps[k] = method.maxLocals;
            method.maxLocals += kind == 'J' || kind == 'D' ? 2 : 1;
        }
        return valueTemps[k];
    }

    /** The temp for a call's argument at this offset from the first one stored, of this kind. */
    private int argumentTemp(char kind, int offset) {
        String key = kind + " " + offset;
        Integer slot = argumentTemps.get(key);
        if (slot == null) {
            slot = method.maxLocals;
            method.maxLocals += kind == 'J' || kind == 'D' ? 2 : 1;
            argumentTemps.put(key, slot);
        }
        return slot;
    }

    private int ownerTemp() {
        if (ownerTemp < 0) ownerTemp = method.maxLocals++;
        return ownerTemp;
    }

    private int indexTemp() {
        if (indexTemp < 0) indexTemp = method.maxLocals++;
        return indexTemp;
    }

    static AbstractInsnNode pushInt(int value) {
        if (value >= -1 && value <= 5) return new InsnNode(Opcodes.ICONST_0 + value);
        if (value >= Byte.MIN_VALUE && value <= Byte.MAX_VALUE) {
            return new IntInsnNode(Opcodes.BIPUSH, value);
        }
        if (value >= Short.MIN_VALUE && value <= Short.MAX_VALUE) {
            return new IntInsnNode(Opcodes.SIPUSH, value);
        }
        return new LdcInsnNode(value);
    }

    private static boolean isReturn(int op) {
        return op >= Opcodes.IRETURN && op <= Opcodes.RETURN;
    }

    private static boolean isInvoke(AbstractInsnNode insn) {
        int op = insn.getOpcode();
        return op >= Opcodes.INVOKEVIRTUAL && op <= Opcodes.INVOKEDYNAMIC;
    }

    /** ILOAD/ISTORE/IRETURN-relative offset (0..4) to value kind I J F D A. */
    private static char kindOfLoadStore(int offset) {
        return "IJFDA".charAt(offset);
    }

    /** IALOAD-relative offset (I L F D A B C S) to value kind. */
    private static char arrayElementKind(int offset) {
        return "IJFDAIII".charAt(offset);
    }

    private static int kindIndex(char kind) {
        return "IJFDA".indexOf(kind);
    }

    private static String suffix(char kind) {
        switch (kind) {
            case 'I': return "Int";
            case 'J': return "Long";
            case 'F': return "Float";
            case 'D': return "Double";
            default: return "Ref";
        }
    }

    private static String descriptor(char kind) {
        return kind == 'A' ? OBJECT : String.valueOf(kind);
    }

    private static int loadOpcode(char kind) {
        return Opcodes.ILOAD + kindIndex(kind);
    }

    private static int storeOpcode(char kind) {
        return Opcodes.ISTORE + kindIndex(kind);
    }
}
