package dev.forkd.server.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * The rules for what forkd keeps private: the socket's directory, and the files that hold a secret
 * (a token, a TLS private key). Whoever can enter the directory can reach the socket and act as
 * its owner, and whoever can read a secret file can act as its holder; so forkd refuses, naming the
 * path and the problem, rather than serve through either.
 */
public final class PrivateFiles {

    static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private PrivateFiles() {}

    /**
     * Makes sure {@code dir} is a directory only this user can enter: created {@code 0700} when
     * missing; refused when it is a symbolic link, not a directory, owned by another user, or open to
     * group or others in any way.
     *
     * @throws IOException naming the directory and what is wrong with it
     */
    public static void prepareDirectory(Path dir) throws IOException {
        prepareDirectory(dir, "socket directory");
    }

    /** {@link #prepareDirectory(Path)} for a directory the messages call {@code what} ("state directory"). */
    public static void prepareDirectory(Path dir, String what) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
        }
        PosixFileAttributes attrs = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (attrs.isSymbolicLink()) {
            throw new IOException("the " + what + " " + dir + " is a symbolic link; forkd needs a real"
                    + " directory of its own (remove it, or choose another path)");
        }
        if (!attrs.isDirectory()) {
            throw new IOException("the " + what + " " + dir + " is not a directory");
        }
        int owner = ownerUid(dir);
        int me = effectiveUid();
        if (owner != me) {
            throw new IOException("the " + what + " " + dir + " belongs to uid " + owner + ", not to this"
                    + " user (uid " + me + "); another user could replace or reach the socket: remove it or"
                    + " choose another path");
        }
        if (!intersect(attrs.permissions(), GROUP_OR_OTHERS).isEmpty()) {
            throw new IOException("the " + what + " " + dir + " has mode "
                    + mode(attrs.permissions()) + "; group and others must have no access"
                    + " (chmod 700 " + dir + ")");
        }
    }

    /**
     * Refuses a file holding a secret that group or others may access in any way.
     *
     * @param what what the file holds, for the message ("token file", "TLS key file")
     * @throws IOException naming the file and its mode, or why it cannot be read
     */
    public static void requirePrivate(Path file, String what) throws IOException {
        PosixFileAttributes attrs;
        try {
            attrs = Files.readAttributes(file, PosixFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new IOException("the " + what + " " + file + " does not exist");
        }
        if (!intersect(attrs.permissions(), GROUP_OR_OTHERS).isEmpty()) {
            throw new IOException("the " + what + " " + file + " has mode " + mode(attrs.permissions())
                    + ": others than its owner may read it; make it private (chmod 600 " + file + ")");
        }
    }

    /** Reads a secret file after {@link #requirePrivate}, stripped of surrounding white space. */
    public static String readSecret(Path file, String what) throws IOException {
        requirePrivate(file, what);
        return Files.readString(file).strip();
    }

    /** The permission bits as four octal digits, e.g. {@code 0644}. */
    static String mode(Set<PosixFilePermission> perms) {
        int bits = 0;
        for (PosixFilePermission p : perms) {
            bits |= 1 << (8 - p.ordinal());
        }
        return String.format("%04o", bits);
    }

    private static Set<PosixFilePermission> intersect(Set<PosixFilePermission> a, Set<PosixFilePermission> b) {
        Set<PosixFilePermission> both = EnumSet.noneOf(PosixFilePermission.class);
        both.addAll(a);
        both.retainAll(b);
        return both;
    }

    private static int ownerUid(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * This process's effective uid, from {@code /proc/self/status} (Linux, as the rest of forkd):
     * the JDK has no call for it, and a file forkd creates is owned by it.
     */
    static int effectiveUid() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) {
                String[] ids = line.substring(4).strip().split("\\s+");
                return Integer.parseInt(ids[1]);
            }
        }
        throw new IOException("no Uid line in /proc/self/status");
    }
}
