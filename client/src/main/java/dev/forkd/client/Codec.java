package dev.forkd.client;

import java.nio.charset.StandardCharsets;

/** How values of one type become queue items and back. */
public interface Codec<T> {

    byte[] encode(T value);

    T decode(byte[] bytes);

    /** UTF-8 text, as the CLI and the Python client put it. */
    Codec<String> UTF8 = new Codec<>() {
        @Override
        public byte[] encode(String value) {
            return value.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String decode(byte[] bytes) {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    };
}
