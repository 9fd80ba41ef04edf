package bathysphere.agent;

import java.net.URL;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Decides which classes are instrumented. Default: classes loaded from class-path directories
 * (the application being developed, not its jars). Include globs widen that, exclude globs
 * narrow it; the JDK and the agent itself are never instrumented.
 */
final class Scope {
    private static final String[] JDK = {"java/", "javax/", "jdk/", "sun/", "com/sun/"};
    private static final String[] AGENT = {"bathysphere/", "org/objectweb/asm/"};

    private final List<Pattern> includes = new ArrayList<>();
    private final List<Pattern> excludes = new ArrayList<>();
    private final ClassLoader platformLoader = ClassLoader.getPlatformClassLoader();

    Scope(List<String> includeGlobs, List<String> excludeGlobs) {
        for (String glob : includeGlobs) includes.add(globToRegex(glob));
        for (String glob : excludeGlobs) excludes.add(globToRegex(glob));
    }

    /** @param internalName e.g. {@code com/acme/Foo$Bar} */
    boolean shouldInstrument(String internalName, ClassLoader loader, ProtectionDomain domain) {
        if (internalName == null || loader == null || loader == platformLoader) return false;
        if (isJdkClass(internalName)) return false;
        for (String prefix : AGENT) if (internalName.startsWith(prefix)) return false;
        if (internalName.contains("$$Lambda") || internalName.contains("/0x")) return false;
        if (internalName.equals("module-info") || internalName.endsWith("/package-info")) return false;
        String dotted = internalName.replace('/', '.');
        for (Pattern exclude : excludes) if (exclude.matcher(dotted).matches()) return false;
        for (Pattern include : includes) if (include.matcher(dotted).matches()) return true;
        return includes.isEmpty() && loadedFromDirectory(domain);
    }

    /** A class of the JDK, which is never instrumented: calls into it leave no steps. */
    static boolean isJdkClass(String internalName) {
        for (String prefix : JDK) if (internalName.startsWith(prefix)) return true;
        return false;
    }

    private static boolean loadedFromDirectory(ProtectionDomain domain) {
        if (domain == null) return false;
        CodeSource source = domain.getCodeSource();
        URL location = source == null ? null : source.getLocation();
        return location != null
                && "file".equals(location.getProtocol())
                && location.getPath().endsWith("/");
    }

    /** {@code **} matches across packages, {@code *} within one name segment, {@code ?} one char. */
    static Pattern globToRegex(String glob) {
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                regex.append(".*");
                i++;
            } else if (c == '*') {
                regex.append("[^.]*");
            } else if (c == '?') {
                regex.append("[^.]");
            } else {
                regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(regex.toString());
    }
}
