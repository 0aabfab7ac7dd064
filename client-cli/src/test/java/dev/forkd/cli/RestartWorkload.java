package dev.forkd.cli;

import java.util.List;

/**
 * One kind of traffic in {@link RestartChaosTest}: it runs step after step while supervisors are
 * killed under it, remembers only what the server acknowledged, and after each restart (with every
 * workload paused) says what the restarted server got wrong.
 */
interface RestartWorkload extends AutoCloseable {

    /** A short name for figures and problems. */
    String name();

    /** A step: one call or a few. A StatusRuntimeException means the call was not acknowledged. */
    void step() throws Exception;

    /**
     * Checks the restarted server against what was acknowledged so far; called with no step running.
     *
     * @param checked whether this workload's feature is on main, so that its findings count; when
     *     not, it still runs its calls (and cleans what it remembers) but reports nothing
     */
    List<String> verify(int restart, boolean checked) throws Exception;

    /** What it did, for the log. */
    String figures();

    @Override
    default void close() {
    }
}
