package dev.forkd.cli;

import com.google.protobuf.ByteString;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.WriteStdinRequest;
import dev.forkd.v1.WriteStdinResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Copies the CLI's stdin to a child's stdin over one {@code WriteStdin} stream, respecting flow
 * control (it waits for the stream's ready signal, not a timer). End of our stdin closes the child's,
 * and so does the end of this CLI (close_on_cancel).
 * Runs on a daemon thread: a child that ends before our stdin does must not keep the CLI alive.
 */
final class StdinForwarder implements Runnable {

    private static final int CHUNK = 64 * 1024;

    private final InputStream in;
    private final String processId;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition readyOrDone = lock.newCondition();
    private final ClientCallStreamObserver<WriteStdinRequest> requests;
    private boolean done; // guarded by lock: the call ended (child gone, or error)

    private StdinForwarder(ProcessServiceGrpc.ProcessServiceStub stub, InputStream in, String processId) {
        this.in = in;
        this.processId = processId;
        Holder holder = new Holder();
        stub.writeStdin(holder);
        this.requests = holder.requests;
    }

    /** Starts forwarding on a daemon thread. */
    static void start(ProcessServiceGrpc.ProcessServiceStub stub, InputStream in, String processId) {
        Thread t = new Thread(new StdinForwarder(stub, in, processId), "forkd-stdin");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void run() {
        byte[] buffer = new byte[CHUNK];
        boolean first = true;
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (n == 0) {
                    continue;
                }
                if (!awaitReady()) {
                    return;
                }
                send(first, ByteString.copyFrom(buffer, 0, n), false);
                first = false;
            }
        } catch (IOException e) {
            // our stdin broke: treat it as its end, so the child sees end-of-file too
        }
        if (awaitReady()) {
            send(first, ByteString.EMPTY, true);
            requests.onCompleted();
        }
    }

    private void send(boolean first, ByteString data, boolean close) {
        WriteStdinRequest.Builder b = WriteStdinRequest.newBuilder().setData(data).setClose(close);
        if (first) {
            // If this CLI dies (or the server stops) mid-stream, the child reads end-of-file, as from
            // a pipe whose writer died, instead of waiting for input that cannot come.
            b.setName(processId).setCloseOnCancel(true);
        }
        requests.onNext(b.build());
    }

    /** Blocks until the stream can take a message; false if the call has ended. */
    private boolean awaitReady() {
        lock.lock();
        try {
            while (!done && !requests.isReady()) {
                readyOrDone.awaitUninterruptibly();
            }
            return !done;
        } finally {
            lock.unlock();
        }
    }

    private void signal(boolean finished) {
        lock.lock();
        try {
            done |= finished;
            readyOrDone.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private final class Holder implements ClientResponseObserver<WriteStdinRequest, WriteStdinResponse> {
        ClientCallStreamObserver<WriteStdinRequest> requests;

        @Override
        public void beforeStart(ClientCallStreamObserver<WriteStdinRequest> requestStream) {
            this.requests = requestStream;
            requestStream.setOnReadyHandler(() -> signal(false));
        }

        @Override
        public void onNext(WriteStdinResponse value) {
            // the count is not needed: the child's output tells the story
        }

        @Override
        public void onError(Throwable t) {
            signal(true); // the child has ended or cannot take input; stop reading ours
        }

        @Override
        public void onCompleted() {
            signal(true);
        }
    }
}
