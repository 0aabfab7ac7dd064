package dev.forkd.server.process;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.forkd.agent.v1.StoredProcess;
import dev.forkd.agent.v1.StoredRestart;
import dev.forkd.agent.v1.StoredSpec;
import dev.forkd.agent.v1.StoredState;
import dev.forkd.agent.v1.StoredStateKind;
import dev.forkd.server.auth.Lineage;
import dev.forkd.server.limits.ResourceLimits;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreRow;
import dev.forkd.server.store.StoreWrite;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.logging.Logger;

/**
 * The process records in the state store (kind {@value #KIND}): written from the one place a
 * record's state changes ({@link ProcessRecord#transition}), removed with the record, and loaded
 * once when the supervisor starts. The store groups the writes; nothing here waits for them.
 */
public final class ProcessRecords {

    static final String KIND = "process";
    /**
     * The highest process sequence number whose record was deleted (one row, key {@value #LAST_ID_KEY}):
     * restored records alone would let the next supervisor give the ids of the newest deleted ones
     * again, and an agent replaying the old process's start and exit would then end the new one.
     */
    static final String LAST_ID_KIND = "process-last-id";
    static final String LAST_ID_KEY = "last";
    /** The label of a pool's worker processes (set by the pool). */
    static final String POOL_LABEL = "forkd.pool";
    private static final Logger LOG = Logger.getLogger(ProcessRecords.class.getName());

    private final StateStore store;
    private final OutputFiles outputs;
    /** Guards {@link #deletedUpTo}, so the last-id writes are queued increasing. */
    private final Object deletions = new Object();
    /** The last-id value queued for the store. */
    private long deletedUpTo;

    public ProcessRecords(StateStore store) {
        this(store, OutputFiles.none());
    }

    /** Records kept in {@code store}, and the processes' output in {@code outputs}. */
    public ProcessRecords(StateStore store, OutputFiles outputs) {
        this.store = store;
        this.outputs = outputs;
    }

    /** Keeps nothing: a table without a store. */
    static final ProcessRecords NONE = new ProcessRecords(StateStore.none());

    /**
     * Keeps a chunk the record's log just took at {@code offset} (queued for the disk; never blocks).
     * Call with its monitor held, so the chunks are queued in their order.
     */
    void output(ProcessRecord rec, OutputLog.Stream stream, long offset, java.nio.ByteBuffer data) {
        // Not a forgotten one (its files' removal is queued already), nor a pool's worker: pools get
        // fresh workers after a restart, and a per-task pool would make a file per task.
        if (!rec.output.isFreed() && !rec.spec.labels().containsKey(POOL_LABEL)) {
            outputs.append(rec.id, rec.spec.outputLimit(), stream, offset, data);
        }
    }

    /** Fills a restored record's log with the output its files kept. */
    void loadOutput(ProcessRecord rec) {
        java.util.List<OutputSegments.Stored> kept = outputs.load(rec.id);
        if (kept.isEmpty()) {
            return;
        }
        long start = kept.getFirst().offset();
        for (OutputSegments.Stored s : kept) { // their capture times, for logs --since
            rec.outputTimes.captured(s.offset(), s.end() - s.offset(), java.time.Instant.ofEpochMilli(s.timeMillis()),
                    start);
        }
        rec.output.restore(kept);
    }

    /** Removes the output files of every process not in {@code ids}. */
    void keepOutputOf(java.util.Set<String> ids) {
        outputs.retainOnly(ids);
    }

    boolean keeps() {
        return store.keeps();
    }

    /** Writes the record as it is now. Call with its monitor held, so the writes follow its changes in order. */
    void save(ProcessRecord rec) {
        if (store.keeps()) {
            store.put(KIND, key(rec.seq), encode(rec).toByteArray()).exceptionally(e -> {
                LOG.warning("cannot keep process " + rec.id + " in the state store: " + e.getMessage());
                return null;
            });
        }
    }

    /**
     * Runs {@code then} on {@code executor} once every record written so far is committed (at once
     * when nothing is kept): a spawn is answered only when its record would survive a crash, so an
     * id a client was given is never given again by the next supervisor.
     */
    void afterCommitted(Runnable then, java.util.concurrent.Executor executor) {
        if (!store.keeps()) {
            then.run();
            return;
        }
        store.committedSoFar().whenCompleteAsync((done, e) -> {
            if (e != null) {
                LOG.warning("the state store did not confirm the process records: " + e.getMessage());
            }
            then.run();
        }, executor);
    }

    /** Removes the record, and raises the kept last id to it in the same write: its id is never given again. */
    void delete(ProcessRecord rec) {
        if (store.keeps()) {
            synchronized (deletions) {
                deletedUpTo = Math.max(deletedUpTo, rec.seq);
                store.write(List.of(new StoreWrite.Delete(KIND, key(rec.seq)),
                        StoreWrite.Put.ofLong(LAST_ID_KIND, LAST_ID_KEY, deletedUpTo)));
            }
        }
        outputs.delete(rec.id);
    }

    /** The highest sequence number a deleted record had (0 if none): new ids continue after it. */
    long lastDeleted() {
        if (!store.keeps()) {
            return 0;
        }
        long last = 0;
        for (StoreRow row : store.load(LAST_ID_KIND)) {
            if (row.value().length == Long.BYTES) {
                last = Math.max(last, row.longValue("the last process id"));
            } else {
                LOG.warning("ignoring a last process id of " + row.value().length + " bytes, not 8");
            }
        }
        synchronized (deletions) {
            deletedUpTo = Math.max(deletedUpTo, last);
        }
        return last;
    }

    /** Every stored record, oldest first; a row that does not decode is skipped and said so. */
    List<StoredProcess> load() {
        List<StoredProcess> out = new ArrayList<>();
        for (StoreRow row : store.load(KIND)) {
            try {
                out.add(StoredProcess.parseFrom(row.value()));
            } catch (InvalidProtocolBufferException e) {
                LOG.warning("skipping process record " + row.key() + " that does not decode: " + e.getMessage());
            }
        }
        return out;
    }

    /** Zero-padded, so that records load in the order they were made. */
    static String key(long seq) {
        return String.format("%019d", seq);
    }

    // ---- encoding -----------------------------------------------------------------------------

    static StoredProcess encode(ProcessRecord rec) {
        StoredProcess.Builder b = StoredProcess.newBuilder().setId(rec.id).setSeq(rec.seq).setSpec(encode(rec.spec))
                .setCreatedAtMillis(rec.createdAt.toEpochMilli()).setState(encode(rec.state)).setRun(rec.run)
                .setRestartCount(rec.restartCount).setStopRequested(rec.stopRequested).setPid(rec.pid)
                .setRunOutputStart(rec.runOutputStart);
        rec.restartTimes.forEach(t -> b.addRestartTimesMillis(t.toEpochMilli()));
        if (rec.startedAt != null) {
            b.setStartedAtMillis(rec.startedAt.toEpochMilli());
        }
        if (rec.endedAt != null) {
            b.setEndedAtMillis(rec.endedAt.toEpochMilli());
        }
        if (rec.lineage != null) {
            for (Optional<Lineage> l = rec.lineage.parent(); l.isPresent(); l = l.get().parent()) {
                b.addAncestors(l.get().processId());
            }
        }
        if (rec.agent != null) {
            b.setAgentId(rec.agent.agentId());
        }
        if (rec.childSession != null) {
            b.setChildSession(rec.childSession);
        }
        return b.build();
    }

    private static StoredSpec encode(ProcessSpec s) {
        StoredSpec.Builder b = StoredSpec.newBuilder().addAllArgv(s.argv()).putAllEnv(s.env()).putAllLabels(s.labels())
                .setStdinPipe(s.stdinPipe()).setDaemon(s.daemon()).setOutputLimit(s.outputLimit())
                .setStopGraceMillis(s.stopGrace().toMillis()).setHoldUntilWatched(s.holdUntilWatched())
                .setRestart(StoredRestart.newBuilder().setPolicy(s.restart().policy().name())
                        .setInitialBackoffMillis(s.restart().initialBackoff().toMillis())
                        .setMaxBackoffMillis(s.restart().maxBackoff().toMillis())
                        .setMaxRestarts(s.restart().maxRestarts())
                        .setWindowMillis(s.restart().window().toMillis()))
                .setLimits(dev.forkd.server.agent.AgentLimits.toProto(s.limits()));
        s.cwd().ifPresent(b::setCwd);
        s.name().ifPresent(b::setName);
        s.timeout().ifPresent(t -> b.setTimeoutMillis(t.toMillis()));
        s.sessionId().ifPresent(b::setSessionId);
        return b.build();
    }

    private static StoredState encode(ProcessState state) {
        StoredState.Builder b = StoredState.newBuilder();
        switch (state) {
            case ProcessState.Starting s -> b.setKind(StoredStateKind.STORED_STATE_KIND_STARTING).setAgentId(s.agentId());
            case ProcessState.Running r -> b.setKind(StoredStateKind.STORED_STATE_KIND_RUNNING).setAgentId(r.agentId())
                    .setPid(r.pid()).setAtMillis(r.startedAt().toEpochMilli());
            case ProcessState.Exited e -> b.setKind(StoredStateKind.STORED_STATE_KIND_EXITED).setPid(e.pid())
                    .setExitCode(e.exitCode()).setAtMillis(e.endedAt().toEpochMilli());
            case ProcessState.Signaled s -> b.setKind(StoredStateKind.STORED_STATE_KIND_SIGNALED).setPid(s.pid())
                    .setSignal(s.signal()).setOomKilled(s.oomKilled()).setAtMillis(s.endedAt().toEpochMilli());
            case ProcessState.FailedToStart f -> b.setKind(StoredStateKind.STORED_STATE_KIND_FAILED_TO_START)
                    .setStartError(f.error().kind().name()).setCause(f.error().message())
                    .setAtMillis(f.endedAt().toEpochMilli());
            case ProcessState.Lost l -> b.setKind(StoredStateKind.STORED_STATE_KIND_LOST).setPid(l.pid())
                    .setCause(l.cause()).setAtMillis(l.endedAt().toEpochMilli());
            case ProcessState.Backoff k -> b.setKind(StoredStateKind.STORED_STATE_KIND_BACKOFF)
                    .setEnded(encode(k.ended())).setAtMillis(k.restartAt().toEpochMilli());
            case ProcessState.Fatal f -> b.setKind(StoredStateKind.STORED_STATE_KIND_FATAL).setEnded(encode(f.ended()))
                    .setCause(f.cause());
        }
        return b.build();
    }

    // ---- decoding -----------------------------------------------------------------------------

    static ProcessSpec decode(StoredSpec s) {
        StoredRestart r = s.getRestart();
        RestartSpec restart = r.getPolicy().isEmpty() ? RestartSpec.NEVER : new RestartSpec(
                RestartSpec.Policy.valueOf(r.getPolicy()), Duration.ofMillis(r.getInitialBackoffMillis()),
                Duration.ofMillis(r.getMaxBackoffMillis()), r.getMaxRestarts(), Duration.ofMillis(r.getWindowMillis()));
        return new ProcessSpec(s.getArgvList(), s.getEnvMap(),
                s.hasCwd() ? Optional.of(s.getCwd()) : Optional.empty(),
                s.hasName() ? Optional.of(s.getName()) : Optional.empty(), s.getLabelsMap(), s.getStdinPipe(),
                s.getDaemon(), s.hasTimeoutMillis() ? Optional.of(Duration.ofMillis(s.getTimeoutMillis())) : Optional.empty(),
                restart, s.getOutputLimit(), Duration.ofMillis(s.getStopGraceMillis()),
                s.hasSessionId() ? Optional.of(s.getSessionId()) : Optional.empty(), s.getHoldUntilWatched(),
                decode(s.getLimits()));
    }

    private static ResourceLimits decode(dev.forkd.v1.ResourceLimits l) {
        return new ResourceLimits(
                l.hasOpenFiles() ? OptionalLong.of(l.getOpenFiles()) : OptionalLong.empty(),
                l.hasAddressSpaceBytes() ? OptionalLong.of(l.getAddressSpaceBytes()) : OptionalLong.empty(),
                l.hasCpuSeconds() ? OptionalLong.of(l.getCpuSeconds()) : OptionalLong.empty(),
                l.hasCoreBytes() ? OptionalLong.of(l.getCoreBytes()) : OptionalLong.empty(),
                l.hasProcesses() ? OptionalLong.of(l.getProcesses()) : OptionalLong.empty(),
                l.hasMemoryMaxBytes() ? OptionalLong.of(l.getMemoryMaxBytes()) : OptionalLong.empty(),
                l.hasCpuMax() ? OptionalDouble.of(l.getCpuMax()) : OptionalDouble.empty(),
                l.hasPidsMax() ? OptionalLong.of(l.getPidsMax()) : OptionalLong.empty());
    }

    static ProcessState decode(StoredState s) {
        Instant at = Instant.ofEpochMilli(s.getAtMillis());
        return switch (s.getKind()) {
            case STORED_STATE_KIND_STARTING -> new ProcessState.Starting(s.getAgentId());
            case STORED_STATE_KIND_RUNNING -> new ProcessState.Running(s.getAgentId(), s.getPid(), at);
            case STORED_STATE_KIND_EXITED -> new ProcessState.Exited(s.getPid(), s.getExitCode(), at);
            case STORED_STATE_KIND_SIGNALED -> new ProcessState.Signaled(s.getPid(), s.getSignal(), s.getOomKilled(), at);
            case STORED_STATE_KIND_FAILED_TO_START -> new ProcessState.FailedToStart(
                    new StartError(startErrorKind(s.getStartError()), s.getCause()), at);
            case STORED_STATE_KIND_LOST -> new ProcessState.Lost(s.getPid(), s.getCause(), at);
            case STORED_STATE_KIND_BACKOFF -> new ProcessState.Backoff(decode(s.getEnded()), at);
            case STORED_STATE_KIND_FATAL -> new ProcessState.Fatal(decode(s.getEnded()), s.getCause());
            case STORED_STATE_KIND_UNSPECIFIED, UNRECOGNIZED -> new ProcessState.Lost(s.getPid(),
                    "its record was written by a newer forkd", at);
        };
    }

    private static StartError.Kind startErrorKind(String name) {
        try {
            return StartError.Kind.valueOf(name);
        } catch (IllegalArgumentException e) {
            return StartError.Kind.OTHER;
        }
    }
}
