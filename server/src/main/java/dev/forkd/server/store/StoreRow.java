package dev.forkd.server.store;

/** A row as loaded: its key within its kind, and its bytes. */
public record StoreRow(String key, byte[] value) {
}
