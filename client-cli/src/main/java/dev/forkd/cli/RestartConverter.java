package dev.forkd.cli;

import dev.forkd.v1.RestartPolicy;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;

/** {@code never}, {@code on-failure}, {@code always}. */
final class RestartConverter implements CommandLine.ITypeConverter<RestartPolicy>, Iterable<String> {

    @Override
    public RestartPolicy convert(String value) {
        return switch (value.strip().toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "never", "no" -> RestartPolicy.RESTART_POLICY_NEVER;
            case "on-failure" -> RestartPolicy.RESTART_POLICY_ON_FAILURE;
            case "always" -> RestartPolicy.RESTART_POLICY_ALWAYS;
            default -> throw new CommandLine.TypeConversionException(
                    "'" + value + "' is not a restart policy (never, on-failure or always)");
        };
    }

    @Override
    public Iterator<String> iterator() {
        return List.of("never", "on-failure", "always").iterator();
    }
}
