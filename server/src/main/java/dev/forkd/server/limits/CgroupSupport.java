package dev.forkd.server.limits;

import java.util.Optional;

/**
 * Whether cgroup limits can be honoured here. A limit that cannot be is refused, never ignored:
 * {@link #missing()} names what is missing, for the FAILED_PRECONDITION a request gets.
 */
@FunctionalInterface
public interface CgroupSupport {

    /** Empty when cgroup limits can be applied; otherwise what is missing, in words. */
    Optional<String> missing();
}
