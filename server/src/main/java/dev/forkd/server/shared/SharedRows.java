package dev.forkd.server.shared;

import dev.forkd.server.store.StoreException;
import dev.forkd.server.store.StoreWrite;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * How shared objects are laid out in the state store, and their encoding. Every object has a header
 * row in kind {@value #NAMES} under its name (its kind, revision, and a value's value or an array's
 * type and length). A dict's entries, a list's items and an array's chunks each have a row of their
 * own in a kind named after the object, so a change to a 10,000-key dict rewrites two small rows.
 *
 * <p>Each encoding starts with a format byte, so a later forkd can read what this one wrote.
 */
final class SharedRows {

    static final String NAMES = "shared";
    private static final byte FORMAT = 1;

    private SharedRows() {}

    static String dictKind(String name) {
        return "shared-dict/" + name;
    }

    static String listKind(String name) {
        return "shared-list/" + name;
    }

    static String arrayKind(String name) {
        return "shared-array/" + name;
    }

    /** Zero-padded, so that rows load in numeric order. */
    static String listKey(long row) {
        return String.format("%016x", row);
    }

    static String chunkKey(int chunk) {
        return String.format("%08x", chunk);
    }

    // ---- writes ------------------------------------------------------------------------------

    static StoreWrite header(Cell c) {
        return new StoreWrite.Put(NAMES, c.name, encode(out -> {
            out.writeByte(FORMAT);
            out.writeByte(c.kind().ordinal()); // Kind's order is part of the format
            out.writeLong(c.version);
            switch (c) {
                case ValueCell v -> writeScalar(out, v.value);
                case ArrayCell a -> {
                    writeScalar(out, a.zero);
                    out.writeInt(a.items.length);
                }
                case DictCell d -> {
                }
                case ListCell l -> {
                }
            }
        }));
    }

    static StoreWrite dictEntry(DictCell d, String key, Scalar value) {
        return new StoreWrite.Put(dictKind(d.name), key, scalar(value));
    }

    static StoreWrite listItem(ListCell l, long row, Scalar item) {
        return new StoreWrite.Put(listKind(l.name), listKey(row), scalar(item));
    }

    /** The rows of {@code a}'s chunks that hold slots {@code from} (inclusive) to {@code to}. */
    static List<StoreWrite> chunks(ArrayCell a, int from, int to) {
        List<StoreWrite> rows = new ArrayList<>();
        int size = a.chunk();
        for (int chunk = from / size; chunk * size < to; chunk++) {
            int start = chunk * size;
            int end = Math.min(a.items.length, start + size);
            rows.add(new StoreWrite.Put(arrayKind(a.name), chunkKey(chunk), encode(out -> {
                out.writeByte(FORMAT);
                out.writeInt(end - start);
                for (int i = start; i < end; i++) {
                    writeScalar(out, a.items[i]);
                }
            })));
        }
        return rows;
    }

    /** What removes {@code c} and everything it holds. */
    static List<StoreWrite> removal(Cell c) {
        List<StoreWrite> rows = new ArrayList<>(2);
        rows.add(new StoreWrite.Delete(NAMES, c.name));
        switch (c) {
            case DictCell d -> rows.add(new StoreWrite.DeleteKind(dictKind(d.name)));
            case ListCell l -> rows.add(new StoreWrite.DeleteKind(listKind(l.name)));
            case ArrayCell a -> rows.add(new StoreWrite.DeleteKind(arrayKind(a.name)));
            case ValueCell v -> {
            }
        }
        return rows;
    }

    static byte[] scalar(Scalar s) {
        return encode(out -> {
            out.writeByte(FORMAT);
            writeScalar(out, s);
        });
    }

    // ---- reads -------------------------------------------------------------------------------

    /** An object as its header row describes it, still without its entries, items or elements. */
    static Cell readHeader(String name, byte[] row) {
        return decode(name, row, in -> {
            SharedStore.Kind kind = SharedStore.Kind.values()[in.readByte()];
            long version = in.readLong();
            Cell c = switch (kind) {
                case VALUE -> new ValueCell(name, readScalar(in));
                case DICT -> new DictCell(name);
                case LIST -> new ListCell(name);
                case ARRAY -> {
                    Scalar zero = readScalar(in);
                    Scalar[] slots = new Scalar[in.readInt()];
                    java.util.Arrays.fill(slots, zero);
                    yield new ArrayCell(name, zero, slots);
                }
            };
            c.version = version;
            return c;
        });
    }

    static Scalar readScalar(String what, byte[] row) {
        return decode(what, row, SharedRows::readScalar);
    }

    /** Fills {@code a}'s slots from the chunk row {@code key}. */
    static void readChunk(ArrayCell a, String key, byte[] row) {
        int start = Integer.parseInt(key, 16) * a.chunk();
        decode(a.name, row, in -> {
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                a.items[start + i] = readScalar(in);
            }
            return a;
        });
    }

    // ---- scalars -----------------------------------------------------------------------------

    private static void writeScalar(DataOutputStream out, Scalar s) throws IOException {
        switch (s) {
            case Scalar.Int64 i -> {
                out.writeByte(1);
                out.writeLong(i.value());
            }
            case Scalar.Float64 d -> {
                out.writeByte(2);
                out.writeDouble(d.value());
            }
            case Scalar.Bool b -> {
                out.writeByte(3);
                out.writeBoolean(b.value());
            }
            case Scalar.Text t -> {
                byte[] utf8 = t.value().getBytes(StandardCharsets.UTF_8);
                out.writeByte(4);
                out.writeInt(utf8.length);
                out.write(utf8);
            }
            case Scalar.Bytes y -> {
                byte[] bytes = y.value();
                out.writeByte(5);
                out.writeInt(bytes.length);
                out.write(bytes);
            }
        }
    }

    private static Scalar readScalar(DataInputStream in) throws IOException {
        byte tag = in.readByte();
        return switch (tag) {
            case 1 -> new Scalar.Int64(in.readLong());
            case 2 -> new Scalar.Float64(in.readDouble());
            case 3 -> new Scalar.Bool(in.readBoolean());
            case 4 -> new Scalar.Text(new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8));
            case 5 -> new Scalar.Bytes(in.readNBytes(in.readInt()));
            default -> throw new IOException("unknown scalar type " + tag);
        };
    }

    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    private static byte[] encode(Writer w) {
        var bytes = new ByteArrayOutputStream(32);
        try (var out = new DataOutputStream(bytes)) {
            w.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    private static <T> T decode(String what, byte[] row, Reader<T> r) {
        try (var in = new DataInputStream(new ByteArrayInputStream(row))) {
            byte format = in.readByte();
            if (format != FORMAT) {
                throw new IOException("format " + format + ", this forkd reads format " + FORMAT);
            }
            return r.read(in);
        } catch (IOException | RuntimeException e) {
            throw new StoreException("the state store's record of shared object \"" + what + "\" cannot be read: "
                    + e.getMessage(), e);
        }
    }
}
