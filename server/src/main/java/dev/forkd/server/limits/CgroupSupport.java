package dev.forkd.server.limits;

import java.util.Optional;

/**
 * Whether cgroup limits can be honoured here. A limit that cannot be is refused, never ignored:
 * {@link #missing(ResourceLimits)} names what is missing, for the FAILED_PRECONDITION a request gets.
 */
@FunctionalInterface
public interface CgroupSupport {

    /**
     * Empty when every cgroup limit in {@code limits} can be applied (or it has none); otherwise
     * what is missing for them, in words (e.g. the cgroup v2 controller a limit needs).
     */
    Optional<String> missing(ResourceLimits limits);
}
