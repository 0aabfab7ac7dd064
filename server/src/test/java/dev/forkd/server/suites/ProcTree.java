package dev.forkd.server.suites;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What /proc says: process trees, zombies, RSS, threads, fds, and who carries a given environment. */
public final class ProcTree {

    private ProcTree() {}

    public record Stat(int pid, char state, int ppid, String comm) {}

    public static Optional<Stat> stat(int pid) {
        try {
            String s = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            int close = s.lastIndexOf(')');
            String comm = s.substring(s.indexOf('(') + 1, close);
            String[] f = s.substring(close + 2).split(" ");
            return Optional.of(new Stat(pid, f[0].charAt(0), Integer.parseInt(f[1]), comm));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    public static List<Stat> all() {
        List<Stat> out = new ArrayList<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            dirs.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .forEach(n -> stat(Integer.parseInt(n)).ifPresent(out::add));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** Every process below {@code root} (not root itself), zombies included. */
    public static List<Stat> descendants(int root) {
        List<Stat> all = all();
        Map<Integer, List<Stat>> byParent = new HashMap<>();
        for (Stat s : all) {
            byParent.computeIfAbsent(s.ppid(), k -> new ArrayList<>()).add(s);
        }
        List<Stat> out = new ArrayList<>();
        List<Integer> todo = new ArrayList<>(List.of(root));
        while (!todo.isEmpty()) {
            int p = todo.removeLast();
            for (Stat c : byParent.getOrDefault(p, List.of())) {
                out.add(c);
                todo.add(c.pid());
            }
        }
        return out;
    }

    public static List<Stat> zombiesUnder(int root) {
        return descendants(root).stream().filter(s -> s.state() == 'Z').toList();
    }

    /**
     * Live processes anywhere on the machine whose environment holds {@code needle} — a child of
     * our server carries FORKD_ADDRESS with the server's private directory, even after it escaped
     * its agent (setsid, double fork).
     */
    public static List<Stat> carrying(String needle) {
        List<Stat> out = new ArrayList<>();
        int me = (int) ProcessHandle.current().pid();
        for (Stat s : all()) {
            if (s.pid() == me || s.state() == 'Z') {
                continue;
            }
            try {
                byte[] env = Files.readAllBytes(Path.of("/proc", Integer.toString(s.pid()), "environ"));
                if (new String(env, java.nio.charset.StandardCharsets.ISO_8859_1).contains(needle)) {
                    out.add(s);
                }
            } catch (IOException | RuntimeException e) {
                // gone, or not ours to read
            }
        }
        return out;
    }

    /** VmRSS in bytes, 0 if the process is gone. */
    public static long rssBytes(int pid) {
        return statusField(pid, "VmRSS:") * 1024;
    }

    public static long threads(int pid) {
        return statusField(pid, "Threads:");
    }

    public static long fds(int pid) {
        try (var s = Files.list(Path.of("/proc", Integer.toString(pid), "fd"))) {
            return s.count();
        } catch (IOException e) {
            return 0;
        }
    }

    private static long statusField(int pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }
}
