package dev.forkd.server.sync;

import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreException;
import dev.forkd.server.store.StoreRow;
import dev.forkd.server.store.StoreWrite;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Keeps {@link SyncTable}'s primitives, its fencing counter and its granted wait ids in the store. Called under the
 * table's monitor, so the writes reach the store in the order the changes were made.
 *
 * <p>The fencing counter is kept as a high-water mark ahead of the tokens issued: the mark is
 * written {@link #TOKENS_PER_MARK} ahead, in the same write as the grant that passed the old mark,
 * and no grant is answered before its write commits. A restarted table starts at the stored mark,
 * so a token is never issued twice, even after SIGKILL, at the cost of a gap in the numbers.
 */
final class SyncJournal {

    static final String FENCING_KIND = "fencing";
    /** Granted wait ids (see {@link WaitIds}); key: the wait id, a space, the owner's session. */
    static final String WAITS_KIND = "sync-wait";
    private static final String MARK_KEY = "mark";
    static final long TOKENS_PER_MARK = 1024;
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final StateStore store;
    /** The last token issued, and the highest the store allows to issue. */
    private long tokens;
    private long mark;
    private boolean markRaised;
    /** Orders the kept wait ids: the oldest is forgotten first after a restart, as before it. */
    private long waitSeq;
    /** The last write made: every earlier change is committed once it is. */
    private CompletableFuture<Void> lastWrite = DONE;

    SyncJournal(StateStore store) {
        this.store = store;
    }

    /** The primitives as kept, in name order; and the fencing counter set to the stored mark. */
    List<Primitive> load() {
        List<StoreRow> marks = store.load(FENCING_KIND);
        for (StoreRow r : marks) {
            if (r.key().equals(MARK_KEY)) {
                mark = r.longValue("the fencing mark");
            }
        }
        List<Primitive> loaded = new ArrayList<>();
        for (StoreRow r : store.load(SyncRecords.KIND)) {
            Primitive p = SyncRecords.decode(r.key(), r.value());
            loaded.add(p);
            // A mark is written with its first grant, so this never rises past it; but a record from
            // before the mark existed must not be undercut either.
            long last = switch (p) {
                case Primitive.Mutex m -> m.lastToken;
                case Primitive.Semaphore s -> s.lastToken;
                default -> 0;
            };
            mark = Math.max(mark, last);
        }
        tokens = mark;
        return loaded;
    }

    /** The granted wait ids as kept, oldest first. */
    List<Map.Entry<WaitIds.Key, WaitIds.Mark.Granted>> loadWaits() {
        record Row(long seq, WaitIds.Key key, WaitIds.Mark.Granted grant) {}
        List<Row> rows = new ArrayList<>();
        for (StoreRow r : store.load(WAITS_KIND)) {
            int space = r.key().indexOf(' ');
            if (space < 1) {
                throw new StoreException("wait id record \"" + r.key() + "\" has no owner");
            }
            try (var in = new DataInputStream(new ByteArrayInputStream(r.value()))) {
                long seq = in.readLong();
                long token = in.readLong();
                String name = in.readUTF();
                rows.add(new Row(seq, new WaitIds.Key(r.key().substring(space + 1), r.key().substring(0, space)),
                        new WaitIds.Mark.Granted(name, token)));
            } catch (IOException e) {
                throw new StoreException("wait id record \"" + r.key() + "\" is cut short");
            }
        }
        rows.sort(Comparator.comparingLong(Row::seq));
        waitSeq = rows.isEmpty() ? 0 : rows.get(rows.size() - 1).seq();
        return rows.stream().map(r -> Map.entry(r.key(), r.grant())).toList();
    }

    private StoreWrite waitWrite(WaitIds.Kept k) {
        String key = k.key().waitId() + " " + k.key().owner();
        if (k.grant().isEmpty()) {
            return new StoreWrite.Delete(WAITS_KIND, key);
        }
        var bytes = new ByteArrayOutputStream(48);
        try (var out = new DataOutputStream(bytes)) {
            out.writeLong(++waitSeq);
            out.writeLong(k.grant().get().token());
            out.writeUTF(k.grant().get().name());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return new StoreWrite.Put(WAITS_KIND, key, bytes.toByteArray());
    }

    boolean keeps() {
        return store.keeps();
    }

    /** The next fencing token; raises the kept mark first when this one passes it. */
    long nextToken() {
        long token = ++tokens;
        if (token > mark) {
            mark = token + TOKENS_PER_MARK - 1;
            markRaised = true;
        }
        return token;
    }

    /**
     * Writes what {@code fx} changed, as {@code byName} now has it (a primitive no longer there was
     * deleted), and lets {@code fx} answer once that is committed.
     */
    void flush(Effects fx, Map<String, Primitive> byName, List<WaitIds.Kept> waits) {
        if (!store.keeps()) {
            markRaised = false;
            return;
        }
        if (fx.changed.isEmpty() && !markRaised && waits.isEmpty()) {
            return;
        }
        List<StoreWrite> writes = new ArrayList<>(fx.changed.size() + waits.size() + 1);
        if (markRaised) {
            writes.add(StoreWrite.Put.ofLong(FENCING_KIND, MARK_KEY, mark));
            markRaised = false;
        }
        for (Primitive p : fx.changed) {
            writes.add(byName.get(p.name) == p
                    ? new StoreWrite.Put(SyncRecords.KIND, p.name, SyncRecords.encode(p))
                    : new StoreWrite.Delete(SyncRecords.KIND, p.name));
        }
        waits.forEach(k -> writes.add(waitWrite(k)));
        lastWrite = store.write(writes);
        fx.committedBy(lastWrite);
    }

    /** Completes once every change made so far is committed (at once when nothing is kept). */
    CompletableFuture<Void> committed() {
        return lastWrite;
    }
}
