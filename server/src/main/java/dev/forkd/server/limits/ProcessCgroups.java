package dev.forkd.server.limits;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/**
 * The cgroups of forkd's processes, by process id: made before a run's child runs its program,
 * removed once the agent reports its exit (whether the kernel's OOM killer acted in it is read
 * first, for the run's exit cause). A restart makes the cgroup again for its new run.
 *
 * <p>Removal runs on a thread of its own: it waits for the cgroup to empty (milliseconds after a
 * SIGKILL, unless a process is in uninterruptible sleep), and the thread that reports exits must
 * not wait with it. A cgroup's path is its process's, so the next run's {@link #prepare} waits for
 * the last run's removal first.
 */
public final class ProcessCgroups implements CgroupSupport {

    private static final Logger LOG = Logger.getLogger(ProcessCgroups.class.getName());

    /** Live cgroups whose starting OOM count is kept (the most recent ones); a bound, as every map here has. */
    static final int MAX_LIVE_CGROUPS = 4096;

    /** How long a new run waits for its last run's cgroup to go (and a stop for all of them). */
    static final Duration REMOVAL_WAIT = Duration.ofSeconds(10);

    private final Cgroups cgroups;
    /** The oom_kill count each live cgroup started its run with (a reused cgroup may not start at 0). */
    private final Map<String, Long> oomBefore = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > MAX_LIVE_CGROUPS;
        }
    };

    /** Removals not yet done, by process id; guarded by this, each entry gone once its removal is. */
    private final Map<String, CompletableFuture<Void>> removing = new HashMap<>();
    /** Made at the first removal (most servers make no cgroup at all); guarded by this. */
    private ExecutorService remover;

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
        awaitRemoval(processId);
        List<Path> procs = cgroups.prepare(processId, limits);
        long before = cgroups.oomKills(processId);
        synchronized (this) {
            oomBefore.put(processId, before);
        }
        return procs.stream().map(Path::toString).toList();
    }

    /**
     * {@code processId}'s current run ended (its agent said so): the cgroup goes, and the answer
     * is whether the OOM killer acted in it during the run (the process record keeps that with the
     * exit). Nothing for a process this server made no cgroup for (one adopted after a restart keeps
     * its cgroup until the server stops): false.
     */
    public boolean ended(String processId) {
        Long before;
        synchronized (this) {
            before = oomBefore.remove(processId);
        }
        if (before == null) {
            return false;
        }
        long kills = cgroups.oomKills(processId);
        synchronized (this) {
            if (remover == null) {
                remover = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("forkd-cgroup-remover").factory());
            }
            CompletableFuture<Void> removal = CompletableFuture.runAsync(() -> cgroups.remove(processId), remover);
            removing.put(processId, removal);
            removal.whenComplete((done, failed) -> {
                if (failed != null) {
                    LOG.warning("cannot remove the cgroup of " + processId + ": " + failed.getMessage());
                }
                synchronized (this) {
                    removing.remove(processId, removal);
                }
            });
        }
        return kills > before;
    }

    /** Waits until the removal of {@code processId}'s last cgroup, if one is under way, is done. */
    private void awaitRemoval(String processId) throws IOException {
        CompletableFuture<Void> pending;
        synchronized (this) {
            pending = removing.get(processId);
        }
        if (pending == null) {
            return;
        }
        try {
            pending.get(REMOVAL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the cgroup of " + processId + "'s last run was removed", e);
        } catch (ExecutionException e) {
            // Said when it failed; the prepare reuses what is left, writing every limit again.
        } catch (TimeoutException e) {
            throw new IOException("the cgroup of " + processId + "'s last run is still not removed after "
                    + REMOVAL_WAIT.toSeconds() + " s (a process in it may be in uninterruptible sleep)", e);
        }
    }

    /** Removes every cgroup of this server's (at its stop, and at a {@code --fresh} start). */
    public void removeAll() {
        List<CompletableFuture<Void>> pending;
        synchronized (this) {
            pending = List.copyOf(removing.values());
        }
        try {
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(REMOVAL_WAIT.toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // Each failure was said; removeAll below tries what is left.
        }
        synchronized (this) {
            if (remover != null) {
                remover.shutdown();
                remover = null;
            }
        }
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
