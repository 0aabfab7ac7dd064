package dev.forkd.server.sync;

import dev.forkd.server.store.StoreException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * How a primitive is kept in the store (kind {@code "sync"}, key its name): a version byte, a kind
 * byte, then the fields of its kind. Waiters are not kept; a barrier comes back empty.
 */
final class SyncRecords {

    static final String KIND = "sync";
    private static final int VERSION = 1;

    private SyncRecords() {}

    static byte[] encode(Primitive p) {
        var bytes = new ByteArrayOutputStream(64);
        try (var out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeByte(code(p.kind()));
            switch (p) {
                case Primitive.Mutex m -> {
                    if (m.state instanceof Primitive.LockState.Held h) {
                        out.writeBoolean(true);
                        out.writeUTF(h.owner());
                        out.writeInt(h.depth());
                        out.writeLong(h.token());
                    } else {
                        out.writeBoolean(false);
                    }
                    out.writeBoolean(m.abandoned);
                    out.writeLong(m.lastToken);
                }
                case Primitive.Semaphore s -> {
                    out.writeInt(s.initial);
                    out.writeInt(s.value);
                    out.writeInt(s.held.size());
                    for (var e : s.held.entrySet()) {
                        out.writeUTF(e.getKey());
                        out.writeInt(e.getValue());
                    }
                    out.writeBoolean(s.abandoned);
                    out.writeLong(s.lastToken);
                }
                case Primitive.Event e -> out.writeBoolean(e.set);
                case Primitive.Condition c -> out.writeUTF(c.lock);
                case Primitive.Barrier b -> {
                    out.writeInt(b.parties);
                    out.writeBoolean(b.state instanceof Primitive.BarrierState.Broken);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    static Primitive decode(String name, byte[] value) {
        try (var in = new DataInputStream(new ByteArrayInputStream(value))) {
            int version = in.readUnsignedByte();
            if (version != VERSION) {
                throw new StoreException("sync record \"" + name + "\" has version " + version + "; this forkd reads "
                        + VERSION);
            }
            return switch (kind(name, in.readUnsignedByte())) {
                case LOCK, RLOCK -> {
                    var m = new Primitive.Mutex(name, value[1] == code(SyncKind.RLOCK));
                    if (in.readBoolean()) {
                        m.state = new Primitive.LockState.Held(in.readUTF(), in.readInt(), in.readLong());
                    }
                    m.abandoned = in.readBoolean();
                    m.lastToken = in.readLong();
                    yield m;
                }
                case SEMAPHORE, BOUNDED_SEMAPHORE -> {
                    var s = new Primitive.Semaphore(name, value[1] == code(SyncKind.BOUNDED_SEMAPHORE), in.readInt());
                    s.value = in.readInt();
                    for (int i = in.readInt(); i > 0; i--) {
                        s.held.put(in.readUTF(), in.readInt());
                    }
                    s.abandoned = in.readBoolean();
                    s.lastToken = in.readLong();
                    yield s;
                }
                case EVENT -> {
                    var e = new Primitive.Event(name);
                    e.set = in.readBoolean();
                    yield e;
                }
                case CONDITION -> new Primitive.Condition(name, in.readUTF());
                case BARRIER -> {
                    var b = new Primitive.Barrier(name, in.readInt());
                    b.state = in.readBoolean() ? Primitive.BROKEN : Primitive.FILLING;
                    yield b;
                }
            };
        } catch (IOException e) {
            throw new StoreException("sync record \"" + name + "\" is cut short: " + e.getMessage(), e);
        }
    }

    /** Fixed codes, not ordinals: the enum may be reordered, the records stay readable. */
    private static int code(SyncKind k) {
        return switch (k) {
            case LOCK -> 1;
            case RLOCK -> 2;
            case SEMAPHORE -> 3;
            case BOUNDED_SEMAPHORE -> 4;
            case EVENT -> 5;
            case CONDITION -> 6;
            case BARRIER -> 7;
        };
    }

    private static SyncKind kind(String name, int code) {
        for (SyncKind k : SyncKind.values()) {
            if (code(k) == code) {
                return k;
            }
        }
        throw new StoreException("sync record \"" + name + "\" has an unknown kind " + code);
    }
}
