package dev.forkd.cli;

import dev.forkd.v1.ProcessState;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;

/** {@code running}, {@code exited}, {@code signaled} (or {@code signalled}), {@code failed-to-start}, ... */
final class StateConverter implements CommandLine.ITypeConverter<ProcessState>, Iterable<String> {

    @Override
    public ProcessState convert(String value) {
        String s = value.strip().toUpperCase(Locale.ROOT).replace('-', '_');
        if (s.startsWith("PROCESS_STATE_")) {
            s = s.substring("PROCESS_STATE_".length());
        }
        if (s.equals("SIGNALLED")) {
            s = "SIGNALED";
        }
        try {
            ProcessState state = ProcessState.valueOf("PROCESS_STATE_" + s);
            if (state != ProcessState.PROCESS_STATE_UNSPECIFIED) {
                return state;
            }
        } catch (IllegalArgumentException e) {
            // falls through to the message below
        }
        throw new CommandLine.TypeConversionException(
                "'" + value + "' is not a state (one of " + String.join(", ", this) + ")");
    }

    /**
     * The names, for help and for the error message. Spelled out rather than read from the enum, so
     * that building the command line (on every run) does not load the generated protobuf classes.
     */
    @Override
    public Iterator<String> iterator() {
        return List.of("starting", "running", "exited", "signaled", "failed-to-start", "lost", "backoff", "fatal")
                .iterator();
    }
}
