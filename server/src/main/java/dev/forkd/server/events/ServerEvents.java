package dev.forkd.server.events;

/**
 * The one listener the cores are given: they say what happened, and know nothing of who listens
 * (the event stream, the metrics). Implementations must be quick and must not block or throw: they
 * are called on the cores' own threads, sometimes with a core's monitor held.
 */
public interface ServerEvents {

    /** A lifecycle event (process, agent, lock, barrier, queue, pool). */
    void happened(Event event);

    /** A child wrote {@code bytes} of output, and {@code dropped} older bytes left its log to make room. */
    default void outputCaptured(long bytes, long dropped) {}

    /** A pool task ended: {@code outcome} is "succeeded" or a failure kind in lower case ("exit", "timeout"). */
    default void poolTaskEnded(String outcome) {}

    /** Listens to nothing: for cores built without observers (tests, tools). */
    ServerEvents NONE = event -> {};

    /** Tells {@code first}, then {@code second}. */
    static ServerEvents both(ServerEvents first, ServerEvents second) {
        return new ServerEvents() {
            @Override
            public void happened(Event event) {
                first.happened(event);
                second.happened(event);
            }

            @Override
            public void outputCaptured(long bytes, long dropped) {
                first.outputCaptured(bytes, dropped);
                second.outputCaptured(bytes, dropped);
            }

            @Override
            public void poolTaskEnded(String outcome) {
                first.poolTaskEnded(outcome);
                second.poolTaskEnded(outcome);
            }
        };
    }
}
