package dev.forkd.posix;

import java.util.Map;

/** Names for the errno values we report, so messages say "ENOENT" rather than "2". */
final class Errno {
    static final int ENOENT = 2;
    static final int ESRCH = 3;
    static final int E2BIG = 7;
    static final int ENOEXEC = 8;
    static final int ENOMEM = 12;
    static final int EACCES = 13;
    static final int ENOTDIR = 20;
    static final int EISDIR = 21;
    static final int EMFILE = 24;
    static final int ENFILE = 23;
    static final int ETXTBSY = 26;
    static final int ELOOP = 40;
    static final int ENAMETOOLONG = 36;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(1, "EPERM"), Map.entry(ENOENT, "ENOENT"), Map.entry(ESRCH, "ESRCH"),
            Map.entry(Libc.EINTR, "EINTR"), Map.entry(5, "EIO"), Map.entry(E2BIG, "E2BIG"),
            Map.entry(ENOEXEC, "ENOEXEC"), Map.entry(9, "EBADF"), Map.entry(Libc.ECHILD, "ECHILD"),
            Map.entry(Libc.EAGAIN, "EAGAIN"), Map.entry(ENOMEM, "ENOMEM"), Map.entry(EACCES, "EACCES"),
            Map.entry(ENOTDIR, "ENOTDIR"), Map.entry(EISDIR, "EISDIR"), Map.entry(22, "EINVAL"),
            Map.entry(ENFILE, "ENFILE"), Map.entry(EMFILE, "EMFILE"), Map.entry(ETXTBSY, "ETXTBSY"),
            Map.entry(Libc.EPIPE, "EPIPE"), Map.entry(ENAMETOOLONG, "ENAMETOOLONG"), Map.entry(ELOOP, "ELOOP"));

    private Errno() {
    }

    static String name(int errno) {
        return NAMES.getOrDefault(errno, "errno " + errno);
    }
}
