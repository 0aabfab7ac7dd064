package dev.forkd.server.grpc;

import com.google.protobuf.UnsafeByteOperations;
import dev.forkd.server.process.OutputLog;
import dev.forkd.server.process.ProcessSnapshot;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.watch.WatchAdmission;
import dev.forkd.v1.OutputChunk;
import dev.forkd.v1.OutputGap;
import dev.forkd.v1.OutputLost;
import dev.forkd.v1.OutputStream;
import dev.forkd.v1.WatchProcessResponse;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One Watch call: pulls output and state from the process record and pushes it while the client's
 * stream is ready (flow control), resuming on the next change or onReady. No thread waits for it:
 * a change or readiness schedules one drain on the executor.
 *
 * <p>Order: all output is sent before the final state, so a watcher never misses the last line.
 */
final class OutputWatcher {

    private static final int MAX_MESSAGE_BYTES = 256 * 1024;
    /**
     * How much may wait in the transport before the stream reports not ready. gRPC's default, 32 KiB,
     * is less than one output message, so each message waited for its own onReady: a round of
     * thread hand-offs per chunk, which capped a follower far below what the pipe delivers.
     */
    private static final int ON_READY_THRESHOLD = 1 << 20;
    /**
     * What a watch of a client that stopped reading can hold in the transport: up to the threshold,
     * plus the message that crossed it. Held from the memory budget while the watch is open.
     */
    static final long BUFFER_BYTES = ON_READY_THRESHOLD + MAX_MESSAGE_BYTES;

    private final ServerCallStreamObserver<WatchProcessResponse> out;
    private final SerialDrain drains;
    private final boolean follow;
    private final boolean noOutput;
    private final boolean hold;
    private final AtomicBoolean finished = new AtomicBoolean();
    private final WatchAdmission.Ticket ticket;
    private final ExitCauses causes;
    /**
     * Set once {@link #start} has registered with the table. The table may call back (an output or
     * the end, on the agent's thread) before that: such a pass finds it unset and does nothing, and
     * the pass start() asks for afterwards reads everything that happened by then.
     */
    private volatile ProcessTable.WatchHandle handle;
    private long cursor;
    private long sentVersion = -1;

    OutputWatcher(ServerCallStreamObserver<WatchProcessResponse> out, Executor executor, long fromOffset,
            boolean follow, boolean noOutput, boolean hold, WatchAdmission.Ticket ticket, ExitCauses causes) {
        this.causes = causes;
        this.out = out;
        this.ticket = ticket;
        this.hold = hold;
        this.drains = new SerialDrain(executor, this::drain, e -> {
            if (finished.compareAndSet(false, true)) {
                ProcessTable.WatchHandle attached = handle;
                if (attached != null) {
                    attached.close();
                }
                ticket.close();
                out.onError(ErrorMapper.toStatus(e));
            }
        });
        this.cursor = fromOffset;
        this.follow = follow;
        this.noOutput = noOutput;
    }

    void start(ProcessTable table, String id) {
        handle = table.watch(id, drains::signal, hold && follow && !noOutput, cursor);
        out.setOnCancelHandler(this::finish);
        out.setOnReadyThreshold(ON_READY_THRESHOLD);
        out.setOnReadyHandler(drains::signal);
        drains.signal();
    }

    private void drain() {
        ProcessTable.WatchHandle handle = this.handle;
        if (finished.get() || handle == null) {
            return;
        }
        if (!handle.exists()) {
            finish();
            if (!out.isCancelled()) {
                out.onCompleted();
            }
            return;
        }
        while (out.isReady() && !finished.get()) {
            ProcessSnapshot snap = handle.snapshot();
            if (!noOutput) {
                OutputLog.Read read = handle.read(cursor, MAX_MESSAGE_BYTES);
                switch (read) {
                    case OutputLog.Read.Gap g -> {
                        out.onNext(WatchProcessResponse.newBuilder().setGap(OutputGap.newBuilder()
                                .setRequested(g.requested()).setResumedAt(g.resumedAt())).build());
                        cursor = g.resumedAt();
                        continue;
                    }
                    case OutputLog.Read.Lost l -> {
                        out.onNext(WatchProcessResponse.newBuilder().setLost(OutputLost.newBuilder()
                                .setOffset(l.from()).setResumedAt(l.resumedAt())).build());
                        cursor = l.resumedAt();
                        continue;
                    }
                    case OutputLog.Read.Data d -> {
                        for (OutputLog.Chunk c : d.chunks()) {
                            out.onNext(WatchProcessResponse.newBuilder().setOutput(OutputChunk.newBuilder()
                                    .setStream(c.stream() == OutputLog.Stream.STDERR
                                            ? OutputStream.OUTPUT_STREAM_STDERR : OutputStream.OUTPUT_STREAM_STDOUT)
                                    .setOffset(c.offset())
                                    // Logged chunks are never changed: no copy needed.
                                    .setData(UnsafeByteOperations.unsafeWrap(c.data()))).build());
                            cursor = c.end();
                        }
                        handle.readUpTo(cursor);
                        continue;
                    }
                    case OutputLog.Read.AtEnd a -> {
                        if (cursor > a.end()) {
                            cursor = a.end(); // asked past the end: follow from there
                        }
                    }
                }
            }
            // Output is drained up to what the snapshot saw; now the state, then maybe the end.
            if (snap.version() != sentVersion) {
                out.onNext(WatchProcessResponse.newBuilder().setState(ProcessMessages.info(snap, causes)).build());
                sentVersion = snap.version();
            }
            if (!follow || snap.state().isFinal()) {
                if (snap.state().isFinal() && !noOutput && handle.snapshot().outputEnd() > cursor) {
                    continue; // output that raced in before the end; send it first
                }
                finish();
                out.onCompleted();
            }
            return;
        }
    }

    private void finish() {
        if (finished.compareAndSet(false, true)) {
            ProcessTable.WatchHandle attached = handle;
            if (attached != null) {
                attached.close();
            }
            ticket.close();
        }
    }
}
