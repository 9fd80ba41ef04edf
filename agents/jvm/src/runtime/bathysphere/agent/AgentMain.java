package bathysphere.agent;

import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;

/** Entry point called (reflectively, in the agent's own class loader) by the boot class. */
public final class AgentMain {
    private AgentMain() {}

    public static void start(
            String rawOptions, Instrumentation instrumentation, boolean attached, Thread mainThread)
            throws Exception {
        AgentOptions options = AgentOptions.parse(rawOptions);
        TraceSink sink = openSink(options);
        ExecutionTracer tracer =
                new ExecutionTracer(options, sink, attached ? null : mainThread, rawOptions);
        tracer.start();
        BathysphereTransformer transformer =
                new BathysphereTransformer(tracer, new Scope(options.includes, options.excludes));
        instrumentation.addTransformer(transformer, true);
        if (attached) retransformLoadedClasses(instrumentation, transformer, tracer);
        if (options.verbose) System.err.println("[bathysphere] recording (" + options.mode + ")");
    }

    private static TraceSink openSink(AgentOptions options) throws Exception {
        if (options.webSocketUrl != null) return new WebSocketSink(options.webSocketUrl, options.token);
        if (options.file != null) return new FileSink(options.file);
        throw new IllegalArgumentException("no output: give file=PATH or ws=URL,token=TOKEN");
    }

    /** After attach: classes already loaded are instrumented too (running frames stay as-is). */
    private static void retransformLoadedClasses(
            Instrumentation instrumentation, BathysphereTransformer transformer, ExecutionTracer tracer) {
        List<Class<?>> targets = new ArrayList<>();
        for (Class<?> type : instrumentation.getAllLoadedClasses()) {
            if (instrumentation.isModifiableClass(type) && transformer.inScope(type)) targets.add(type);
        }
        for (Class<?> type : targets) {
            try {
                instrumentation.retransformClasses(type);
            } catch (Throwable failure) {
                tracer.warn("cannot retransform " + type.getName() + ": " + failure);
            }
        }
    }
}
