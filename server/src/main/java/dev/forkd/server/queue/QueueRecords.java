package dev.forkd.server.queue;

import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreException;
import dev.forkd.server.store.StoreRow;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How durable queues are encoded in the store (each record starts with a version byte, so a later
 * forkd can read what this one wrote), and how they are read back at start-up.
 */
final class QueueRecords {

    private static final int VERSION = 1;

    private QueueRecords() {
    }

    /**
     * A durable queue's definition.
     *
     * @param undone tasks taken (or acked without task_done) and not yet marked done: with the items
     *     still held, they are the queue's unfinished tasks (JoinableQueue.join waits for them)
     */
    record Definition(String id, Optional<String> name, long maxsize, boolean closed, long undone) {
    }

    /** A durable queue as it was stored: its registry sequence, definition and items in order. */
    record StoredQueue(long seq, Definition definition, List<QueueEntry> items) {
    }

    static byte[] encode(Definition d) {
        var bytes = new ByteArrayOutputStream(64);
        try (var out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeUTF(d.id());
            out.writeUTF(d.name().orElse(""));
            out.writeLong(d.maxsize());
            out.writeBoolean(d.closed());
            out.writeLong(d.undone());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static byte[] encode(Item item) {
        byte[] type = item.contentType().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        var bytes = new ByteArrayOutputStream(item.data().length + type.length + 8);
        try (var out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeShort(type.length); // at most 256 characters (checked at put)
            out.write(type);
            out.write(item.data());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static Definition definition(byte[] row) throws IOException {
        try (var in = new DataInputStream(new ByteArrayInputStream(row))) {
            version(in.readByte());
            String id = in.readUTF();
            String name = in.readUTF();
            return new Definition(id, name.isEmpty() ? Optional.empty() : Optional.of(name), in.readLong(),
                    in.readBoolean(), in.readLong());
        }
    }

    static Item item(byte[] row) throws IOException {
        try (var in = new DataInputStream(new ByteArrayInputStream(row))) {
            version(in.readByte());
            byte[] type = new byte[in.readUnsignedShort()];
            in.readFully(type);
            byte[] data = in.readAllBytes();
            return new Item(data, new String(type, java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private static void version(byte v) throws IOException {
        if (v != VERSION) {
            throw new IOException("record version " + v + "; this forkd reads version " + VERSION);
        }
    }

    /** Every durable queue in {@code store}, in creation order, with its items in order. */
    static List<StoredQueue> load(StateStore store) {
        List<StoredQueue> queues = new ArrayList<>();
        for (StoreRow row : store.load(QueueJournal.KIND)) {
            try {
                Definition d = definition(row.value());
                List<QueueEntry> items = new ArrayList<>();
                for (StoreRow r : store.load(QueueJournal.itemKind(d.id()))) {
                    items.add(new QueueEntry(item(r.value()), Long.parseLong(r.key()), false));
                }
                queues.add(new StoredQueue(Long.parseLong(row.key()), d, items));
            } catch (IOException | NumberFormatException e) {
                throw new StoreException("cannot read durable queue " + row.key() + " from the state store: "
                        + e.getMessage(), e);
            }
        }
        return queues;
    }
}
