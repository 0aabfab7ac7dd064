package dev.forkd.server.sync;

/** What a named synchronisation primitive is, in the words of Python's multiprocessing. */
public enum SyncKind {
    LOCK("lock"),
    RLOCK("rlock"),
    SEMAPHORE("semaphore"),
    BOUNDED_SEMAPHORE("bounded semaphore"),
    EVENT("event"),
    CONDITION("condition"),
    BARRIER("barrier");

    private final String words;

    SyncKind(String words) {
        this.words = words;
    }

    /** How an error message names it: "a lock", "an event". */
    public String withArticle() {
        return ("aeiou".indexOf(words.charAt(0)) >= 0 ? "an " : "a ") + words;
    }

    public String words() {
        return words;
    }

    public boolean isLock() {
        return this == LOCK || this == RLOCK;
    }

    public boolean isSemaphore() {
        return this == SEMAPHORE || this == BOUNDED_SEMAPHORE;
    }
}
