package bathysphere.boot;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.jar.JarFile;

/**
 * The only class of the agent on the application's class path. It puts the tiny hook API on the
 * bootstrap class path (instrumented code in any loader must see it) and starts the runtime,
 * with its own copy of ASM, in a separate class loader whose parent is the platform loader, so
 * an application bundling another ASM is unaffected and cannot affect the agent.
 */
public final class AgentBoot {
    private static boolean started;

    private AgentBoot() {}

    public static void premain(String options, Instrumentation instrumentation) {
        boot(options, instrumentation, false);
    }

    public static void agentmain(String options, Instrumentation instrumentation) {
        boot(options, instrumentation, true);
    }

    private static synchronized void boot(
            String options, Instrumentation instrumentation, boolean attached) {
        if (started) {
            System.err.println("[bathysphere] agent already running in this JVM; ignored");
            return;
        }
        try {
            Path directory = Files.createTempDirectory("bathysphere-agent");
            directory.toFile().deleteOnExit();
            Path hook = extract("hook.jar", directory);
            Path runtime = extract("runtime.jar", directory);
            instrumentation.appendToBootstrapClassLoaderSearch(new JarFile(hook.toFile()));
            ClassLoader runtimeLoader =
                    new URLClassLoader(
                            "bathysphere-agent",
                            new URL[] {runtime.toUri().toURL()},
                            ClassLoader.getPlatformClassLoader());
            Class<?> main = Class.forName("bathysphere.agent.AgentMain", true, runtimeLoader);
            main.getMethod(
                            "start",
                            String.class,
                            Instrumentation.class,
                            boolean.class,
                            Thread.class)
                    .invoke(null, options, instrumentation, attached, Thread.currentThread());
            started = true;
        } catch (Throwable failure) {
            Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
            System.err.println("[bathysphere] agent not started, program runs untraced: " + cause);
        }
    }

    private static Path extract(String name, Path directory) throws IOException {
        Path target = directory.resolve(name);
        try (InputStream in = AgentBoot.class.getResourceAsStream("/META-INF/bathysphere/" + name)) {
            if (in == null) throw new IOException("agent jar lacks " + name);
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        target.toFile().deleteOnExit();
        return target;
    }
}
