package dev.forkd.server.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What /proc says about processes: alive, zombie, parent. */
final class Procs {

    private Procs() {}

    record Stat(int pid, char state, int ppid, int pgrp, String comm) {}

    static Optional<Stat> stat(int pid) {
        try {
            String s = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            int close = s.lastIndexOf(')');
            String comm = s.substring(s.indexOf('(') + 1, close);
            String[] f = s.substring(close + 2).split(" ");
            return Optional.of(new Stat(pid, f[0].charAt(0), Integer.parseInt(f[1]), Integer.parseInt(f[2]), comm));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Gone entirely: neither running nor a zombie. */
    static boolean gone(int pid) {
        return stat(pid).isEmpty();
    }

    static List<Stat> all() {
        List<Stat> out = new ArrayList<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            dirs.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .forEach(n -> stat(Integer.parseInt(n)).ifPresent(out::add));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** Processes in process group {@code pgrp}. */
    static List<Stat> inGroup(int pgrp) {
        return all().stream().filter(s -> s.pgrp() == pgrp).toList();
    }

    /** Children of {@code ppid}, zombies included. */
    static List<Stat> childrenOf(int ppid) {
        return all().stream().filter(s -> s.ppid() == ppid).toList();
    }
}
