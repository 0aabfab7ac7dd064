package dev.forkd.server.programs;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Restarts an instance of a declared program whose process group's resident memory grew past its
 * {@code max_rss}. One timer task measures every watched group in one pass over /proc, at the
 * config's {@code rss_check_interval}: no thread per process.
 */
public final class RssWatch {

    private static final Logger LOG = Logger.getLogger(RssWatch.class.getName());

    private final DeclaredPrograms programs;
    private final ProgramRunner runner;
    private final GroupMemory memory;
    private final ScheduledExecutorService timers;

    public RssWatch(DeclaredPrograms programs, ProgramRunner runner, GroupMemory memory,
            ScheduledExecutorService timers) {
        this.programs = programs;
        this.runner = runner;
        this.memory = memory;
        this.timers = timers;
    }

    /** Starts measuring; it ends with the timers. */
    public void start() {
        schedule();
    }

    private void schedule() {
        try {
            timers.schedule(this::check, programs.declared().rssCheckInterval().toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the server is stopping: measuring ends with it
        }
    }

    /** One pass: every watched instance measured, those past their limit replaced. */
    void check() {
        try {
            record Watched(Program program, String processId) {}
            Map<Integer, Watched> byGroup = new HashMap<>();
            for (Program p : programs.declared().programs().values()) {
                if (p.maxRss().isEmpty()) {
                    continue;
                }
                for (String id : programs.instancesOf(p.name())) {
                    OptionalInt pid = runner.runningPid(id);
                    // A child leads its own process group: its pid is the group's id.
                    pid.ifPresent(g -> byGroup.put(g, new Watched(p, id)));
                }
            }
            memory.residentBytes(byGroup.keySet()).forEach((group, bytes) -> {
                Watched w = byGroup.get(group);
                long max = w.program().maxRss().getAsLong();
                if (bytes > max) {
                    LOG.warning(() -> "program " + w.program().name() + ": process " + w.processId() + " uses "
                            + bytes + " bytes resident, past max_rss " + max + "; restarting it");
                    programs.replace(w.program().name(), w.processId());
                }
            });
        } catch (RuntimeException e) {
            LOG.warning("max_rss check failed: " + e);
        } finally {
            schedule();
        }
    }
}
