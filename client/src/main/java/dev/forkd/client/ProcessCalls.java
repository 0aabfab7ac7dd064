package dev.forkd.client;

import com.google.common.util.concurrent.ListenableFuture;
import dev.forkd.v1.DeleteProcessRequest;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.OutputStream;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.RestartProcessRequest;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.StdinMode;
import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import dev.forkd.v1.WriteStdinRequest;
import dev.forkd.v1.WriteStdinResponse;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.OptionalInt;

/** The process RPCs, in the library's own types: the only process code that knows the protos. */
final class ProcessCalls {

    /** What the library needs of a process's state. */
    record Snapshot(String id, OptionalInt pid, boolean ended, OptionalInt exitCode) {}

    /** One message of a Watch stream, reduced: output, or a new state. */
    sealed interface Event {
        record Output(OutputChunk chunk) implements Event {}
        record State(Snapshot snapshot) implements Event {}
        record Other() implements Event {}
    }

    private final Rpc rpc;

    ProcessCalls(Rpc rpc) {
        this.rpc = rpc;
    }

    Snapshot spawn(ProcessSpec spec) {
        SpawnRequest.Builder b = SpawnRequest.newBuilder().addAllArgv(spec.argv()).putAllEnv(spec.env())
                .setDaemon(spec.daemon())
                .setStdinMode(spec.stdinPipe() ? StdinMode.STDIN_MODE_PIPE : StdinMode.STDIN_MODE_NONE);
        spec.cwd().ifPresent(b::setCwd);
        spec.name().ifPresent(b::setName);
        return snapshot(Rpc.call(() -> rpc.processes().spawn(b.build())).getProcess());
    }

    Snapshot get(String id) {
        return snapshot(Rpc.call(() -> rpc.processes().get(GetProcessRequest.newBuilder().setName(id).build()))
                .getProcess());
    }

    /** Waits up to {@code timeout} (null: without limit); the state then. */
    ListenableFuture<Snapshot> join(String id, Duration timeout) {
        JoinProcessRequest.Builder b = JoinProcessRequest.newBuilder().setName(id);
        if (timeout != null) {
            b.setTimeout(ProtoTime.of(timeout));
        }
        return Rpc.map(rpc.processesWaiting(timeout).join(b.build()), r -> snapshot(r.getProcess()));
    }

    void signal(String id, boolean kill) {
        Rpc.call(() -> rpc.processes().signal(SignalRequest.newBuilder().setName(id)
                .setKind(kill ? SignalKind.SIGNAL_KIND_KILL : SignalKind.SIGNAL_KIND_TERMINATE).build()));
    }

    /** Stops the process as terminate does, then starts it again under the same id; the new run's state. */
    ListenableFuture<Snapshot> restart(String id) {
        return Rpc.map(rpc.processesWaiting(null).restart(RestartProcessRequest.newBuilder().setName(id).build()),
                r -> snapshot(r.getProcess()));
    }

    void delete(String id) {
        Rpc.call(() -> rpc.processes().delete(DeleteProcessRequest.newBuilder().setName(id).build()));
    }

    /** Starts a Watch that follows the process to its end. */
    void watch(String id, boolean withOutput, ClientResponseObserver<WatchProcessRequest, WatchProcessResponse> observer) {
        rpc.processesAsync().watch(WatchProcessRequest.newBuilder().setName(id).setFollow(true).setNoOutput(!withOutput)
                .build(), observer);
    }

    StreamObserver<WriteStdinRequest> writeStdin(ClientResponseObserver<WriteStdinRequest, WriteStdinResponse> observer) {
        return rpc.processesAsync().writeStdin(observer);
    }

    /**
     * Bytes for a child's stdin. The call holds it with close_on_cancel: if this program ends (or its
     * connection breaks) before close(), the child reads end-of-file, as from java.lang.Process's
     * pipe when the JVM exits.
     */
    static WriteStdinRequest stdinData(String id, byte[] data, int off, int len) {
        return WriteStdinRequest.newBuilder().setName(id).setCloseOnCancel(true)
                .setData(com.google.protobuf.ByteString.copyFrom(data, off, len)).build();
    }

    static WriteStdinRequest stdinClose(String id) {
        return WriteStdinRequest.newBuilder().setName(id).setCloseOnCancel(true).setClose(true).build();
    }

    static Event event(WatchProcessResponse r) {
        return switch (r.getEventCase()) {
            case OUTPUT -> new Event.Output(new OutputChunk(
                    r.getOutput().getStream() == OutputStream.OUTPUT_STREAM_STDERR, r.getOutput().getOffset(),
                    r.getOutput().getData().toByteArray()));
            // Told in order among the chunks, as a chunk of no bytes (see OutputChunk.lostBytes).
            case LOST -> new Event.Output(new OutputChunk(false, r.getLost().getOffset(), new byte[0],
                    r.getLost().getResumedAt() - r.getLost().getOffset()));
            case STATE -> new Event.State(snapshot(r.getState()));
            default -> new Event.Other();
        };
    }

    static Snapshot snapshot(ProcessInfo p) {
        boolean ended = switch (p.getState()) {
            case PROCESS_STATE_EXITED, PROCESS_STATE_SIGNALED, PROCESS_STATE_FAILED_TO_START, PROCESS_STATE_LOST,
                    PROCESS_STATE_FATAL -> true;
            default -> false;
        };
        OptionalInt exit = ended && p.hasExitCode() ? OptionalInt.of(p.getExitCode()) : OptionalInt.empty();
        return new Snapshot(p.getId(), p.hasPid() ? OptionalInt.of(p.getPid()) : OptionalInt.empty(), ended, exit);
    }
}
