package dev.forkd.cli;

import dev.forkd.v1.ProcessState;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.stream.Collectors;
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

    /** The names, for help and for the error message. */
    @Override
    public Iterator<String> iterator() {
        return Arrays.stream(ProcessState.values())
                .filter(s -> s != ProcessState.PROCESS_STATE_UNSPECIFIED && s != ProcessState.UNRECOGNIZED)
                .map(ProcessText::state)
                .collect(Collectors.toList())
                .iterator();
    }
}
