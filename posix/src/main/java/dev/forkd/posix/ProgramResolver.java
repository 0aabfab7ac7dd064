package dev.forkd.posix;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Finds the program for an argv[0] the way execvp does. */
public final class ProgramResolver {

    private ProgramResolver() {
    }

    /**
     * An argv[0] containing '/' is used as is (absolute, or relative to the current directory);
     * otherwise the first executable regular file named argv[0] in the PATH entries. An empty PATH
     * entry means the current directory, as in POSIX.
     */
    public static Optional<String> resolve(String argv0, String pathVariable) {
        if (argv0.isEmpty()) {
            return Optional.empty();
        }
        if (argv0.indexOf('/') >= 0) {
            return Optional.of(Path.of(argv0).toAbsolutePath().toString());
        }
        for (String dir : pathVariable.split(":", -1)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, argv0).toAbsolutePath();
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate.toString());
            }
        }
        return Optional.empty();
    }
}
