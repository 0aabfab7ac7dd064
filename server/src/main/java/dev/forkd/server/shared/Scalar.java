package dev.forkd.server.shared;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/** One typed value held by the shared store: what a ctypes Value or a dict/list item holds. */
public sealed interface Scalar {

    /** The type's name in error messages ("int64", "string"). */
    String typeName();

    /** Bytes this value counts against the store's limits. */
    long size();

    record Int64(long value) implements Scalar {
        public String typeName() {
            return "int64";
        }

        public long size() {
            return 8;
        }
    }

    record Float64(double value) implements Scalar {
        public String typeName() {
            return "double";
        }

        public long size() {
            return 8;
        }
    }

    record Bool(boolean value) implements Scalar {
        public String typeName() {
            return "bool";
        }

        public long size() {
            return 8;
        }
    }

    record Text(String value) implements Scalar {
        public String typeName() {
            return "string";
        }

        public long size() {
            return value.getBytes(StandardCharsets.UTF_8).length;
        }
    }

    /** Raw bytes; compared by content. */
    record Bytes(byte[] value) implements Scalar {
        public Bytes {
            value = value.clone();
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        public String typeName() {
            return "bytes";
        }

        public long size() {
            return value.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Bytes b && Arrays.equals(value, b.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "Bytes[" + HexFormat.of().formatHex(value, 0, Math.min(value.length, 32)) + "]";
        }
    }

    default boolean sameType(Scalar other) {
        return getClass() == other.getClass();
    }
}
