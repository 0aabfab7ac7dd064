package dev.forkd.server.session;

import dev.forkd.server.store.StoreException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Optional;

/**
 * How a session is kept in the store (kind {@code "session"}, key its public id): a version byte,
 * its name, its TTL (zero: unleased, a child's run), the SHA-256 of its credential (never the
 * credential) and the process it is bound to. What it owns is kept by the cores that own it.
 */
final class SessionRecords {

    static final String KIND = "session";
    /** The number of the last session id given, so that an ended session's id is not given again. */
    static final String LAST_ID_KIND = "session-last-id";
    static final String LAST_ID_KEY = "last";
    private static final int VERSION = 1;

    record Kept(String id, String name, Duration ttl, String credentialHash, Optional<String> boundProcess) {}

    private SessionRecords() {}


    static byte[] encode(Kept s) {
        var bytes = new ByteArrayOutputStream(128);
        try (var out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeUTF(s.name());
            out.writeLong(s.ttl().toMillis());
            out.writeUTF(s.credentialHash());
            out.writeBoolean(s.boundProcess().isPresent());
            if (s.boundProcess().isPresent()) {
                out.writeUTF(s.boundProcess().get());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    static Kept decode(String id, byte[] value) {
        try (var in = new DataInputStream(new ByteArrayInputStream(value))) {
            int version = in.readUnsignedByte();
            if (version != VERSION) {
                throw new StoreException("session record " + id + " has version " + version + "; this forkd reads "
                        + VERSION);
            }
            String name = in.readUTF();
            Duration ttl = Duration.ofMillis(in.readLong());
            String hash = in.readUTF();
            Optional<String> bound = in.readBoolean() ? Optional.of(in.readUTF()) : Optional.empty();
            return new Kept(id, name, ttl, hash, bound);
        } catch (IOException e) {
            throw new StoreException("session record " + id + " is cut short: " + e.getMessage(), e);
        }
    }
}
