package dev.forkd.server.grpc;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.limits.CgroupSupport;
import dev.forkd.server.limits.ResourceLimits;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/** ResourceLimits in a request, checked field by field, to the core's value and back. */
final class LimitRequests {

    private LimitRequests() {}

    /**
     * The limits asked for under {@code field}; INVALID_ARGUMENT for a value out of range,
     * FAILED_PRECONDITION (CGROUPS_UNAVAILABLE) for a cgroup limit this host cannot honour.
     */
    static ResourceLimits from(String field, dev.forkd.v1.ResourceLimits p, CgroupSupport cgroups) {
        ResourceLimits limits = new ResourceLimits(
                atLeast(field + ".open_files", p.hasOpenFiles(), p.getOpenFiles(), 1),
                atLeast(field + ".address_space_bytes", p.hasAddressSpaceBytes(), p.getAddressSpaceBytes(), 1 << 20),
                atLeast(field + ".cpu_seconds", p.hasCpuSeconds(), p.getCpuSeconds(), 1),
                atLeast(field + ".core_bytes", p.hasCoreBytes(), p.getCoreBytes(), 0),
                atLeast(field + ".processes", p.hasProcesses(), p.getProcesses(), 1),
                atLeast(field + ".memory_max_bytes", p.hasMemoryMaxBytes(), p.getMemoryMaxBytes(), 1 << 20),
                cpuMax(field + ".cpu_max", p),
                atLeast(field + ".pids_max", p.hasPidsMax(), p.getPidsMax(), 1));
        checkCgroups(limits, cgroups);
        return limits;
    }

    /**
     * FAILED_PRECONDITION if {@code limits} needs a cgroup this host cannot give forkd, or one
     * without a controller a limit needs (the message names it).
     */
    static void checkCgroups(ResourceLimits limits, CgroupSupport cgroups) {
        if (limits.needsCgroup()) {
            cgroups.missing(limits).ifPresent(why -> {
                throw new ForkdException.FailedPrecondition("CGROUPS_UNAVAILABLE",
                        "memory_max_bytes, cpu_max and pids_max need cgroups forkd can use (v2 delegated to it, or"
                                + " writable v1 memory, cpu and pids hierarchies): " + why,
                        Map.of("missing", why));
            });
        }
    }

    private static OptionalLong atLeast(String field, boolean present, long value, long min) {
        if (!present) {
            return OptionalLong.empty();
        }
        if (value < min) {
            throw new InvalidArgument(field, "must be at least " + min + ", got " + value);
        }
        return OptionalLong.of(value);
    }

    private static OptionalDouble cpuMax(String field, dev.forkd.v1.ResourceLimits p) {
        if (!p.hasCpuMax()) {
            return OptionalDouble.empty();
        }
        double v = p.getCpuMax();
        if (!(v >= 0.01 && v <= 1024)) {
            throw new InvalidArgument(field, "must be between 0.01 and 1024 CPUs, got " + v);
        }
        return OptionalDouble.of(v);
    }
}
