package dev.forkd.server.shared;

import java.util.TreeMap;

/** A Manager's dict: entries in key order, each kept in a row of its own (a change rewrites one entry). */
final class DictCell extends Cell {

    final TreeMap<String, Scalar> entries = new TreeMap<>();

    DictCell(String name) {
        super(name);
    }

    @Override
    SharedStore.Kind kind() {
        return SharedStore.Kind.DICT;
    }

    @Override
    long size() {
        return entries.size();
    }

    @Override
    long bytes() {
        return entries.entrySet().stream().mapToLong(e -> entryBytes(e.getKey(), e.getValue())).sum();
    }

    static long entryBytes(String key, Scalar value) {
        return key.length() + value.size();
    }
}
