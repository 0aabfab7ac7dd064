package dev.forkd.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.logging.Logger;

/**
 * The Unix socket file this server bound, known by its file key (device and inode) as well as its
 * path: a stopping server removes the file only while it is still its own. Another server may have
 * bound the same path meanwhile (after the file was removed from under this one), and removing that
 * one's socket would leave it running but unreachable.
 */
record OwnSocket(Path path, Object fileKey) {
    private static final Logger LOG = Logger.getLogger(OwnSocket.class.getName());

    /** The socket just bound at {@code path}. */
    static OwnSocket bound(Path path) throws IOException {
        return new OwnSocket(path, key(path));
    }

    /** Removes the file if it is still the one this server bound; says so when it is not. */
    void remove() {
        try {
            if (!Objects.equals(fileKey, key(path))) {
                LOG.warning("not removing " + path + ": another socket was bound there since this server bound it");
                return;
            }
            Files.deleteIfExists(path);
        } catch (NoSuchFileException e) {
            // already gone
        } catch (IOException e) {
            LOG.warning("cannot remove socket " + path + ": " + e.getMessage());
        }
    }

    private static Object key(Path path) throws IOException {
        return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }
}
