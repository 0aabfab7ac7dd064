package dev.forkd.client;

import dev.forkd.v1.WriteStdinRequest;
import dev.forkd.v1.WriteStdinResponse;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A process's stdin over one WriteStdin stream, opened at the first write. A write waits while gRPC's
 * transport buffer is full (woken by its ready callback), so a fast writer cannot pile bytes up in
 * memory; close sends the close flag and waits for the server to confirm.
 */
final class ProcessStdin extends OutputStream {

    /** Bytes per message: large enough to amortise a message, well below any message limit. */
    private static final int CHUNK = 64 * 1024;

    private final ProcessCalls calls;
    private final String id;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private final CompletableFuture<WriteStdinResponse> answer = new CompletableFuture<>();
    private ClientCallStreamObserver<WriteStdinRequest> call;
    private boolean closed;

    ProcessStdin(ProcessCalls calls, String id) {
        this.calls = calls;
        this.id = id;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        lock.lock();
        try {
            if (closed) {
                throw new IOException("stdin of " + id + " is closed");
            }
            open();
            for (int at = off; at < off + len; at += CHUNK) {
                awaitReady();
                call.onNext(ProcessCalls.stdinData(id, b, at, Math.min(CHUNK, off + len - at)));
            }
        } finally {
            lock.unlock();
        }
    }

    private void open() {
        if (call != null) {
            return;
        }
        calls.writeStdin(new ClientResponseObserver<WriteStdinRequest, WriteStdinResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<WriteStdinRequest> requestStream) {
                call = requestStream;
                requestStream.setOnReadyHandler(() -> signal());
            }

            @Override
            public void onNext(WriteStdinResponse value) {
                answer.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
                signal();
            }

            @Override
            public void onCompleted() {
                answer.complete(WriteStdinResponse.getDefaultInstance());
                signal();
            }
        });
    }

    private void signal() {
        lock.lock();
        try {
            ready.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void awaitReady() throws IOException {
        while (!call.isReady()) {
            if (answer.isDone()) {
                throw failure();
            }
            try {
                ready.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while writing to stdin of " + id);
            }
        }
    }

    private IOException failure() {
        try {
            answer.get();
            return new IOException("the server ended stdin of " + id);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof StatusRuntimeException sre ? ForkdException.from(sre) : e.getCause();
            return new IOException("writing to stdin of " + id + " failed: " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new InterruptedIOException();
        }
    }

    /** Closes the child's stdin and waits for the server to confirm. */
    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            open();
            call.onNext(ProcessCalls.stdinClose(id));
            call.onCompleted();
        } finally {
            lock.unlock();
        }
        try {
            answer.get();
        } catch (ExecutionException e) {
            throw failure();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while closing stdin of " + id);
        }
    }
}
