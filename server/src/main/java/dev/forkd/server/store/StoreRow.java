package dev.forkd.server.store;

import java.nio.ByteBuffer;

/** A row as loaded: its key within its kind, and its bytes. */
public record StoreRow(String key, byte[] value) {

    /**
     * The one {@code long} a row written by {@link StoreWrite.Put#ofLong} holds.
     *
     * @param what the value, for the error ("the fencing mark")
     * @throws StoreException when the row is not 8 bytes
     */
    public long longValue(String what) {
        if (value.length != Long.BYTES) {
            throw new StoreException(what + " is " + value.length + " bytes, not 8");
        }
        return ByteBuffer.wrap(value).getLong();
    }
}
