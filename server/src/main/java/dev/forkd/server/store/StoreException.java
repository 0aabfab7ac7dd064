package dev.forkd.server.store;

/** The store could not keep a write (disk full, closed, too far behind); the change was not made durable. */
public final class StoreException extends RuntimeException {

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreException(String message) {
        super(message);
    }
}
