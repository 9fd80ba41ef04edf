package bathysphere.agent;

import java.util.ArrayList;
import java.util.List;

/**
 * Agent options: {@code key=value} pairs separated by commas, e.g.
 * {@code file=/tmp/run.bstr,mode=full,include=com.acme.**;org.demo.*}. Glob lists use ';'.
 */
final class AgentOptions {
    enum Mode {
        /** Lines, calls, returns, exceptions and branches. */
        LINES,
        /** Everything in LINES plus reads and writes of locals, fields, statics, array elements. */
        FULL
    }

    String file;
    String webSocketUrl;
    String token = "";
    Mode mode = Mode.FULL;
    final List<String> includes = new ArrayList<>();
    final List<String> excludes = new ArrayList<>();
    long maxSteps = Long.MAX_VALUE;
    long windowStartMillis = 0;
    long windowEndMillis = Long.MAX_VALUE;
    int bufferSize = 64 * 1024;
    int queuedBuffers = 64;
    boolean dropWhenFull = false;
    int stringCap = 64;
    /**
     * Every local read carries its value, also those the consumer fills in from the frame's last
     * write (a check of that filling-in; costs speed and bytes).
     */
    boolean allLocalReadValues = false;
    boolean verbose = false;

    static AgentOptions parse(String text) {
        AgentOptions options = new AgentOptions();
        if (text == null || text.isBlank()) return options;
        for (String pair : text.split(",")) {
            if (pair.isBlank()) continue;
            int eq = pair.indexOf('=');
            String key = (eq < 0 ? pair : pair.substring(0, eq)).trim();
            String value = eq < 0 ? "true" : pair.substring(eq + 1).trim();
            options.apply(key, value);
        }
        return options;
    }

    private void apply(String key, String value) {
        switch (key) {
            case "file": file = value; break;
            case "ws": webSocketUrl = value; break;
            case "token": token = value; break;
            case "mode": mode = "lines".equalsIgnoreCase(value) ? Mode.LINES : Mode.FULL; break;
            case "include": addGlobs(includes, value); break;
            case "exclude": addGlobs(excludes, value); break;
            case "maxSteps": maxSteps = Long.parseLong(value); break;
            case "window": parseWindow(value); break;
            case "buffer": bufferSize = Math.max(4096, Integer.parseInt(value)); break;
            case "queue": queuedBuffers = Math.max(2, Integer.parseInt(value)); break;
            case "onFull": dropWhenFull = "drop".equalsIgnoreCase(value); break;
            case "stringCap": stringCap = Math.max(0, Math.min(200, Integer.parseInt(value))); break;
            case "localReadValues": allLocalReadValues = "all".equalsIgnoreCase(value); break;
            case "verbose": verbose = Boolean.parseBoolean(value); break;
            default: throw new IllegalArgumentException("unknown agent option '" + key + "'");
        }
    }

    /** {@code window=START-END} in milliseconds since agent start; END may be empty. */
    private void parseWindow(String value) {
        int dash = value.indexOf('-');
        String start = dash < 0 ? value : value.substring(0, dash);
        String end = dash < 0 ? "" : value.substring(dash + 1);
        if (!start.isBlank()) windowStartMillis = Long.parseLong(start.trim());
        if (!end.isBlank()) windowEndMillis = Long.parseLong(end.trim());
    }

    private static void addGlobs(List<String> target, String value) {
        for (String glob : value.split(";")) if (!glob.isBlank()) target.add(glob.trim());
    }
}
