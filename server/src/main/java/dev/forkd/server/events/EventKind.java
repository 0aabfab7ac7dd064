package dev.forkd.server.events;

/** What happened, in the words `forkd events --filter kind=...` takes. */
public enum EventKind {
    /** A process run really started (a restart is a new run). */
    PROCESS_STARTED("process-started", "process"),
    /** A run ended and nothing follows: exited, signaled, failed to start or lost with its agent. */
    PROCESS_EXITED("process-exited", "process"),
    /** A run ended and the restart policy starts it again after a back-off. */
    PROCESS_RESTARTING("process-restarting", "process"),
    /** Restarted too often: given up. */
    PROCESS_FATAL("process-fatal", "process"),
    /** A worker-agent registered (at start-up, or replacing a lost one). */
    AGENT_REGISTERED("agent-registered", "agent"),
    /** A worker-agent died or fell silent; its processes are lost. */
    AGENT_LOST("agent-lost", "agent"),
    /** A lock or semaphore permit was granted; {@code abandoned} says the last holder died holding it. */
    LOCK_GRANTED("lock-granted", "lock"),
    /** A barrier broke (timeout, abort, or a party that died). */
    BARRIER_BROKEN("barrier-broken", "barrier"),
    /** A queue was closed. */
    QUEUE_CLOSED("queue-closed", "queue"),
    /** A pool task failed for good (after its retries). */
    POOL_TASK_FAILED("pool-task-failed", "pool");

    private final String word;
    private final String resourceType;

    EventKind(String word, String resourceType) {
        this.word = word;
        this.resourceType = resourceType;
    }

    /** The lower-case name users type and read ("process-exited"). */
    public String word() {
        return word;
    }

    /** The kind of resource the event is about ("process", "agent", "lock", ...). */
    public String resourceType() {
        return resourceType;
    }

    /** The kind named {@code word} ("process-exited", or the enum name). */
    public static java.util.Optional<EventKind> parse(String word) {
        for (EventKind k : values()) {
            if (k.word.equals(word) || k.name().equalsIgnoreCase(word)) {
                return java.util.Optional.of(k);
            }
        }
        return java.util.Optional.empty();
    }
}
