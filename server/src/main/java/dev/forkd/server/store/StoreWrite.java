package dev.forkd.server.store;

import java.util.Objects;

/** One change to the {@link StateStore}. */
public sealed interface StoreWrite {

    String kind();

    /** Sets the row {@code kind}/{@code key} to {@code value}, replacing what was there. */
    record Put(String kind, String key, byte[] value) implements StoreWrite {
        public Put {
            Objects.requireNonNull(kind);
            Objects.requireNonNull(key);
            Objects.requireNonNull(value);
        }

        /** A row holding one {@code long} (read back with {@link StoreRow#longValue}). */
        public static Put ofLong(String kind, String key, long value) {
            return new Put(kind, key, java.nio.ByteBuffer.allocate(Long.BYTES).putLong(value).array());
        }
    }

    /** Removes the row {@code kind}/{@code key}, if there is one. */
    record Delete(String kind, String key) implements StoreWrite {
        public Delete {
            Objects.requireNonNull(kind);
            Objects.requireNonNull(key);
        }
    }

    /** Removes every row of {@code kind}. */
    record DeleteKind(String kind) implements StoreWrite {
        public DeleteKind {
            Objects.requireNonNull(kind);
        }
    }
}
