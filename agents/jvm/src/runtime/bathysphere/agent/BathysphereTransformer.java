package bathysphere.agent;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;

/**
 * Instruments classes in scope as they are loaded (or retransformed after attach). Any failure
 * leaves the class as it was, with a warning in the trace: the target must never break.
 */
final class BathysphereTransformer implements ClassFileTransformer {
    private final ExecutionTracer tracer;
    private final Scope scope;
    /** Guards against re-entry when instrumenting itself triggers class loading. */
    private final ThreadLocal<Boolean> busy = ThreadLocal.withInitial(() -> Boolean.FALSE);

    BathysphereTransformer(ExecutionTracer tracer, Scope scope) {
        this.tracer = tracer;
        this.scope = scope;
    }

    boolean inScope(Class<?> type) {
        return scope.shouldInstrument(
                type.getName().replace('.', '/'), type.getClassLoader(), type.getProtectionDomain());
    }

    @Override
    public byte[] transform(
            ClassLoader loader,
            String className,
            Class<?> classBeingRedefined,
            ProtectionDomain protectionDomain,
            byte[] classFile) {
        if (!scope.shouldInstrument(className, loader, protectionDomain)) return null;
        if (busy.get()) return null;
        busy.set(Boolean.TRUE);
        try {
            AgentOptions options = tracer.options();
            ClassInstrumenter instrumenter =
                    new ClassInstrumenter(
                            tracer.declarations(),
                            options.mode == AgentOptions.Mode.FULL,
                            !options.allLocalReadValues);
            byte[] result = instrumenter.instrument(classFile, loader);
            for (String warning : instrumenter.warnings()) tracer.warn(warning);
            return result;
        } catch (Throwable failure) {
            tracer.warn(
                    "class " + className.replace('/', '.') + " runs uninstrumented: " + failure);
            return null;
        } finally {
            busy.set(Boolean.FALSE);
        }
    }
}
