package dev.forkd.server.grpc;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.v1.WriteStdinRequest;
import dev.forkd.v1.WriteStdinResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * One WriteStdin call. Flow control: it asks the client for the next message only after the agent
 * has written the previous one to the child's pipe, so a child that reads slowly slows its writer.
 * The message in flight is charged to the server's memory budget until the agent has written it; a
 * message the budget cannot hold ends the call with RESOURCE_EXHAUSTED (nothing of it written).
 * With {@code close_on_cancel} in its first message, a call that ends before the client completes
 * it (cancelled, its connection broken, the server stopping) closes the child's stdin after what it
 * wrote, as a pipe gives end-of-file when its writer dies.
 */
final class StdinForwarder implements StreamObserver<WriteStdinRequest> {

    private final ProcessTable table;
    private final java.util.function.UnaryOperator<String> allowed;
    private final ServerCallStreamObserver<WriteStdinResponse> out;
    private String id;
    /** The id or name the first message gave, which later ones may repeat. */
    private String requested;
    private long written;
    private boolean closed;
    private boolean done;
    private boolean inFlight;
    /** The bytes of the message in flight, reserved from the budget. */
    private long reserved;
    private boolean clientCompleted;
    private boolean closeOnCancel;

    /** @param allowed the id of the process a WriteStdin may feed, given its id or name; throws if none */
    StdinForwarder(ProcessTable table, ServerCallStreamObserver<WriteStdinResponse> out,
            java.util.function.UnaryOperator<String> allowed) {
        this.allowed = allowed;
        this.table = table;
        this.out = out;
        out.disableAutoRequest();
        out.request(1);
    }

    @Override
    public synchronized void onNext(WriteStdinRequest r) {
        if (done) {
            return;
        }
        try {
            if (id == null) {
                if (r.getName().isEmpty()) {
                    throw new ForkdException.InvalidArgument("name", "is required in the first message");
                }
                id = allowed.apply(r.getName());
                requested = r.getName();
                closeOnCancel = r.getCloseOnCancel();
            } else if (!r.getName().isEmpty() && !r.getName().equals(requested)) {
                throw new ForkdException.InvalidArgument("name", "must not change within one WriteStdin stream");
            }
            if (r.getData().isEmpty() && !r.getClose()) {
                out.request(1);
                return;
            }
            byte[] data = r.getData().toByteArray();
            table.memory().reserve(data.length, "stdin for process \"" + id + "\"");
            reserved = data.length;
            inFlight = true;
            try {
                table.writeStdin(id, data, r.getClose(), this::onWritten);
            } catch (RuntimeException e) {
                inFlight = false;
                unreserve();
                throw e;
            }
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    private synchronized void onWritten(ProcessTable.StdinResult result) {
        inFlight = false;
        unreserve();
        if (done) {
            return;
        }
        if (result.error().isPresent()) {
            fail(new ForkdException.FailedPrecondition("STDIN_WRITE_FAILED",
                    "writing to the stdin of process \"" + id + "\" failed: " + result.error().get()));
            return;
        }
        written += result.bytes();
        closed |= result.closed();
        if (clientCompleted) {
            complete();
        } else {
            out.request(1);
        }
    }

    @Override
    public synchronized void onError(Throwable t) {
        boolean wasDone = done;
        done = true; // the client went away; what was written stays written
        if (closeOnCancel && !wasDone && !closed && id != null) {
            closeAfterWriter();
        }
    }

    /** Gives the child end-of-file after the writes already sent (they stay in order on its agent). */
    private void closeAfterWriter() {
        try {
            table.writeStdin(id, new byte[0], true, result -> { });
        } catch (ForkdException alreadyClosedOrEnded) {
            // Closed by a write of this call still in flight, or the child has ended: nothing to close.
        }
    }

    @Override
    public synchronized void onCompleted() {
        clientCompleted = true;
        if (!inFlight && !done) {
            complete();
        }
    }

    private void unreserve() {
        table.memory().release(reserved);
        reserved = 0;
    }

    private void complete() {
        done = true;
        out.onNext(WriteStdinResponse.newBuilder().setBytesWritten(written).setClosed(closed).build());
        out.onCompleted();
    }

    private void fail(RuntimeException e) {
        done = true;
        out.onError(ErrorMapper.toStatus(e));
    }
}
