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
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

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

    /**
     * A durable queue as it was stored: its registry sequence, definition, the items it still held in
     * order, and its stored segments (for {@link QueueJournal#restored}).
     */
    record StoredQueue(long seq, Definition definition, List<QueueEntry> items,
            Map<Long, QueueJournal.Segment> segments) {

        /** The sequence after every stored one, held or gone: where new items continue. */
        long nextSeq() {
            long next = 1;
            for (var s : segments.entrySet()) {
                next = Math.max(next, s.getKey() + s.getValue().count);
            }
            return next;
        }
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

    /** Items that entered together, with consecutive sequences: one row. */
    static byte[] encodeSegment(List<QueueEntry> entries) {
        long size = 8;
        for (QueueEntry e : entries) {
            size += e.item().cost();
        }
        var bytes = new ByteArrayOutputStream((int) Math.min(size, Integer.MAX_VALUE - 8));
        try (var out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeInt(entries.size());
            for (QueueEntry e : entries) {
                byte[] type = e.item().contentType().getBytes(StandardCharsets.UTF_8);
                out.writeShort(type.length); // at most 256 characters (checked at put)
                out.write(type);
                out.writeInt(e.item().data().length);
                out.write(e.item().data());
            }
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

    static List<Item> segment(byte[] row) throws IOException {
        try (var in = new DataInputStream(new ByteArrayInputStream(row))) {
            version(in.readByte());
            int n = in.readInt();
            List<Item> items = new ArrayList<>(Math.min(n, QueueJournal.SEGMENT_ITEMS));
            for (int i = 0; i < n; i++) {
                byte[] type = new byte[in.readUnsignedShort()];
                in.readFully(type);
                byte[] data = new byte[in.readInt()];
                in.readFully(data);
                items.add(new Item(data, new String(type, StandardCharsets.UTF_8)));
            }
            return items;
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
                Map<Long, BitSet> gone = new HashMap<>();
                for (StoreRow r : store.load(QueueJournal.goneKind(d.id()))) {
                    gone.put(Long.parseLong(r.key()), BitSet.valueOf(r.value()));
                }
                List<QueueEntry> items = new ArrayList<>();
                Map<Long, QueueJournal.Segment> segments = new TreeMap<>();
                for (StoreRow r : store.load(QueueJournal.itemKind(d.id()))) {
                    long first = Long.parseLong(r.key());
                    List<Item> stored = segment(r.value());
                    BitSet left = gone.getOrDefault(first, new BitSet());
                    for (int i = 0; i < stored.size(); i++) {
                        if (!left.get(i)) {
                            items.add(new QueueEntry(stored.get(i), first + i, false));
                        }
                    }
                    segments.put(first, new QueueJournal.Segment(stored.size(), left));
                }
                queues.add(new StoredQueue(Long.parseLong(row.key()), d, items, segments));
            } catch (IOException | NumberFormatException e) {
                throw new StoreException("cannot read durable queue " + row.key() + " from the state store: "
                        + e.getMessage(), e);
            }
        }
        return queues;
    }
}
