package dev.forkd.server.limits;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Readies a cgroup v2 delegated to forkd for its processes' cgroups. v2's "no internal processes"
 * rule lets a cgroup enable controllers for its children ({@code cgroup.subtree_control}) only while
 * no process is in it, and a server systemd starts with {@code Delegate=yes} is in the very cgroup
 * delegated to it. So forkd first moves itself (and its own descendants there, its agents) into a
 * leaf, {@code <own>/supervisor}, where the agents it starts later are born too; then enables the
 * controllers in {@code <own>}; the processes' cgroups are made beside the leaf. Processes in
 * {@code <own>} that are not forkd's are never moved: their presence is refused, naming them.
 */
final class CgroupDelegation {

    /** The leaf forkd and its agents live in. */
    static final String LEAF = "supervisor";
    /** How many strangers a refusal names. */
    private static final int NAMED = 5;

    private CgroupDelegation() {}

    /**
     * Moves {@code self} and its descendants in {@code own} into {@code <own>/supervisor}, then
     * enables in {@code <own>/cgroup.subtree_control} each of {@code wanted} that
     * {@code <own>/cgroup.controllers} offers.
     *
     * @return those of {@code wanted} enabled in {@code <own>} now, in {@code wanted}'s order
     * @throws IOException when processes other than {@code self}'s are in {@code own}, or a move or
     *     the enabling failed (saying which)
     */
    static List<String> settle(Path own, List<String> wanted, ProcessHandle self) throws IOException {
        List<String> strangers = strangers(own, self);
        if (!strangers.isEmpty()) {
            throw new IOException(notAlone(own, strangers));
        }
        Path leaf = own.resolve(LEAF);
        CgroupFiles.makeDir(leaf);
        CgroupFiles.write(leaf.resolve("cgroup.procs"), Long.toString(self.pid()));
        for (long pid : members(own)) { // self's descendants (strangers were refused above)
            try {
                CgroupFiles.write(leaf.resolve("cgroup.procs"), Long.toString(pid));
            } catch (IOException e) {
                // It exited since: nothing to move.
            }
        }
        List<String> offered = words(own.resolve("cgroup.controllers"));
        List<String> on = words(own.resolve("cgroup.subtree_control"));
        List<String> enable = wanted.stream().filter(offered::contains).filter(c -> !on.contains(c)).toList();
        if (!enable.isEmpty()) {
            try {
                CgroupFiles.write(own.resolve("cgroup.subtree_control"), plus(enable));
            } catch (IOException e) {
                List<Long> left = members(own);
                throw new IOException(e.getMessage() + (left.isEmpty() ? "" : " (processes still in " + own + ": "
                        + left + ")"), e);
            }
        }
        List<String> enabled = words(own.resolve("cgroup.subtree_control"));
        return wanted.stream().filter(enabled::contains).toList();
    }

    /** The processes in {@code own} itself that are neither {@code self} nor its descendants, as "pid (name)". */
    static List<String> strangers(Path own, ProcessHandle self) throws IOException {
        Set<Long> ours = new HashSet<>();
        ours.add(self.pid());
        self.descendants().forEach(p -> ours.add(p.pid()));
        List<String> strangers = new ArrayList<>();
        for (long pid : members(own)) {
            if (!ours.contains(pid)) {
                strangers.add(pid + " (" + command(pid) + ")");
            }
        }
        return strangers;
    }

    /** Why a cgroup holding {@code strangers} cannot be forkd's. */
    static String notAlone(Path own, List<String> strangers) {
        return "cgroup " + own + " holds processes other than forkd's ("
                + String.join(", ", strangers.subList(0, Math.min(NAMED, strangers.size())))
                + (strangers.size() > NAMED ? " and " + (strangers.size() - NAMED) + " more" : "")
                + "): cgroup v2 enables controllers for a cgroup's children only while no process is in it,"
                + " so forkd needs a cgroup of its own (systemd: Delegate=yes)";
    }

    /**
     * The root of the cgroup2 filesystem mounted at {@code mountPoint}, as {@code mountinfo} shows it
     * (the last such mount, which hides the earlier ones); empty if there is none.
     */
    static Optional<String> mountRoot(Path mountinfo, Path mountPoint) throws IOException {
        if (!Files.exists(mountinfo)) {
            return Optional.empty();
        }
        Optional<String> root = Optional.empty();
        for (String line : Files.readAllLines(mountinfo)) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (f.length > 4 && dash > 4 && dash + 1 < f.length && f[dash + 1].equals("cgroup2")
                    && unescape(f[4]).equals(mountPoint.toString())) {
                root = Optional.of(unescape(f[3]));
            }
        }
        return root;
    }

    /** mountinfo's octal escapes ({@code \040} for a space) undone. */
    private static String unescape(String field) {
        Matcher m = Pattern.compile("\\\\([0-7]{3})").matcher(field);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(b, Matcher.quoteReplacement(Character.toString((char) Integer.parseInt(m.group(1), 8))));
        }
        return m.appendTail(b).toString();
    }

    /** The pids in {@code cgroup}'s {@code cgroup.procs}. */
    static List<Long> members(Path cgroup) throws IOException {
        List<Long> pids = new ArrayList<>();
        for (String line : Files.readAllLines(cgroup.resolve("cgroup.procs"))) {
            if (line.strip().matches("[0-9]+")) {
                pids.add(Long.parseLong(line.strip()));
            }
        }
        return pids;
    }

    /** The words of a space-separated control file (cgroup.controllers, cgroup.subtree_control). */
    static List<String> words(Path file) throws IOException {
        String text = Files.readString(file).strip();
        return text.isEmpty() ? List.of() : List.of(text.split("\\s+"));
    }

    /** What enables {@code controllers} in a cgroup.subtree_control: "+memory +cpu". */
    static String plus(List<String> controllers) {
        return "+" + String.join(" +", controllers);
    }

    private static String command(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "comm")).strip();
        } catch (IOException e) {
            return "gone";
        }
    }
}
