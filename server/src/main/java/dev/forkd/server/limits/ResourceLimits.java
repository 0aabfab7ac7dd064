package dev.forkd.server.limits;

import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * What one process group may use; an empty field is no limit of forkd's (the child inherits its
 * agent's). rlimits are applied by the agent in the child before the program runs; the cgroup ones
 * ({@code memoryMaxBytes}, {@code cpuMax}, {@code pidsMax}) need cgroup v2 delegated to forkd.
 */
public record ResourceLimits(
        OptionalLong openFiles,
        OptionalLong addressSpaceBytes,
        OptionalLong cpuSeconds,
        OptionalLong coreBytes,
        OptionalLong processes,
        OptionalLong memoryMaxBytes,
        OptionalDouble cpuMax,
        OptionalLong pidsMax) {

    public static final ResourceLimits NONE = new ResourceLimits(OptionalLong.empty(), OptionalLong.empty(),
            OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(),
            OptionalDouble.empty(), OptionalLong.empty());

    /** Whether any limit needs a cgroup. */
    public boolean needsCgroup() {
        return memoryMaxBytes.isPresent() || cpuMax.isPresent() || pidsMax.isPresent();
    }

    public boolean isNone() {
        return equals(NONE);
    }
}
