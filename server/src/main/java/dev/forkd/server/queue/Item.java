package dev.forkd.server.queue;

/**
 * One queue item: bytes and an optional content type. The array is owned by the queue once put:
 * callers hand over a fresh copy and never change it afterwards.
 */
public record Item(byte[] data, String contentType) {

    public Item {
        java.util.Objects.requireNonNull(data, "data");
        java.util.Objects.requireNonNull(contentType, "contentType");
    }

    public static Item of(byte[] data) {
        return new Item(data, "");
    }

    /** What the item costs against a queue's byte bound. */
    long cost() {
        return data.length + contentType.length() + 16L;
    }
}
