package dev.forkd.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * While {@code run} waits, the signals a terminal or a supervisor sends to the CLI (Ctrl-C's INT,
 * TERM, HUP) go on to the child instead of ending the CLI; the CLI then ends with the child's status,
 * as a shell does. Closing puts the previous handlers back.
 */
final class SignalForwarding implements AutoCloseable {

    private static final List<String> FORWARDED = List.of("INT", "TERM", "HUP");

    private record Installed(Signal signal, SignalHandler previous) {}

    private final List<Installed> installed;

    private SignalForwarding(List<Installed> installed) {
        this.installed = installed;
    }

    /** Installs handlers that call {@code forward} with the signal's name (on the JVM's signal thread). */
    static SignalForwarding install(Consumer<String> forward) {
        List<Installed> installed = new ArrayList<>();
        for (String name : FORWARDED) {
            Signal signal = new Signal(name);
            try {
                installed.add(new Installed(signal, Signal.handle(signal, s -> forward.accept(name))));
            } catch (IllegalArgumentException e) {
                // the JVM keeps this signal (e.g. under -Xrs): leave it to the JVM
            }
        }
        return new SignalForwarding(installed);
    }

    /** Nothing installed: for a CLI running inside another program's JVM. */
    static SignalForwarding none() {
        return new SignalForwarding(List.of());
    }

    @Override
    public void close() {
        for (Installed i : installed) {
            Signal.handle(i.signal(), i.previous());
        }
    }
}
