package bathysphere.tools;

import com.sun.jdi.Bootstrap;
import com.sun.jdi.Location;
import com.sun.jdi.ThreadReference;
import com.sun.jdi.VirtualMachine;
import com.sun.jdi.connect.Connector;
import com.sun.jdi.connect.LaunchingConnector;
import com.sun.jdi.event.Event;
import com.sun.jdi.event.EventSet;
import com.sun.jdi.event.MethodEntryEvent;
import com.sun.jdi.event.StepEvent;
import com.sun.jdi.event.ThreadDeathEvent;
import com.sun.jdi.event.ThreadStartEvent;
import com.sun.jdi.event.VMDeathEvent;
import com.sun.jdi.event.VMDisconnectEvent;
import com.sun.jdi.request.EventRequest;
import com.sun.jdi.request.EventRequestManager;
import com.sun.jdi.request.MethodEntryRequest;
import com.sun.jdi.request.StepRequest;
import com.sun.jdi.request.ThreadStartRequest;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;

/**
 * Reference stepper for the tests: launches a program under JDI and line-steps into every method
 * of application classes (JDK classes excluded, as a debugger's step filters do), writing one line
 * per stop: {@code thread<TAB>class<TAB>method<TAB>line}.
 *
 * <p>Usage: {@code java -cp build/tools bathysphere.tools.JdiStepper OUT CLASSPATH MAIN [ARGS...]}
 */
public final class JdiStepper {
    private static final String[] EXCLUDED = {"java.*", "javax.*", "jdk.*", "sun.*", "com.sun.*"};

    public static void main(String[] args) throws Exception {
        String out = args[0];
        String classPath = args[1];
        StringBuilder main = new StringBuilder(args[2]);
        for (int i = 3; i < args.length; i++) main.append(' ').append(args[i]);

        LaunchingConnector launcher = Bootstrap.virtualMachineManager().defaultConnector();
        Map<String, Connector.Argument> launchArgs = launcher.defaultArguments();
        launchArgs.get("main").setValue(main.toString());
        launchArgs.get("options").setValue("-cp " + classPath);
        VirtualMachine vm = launcher.launch(launchArgs);
        pipe(vm.process().getInputStream(), System.out);
        pipe(vm.process().getErrorStream(), System.err);

        try (PrintWriter writer =
                new PrintWriter(Files.newBufferedWriter(Paths.get(out), StandardCharsets.UTF_8))) {
            new JdiStepper(vm, writer).run();
        }
        vm.process().waitFor();
    }

    private final VirtualMachine vm;
    private final PrintWriter writer;
    private final EventRequestManager requests;
    private final Map<ThreadReference, StepRequest> steppers = new HashMap<>();

    private JdiStepper(VirtualMachine vm, PrintWriter writer) {
        this.vm = vm;
        this.writer = writer;
        this.requests = vm.eventRequestManager();
    }

    private void run() throws InterruptedException {
        MethodEntryRequest entries = requests.createMethodEntryRequest();
        for (String pattern : EXCLUDED) entries.addClassExclusionFilter(pattern);
        entries.setSuspendPolicy(EventRequest.SUSPEND_EVENT_THREAD);
        entries.enable();
        requests.createThreadDeathRequest().enable();
        ThreadStartRequest starts = requests.createThreadStartRequest();
        starts.setSuspendPolicy(EventRequest.SUSPEND_EVENT_THREAD);
        starts.enable();
        // Threads are line-stepped from their very start, before any application code runs,
        // so the stepping state never depends on where a method-entry event was taken.
        for (ThreadReference thread : vm.allThreads()) {
            if (thread.name().equals("main")) startStepping(thread);
        }
        vm.resume();
        while (true) {
            EventSet events = vm.eventQueue().remove();
            for (Event event : events) {
                if (event instanceof VMDeathEvent || event instanceof VMDisconnectEvent) return;
                handle(event);
            }
            events.resume();
        }
    }

    private void handle(Event event) {
        if (event instanceof StepEvent) {
            StepEvent step = (StepEvent) event;
            record(step.thread(), step.location());
        } else if (event instanceof ThreadStartEvent) {
            startStepping(((ThreadStartEvent) event).thread());
        } else if (event instanceof MethodEntryEvent) {
            // The first traced frame of a thread: start line-stepping it from here.
            MethodEntryEvent entry = (MethodEntryEvent) event;
            ThreadReference thread = entry.thread();
            if (steppers.containsKey(thread)) return;
            record(thread, entry.location());
            startStepping(thread);
        } else if (event instanceof ThreadDeathEvent) {
            StepRequest step = steppers.remove(((ThreadDeathEvent) event).thread());
            if (step != null) requests.deleteEventRequest(step);
        }
    }

    private void startStepping(ThreadReference thread) {
        if (steppers.containsKey(thread)) return;
        StepRequest step =
                requests.createStepRequest(thread, StepRequest.STEP_LINE, StepRequest.STEP_INTO);
        for (String pattern : EXCLUDED) step.addClassExclusionFilter(pattern);
        step.setSuspendPolicy(EventRequest.SUSPEND_EVENT_THREAD);
        step.enable();
        steppers.put(thread, step);
    }

    private void record(ThreadReference thread, Location location) {
        if (location.lineNumber() < 0) return;
        writer.println(
                thread.name() + '\t' + location.declaringType().name() + '\t'
                        + location.method().name() + '\t' + location.lineNumber());
    }

    private static void pipe(InputStream from, java.io.PrintStream to) {
        Thread copier =
                new Thread(
                        () -> {
                            try {
                                from.transferTo(to);
                            } catch (java.io.IOException ignored) {
                                // target ended
                            }
                        },
                        "jdi-stepper-pipe");
        copier.setDaemon(true);
        copier.start();
    }
}
