package dev.forkd.server;

import dev.forkd.server.error.ForkdException;
import java.util.function.Consumer;

/**
 * How a client stops the server ({@code ServerService.Shutdown}, {@code forkd shutdown}): the
 * documented ways, as SIGTERM does with or without {@code --restart-keep}. The server attaches
 * what stops it once it serves; the first stop asked is the one that runs.
 */
public final class ServerLife {

    /** What a stop leaves behind. */
    public enum Stop {
        /** Children and agents are stopped, then the server exits (SIGTERM). */
        EVERYTHING,
        /** The server exits; agents and children run on for the next server (--restart-keep). */
        KEEP_CHILDREN
    }

    private final boolean keepsState;
    /** Guarded by this. */
    private Consumer<Stop> stopper;
    /** The stop asked, once one was (guarded by this). */
    private Stop asked;

    /** @param keepsState whether the server has a state directory (children can be adopted) */
    public ServerLife(boolean keepsState) {
        this.keepsState = keepsState;
    }

    /**
     * The server serves: a stop runs {@code stop} (on a thread of its own); one asked while it was
     * still starting runs now.
     */
    synchronized void attach(Consumer<Stop> stop) {
        stopper = stop;
        if (asked != null) {
            run(asked);
        }
    }

    /** Refuses a stop that cannot be done; changes nothing. */
    public void check(Stop how) {
        if (how == Stop.KEEP_CHILDREN && !keepsState) {
            throw new ForkdException.InvalidArgument("keep_children",
                    "needs a state directory: this server was started with --state-dir none, so no next"
                            + " server could adopt the children (stop it without keep_children)");
        }
    }

    /**
     * Stops the server as {@code how} says, on a thread of its own (the caller may be one the stop
     * waits for), or once it serves if it is still starting. Only the first call does anything.
     *
     * @return whether this call was the first
     */
    public synchronized boolean stop(Stop how) {
        if (asked != null) {
            return false;
        }
        asked = how;
        if (stopper != null) {
            run(how);
        }
        return true;
    }

    private void run(Stop how) {
        Consumer<Stop> stop = stopper;
        // Not a daemon: the JVM must not exit half-way through the stop.
        Thread.ofPlatform().name("forkd-shutdown-call").start(() -> stop.accept(how));
    }
}
