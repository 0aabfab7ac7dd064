package dev.forkd.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * A client's files that hold a secret (a token, a TLS private key): whoever can read one acts as
 * its holder, so a file that group or others may access is refused, naming the file and its mode.
 */
public final class SecretFiles {

    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private SecretFiles() {}

    /**
     * Refuses a secret file that group or others may access in any way.
     *
     * @param what what the file holds, for the message ("token file", "TLS key file")
     * @throws IOException naming the file and its mode, or why it cannot be read
     */
    public static void requirePrivate(Path file, String what) throws IOException {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file);
        } catch (NoSuchFileException e) {
            throw new IOException("the " + what + " " + file + " does not exist");
        }
        Set<PosixFilePermission> open = EnumSet.noneOf(PosixFilePermission.class);
        open.addAll(perms);
        open.retainAll(GROUP_OR_OTHERS);
        if (!open.isEmpty()) {
            throw new IOException("the " + what + " " + file + " has mode " + mode(perms)
                    + ": others than its owner may read it; make it private (chmod 600 " + file + ")");
        }
    }

    /** Reads a secret file after {@link #requirePrivate}, stripped of surrounding white space. */
    public static String readSecret(Path file, String what) throws IOException {
        requirePrivate(file, what);
        return Files.readString(file).strip();
    }

    private static String mode(Set<PosixFilePermission> perms) {
        int bits = 0;
        for (PosixFilePermission p : perms) {
            bits |= 1 << (8 - p.ordinal());
        }
        return String.format("%04o", bits);
    }
}
