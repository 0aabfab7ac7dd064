package dev.forkd.server.limits;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The cgroups of forkd's processes, by process id: made before a run's child runs its program,
 * removed once the agent reports its exit, and whether the kernel's OOM killer acted in it,
 * remembered for the run's exit cause. A restart makes the cgroup again for its new run.
 */
public final class ProcessCgroups implements CgroupSupport {

    private static final Logger LOG = Logger.getLogger(ProcessCgroups.class.getName());

    /** Live cgroups whose starting OOM count is kept (the most recent ones); a bound, as every map here has. */
    static final int MAX_OOM_RUNS = 4096;

    private final Cgroups cgroups;
    /** The oom_kill count each live cgroup started its run with (a reused cgroup may not start at 0). */
    private final Map<String, Long> oomBefore = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > MAX_OOM_RUNS;
        }
    };

    public ProcessCgroups(Cgroups cgroups) {
        this.cgroups = cgroups;
    }

    /** No cgroups: every cgroup limit is refused saying {@code missing}. */
    public static ProcessCgroups none(String missing) {
        return new ProcessCgroups(Cgroups.none(missing));
    }

    /**
     * This host's cgroups, under a parent named for this server (for one with a state directory,
     * from its path, so a restarted server finds its children's cgroups; else from its pid), readied
     * for a starting server ({@link Cgroups#settle()}: for cgroup v2 this server moves into the leaf
     * of its delegated cgroup). Call before any agent starts, so the agents are born in that leaf.
     *
     * @param cgroup the cgroup v2 delegated to this server ({@code forkd serve --cgroup}); empty: its
     *     own, if delegated, else cgroup v1. An own cgroup that cannot be readied leaves cgroup
     *     limits refused, saying why; a named one that cannot be fails the start.
     * @throws IOException when the named {@code cgroup} cannot be used
     */
    public static ProcessCgroups host(Optional<Path> stateDir, Optional<Path> cgroup) throws IOException {
        String name = stateDir.map(d -> "s" + digest(d.toAbsolutePath().normalize().toString()))
                .orElse("pid" + ProcessHandle.current().pid());
        Cgroups settled;
        if (cgroup.isPresent()) {
            try {
                settled = Cgroups.delegated(cgroup.get(), name).settle();
            } catch (IOException e) {
                throw new IOException("--cgroup " + cgroup.get() + ": " + e.getMessage(), e);
            }
        } else {
            try {
                settled = Cgroups.host(name).settle();
            } catch (IOException e) {
                LOG.warning("memory_max_bytes, cpu_max and pids_max will be refused: " + e.getMessage());
                settled = Cgroups.none(e.getMessage());
            }
        }
        if (settled instanceof CgroupV2) {
            LOG.info("cgroup limits: " + settled);
        }
        return new ProcessCgroups(settled);
    }

    @Override
    public Optional<String> missing(ResourceLimits limits) {
        return cgroups.missing(limits);
    }

    /**
     * The cgroup for {@code processId}'s next run, made with {@code limits}, when they need one.
     *
     * @return the {@code cgroup.procs} files the child writes its pid into before it execs; empty
     *     when {@code limits} need no cgroup
     * @throws IOException saying what could not be made
     */
    public List<String> prepare(String processId, ResourceLimits limits) throws IOException {
        if (!limits.needsCgroup()) {
            return List.of();
        }
        List<Path> procs = cgroups.prepare(processId, limits);
        long before = cgroups.oomKills(processId);
        synchronized (this) {
            oomBefore.put(processId, before);
        }
        return procs.stream().map(Path::toString).toList();
    }

    /**
     * {@code processId}'s run {@code run} ended (its agent said so): the cgroup goes, and the answer
     * is whether the OOM killer acted in it during the run (the process record keeps that with the
     * exit). Nothing for a process this server made no cgroup for (one adopted after a restart keeps
     * its cgroup until the server stops): false.
     */
    public boolean ended(String processId, int run) {
        Long before;
        synchronized (this) {
            before = oomBefore.remove(processId);
        }
        if (before == null) {
            return false;
        }
        long kills = cgroups.oomKills(processId);
        cgroups.remove(processId);
        return kills > before;
    }

    /** Removes every cgroup of this server's (at its stop, and at a {@code --fresh} start). */
    public void removeAll() {
        cgroups.removeAll();
        synchronized (this) {
            oomBefore.clear();
        }
    }

    @Override
    public String toString() {
        return cgroups.toString();
    }

    private static String digest(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
