package dev.forkd.server.programs;

import dev.forkd.server.limits.ResourceLimits;
import dev.forkd.server.process.RestartSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One program as declared in the config file. Two declarations are the same program, to be left
 * alone on reload, exactly when they are equal.
 *
 * @param maxRss restart an instance when its process group's resident memory grows past this many bytes
 */
public record Program(
        String name,
        List<String> argv,
        Map<String, String> env,
        Optional<String> cwd,
        Map<String, String> labels,
        RestartSpec restart,
        int numprocs,
        boolean autostart,
        List<String> dependsOn,
        int stopSignal,
        Duration stopGrace,
        OptionalLong maxRss,
        ResourceLimits limits) {

    /** The label every process of a declared program carries, with the program's name. */
    public static final String LABEL = "forkd.program";

    public Program {
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
        labels = Map.copyOf(labels);
        dependsOn = List.copyOf(dependsOn);
    }

    /** The process name of instance {@code i}: the program's own name when it has one process. */
    public String instanceName(int i) {
        return numprocs == 1 ? name : name + "." + i;
    }
}
