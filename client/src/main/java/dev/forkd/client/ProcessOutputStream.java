package dev.forkd.client;

import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * One output stream of a process as an {@link InputStream}, over a following Watch that asks the
 * server for one message at a time: at most one chunk waits here, and the server holds the rest.
 */
final class ProcessOutputStream extends InputStream {

    private sealed interface Item {
        record Data(byte[] bytes) implements Item {}
        record End() implements Item {}
        record Failed(Throwable cause) implements Item {}
    }

    // One chunk in flight plus the end: request(1) is only issued once the previous chunk is taken.
    private final BlockingQueue<Item> items = new ArrayBlockingQueue<>(4);
    private final boolean stderr;
    private volatile ClientCallStreamObserver<WatchProcessRequest> call;
    private byte[] current = new byte[0];
    private int pos;
    private boolean ended;

    ProcessOutputStream(ProcessCalls calls, String id, boolean stderr) {
        this.stderr = stderr;
        calls.watch(id, true, new ClientResponseObserver<WatchProcessRequest, WatchProcessResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<WatchProcessRequest> requestStream) {
                call = requestStream;
                requestStream.disableAutoRequestWithInitial(1);
            }

            @Override
            public void onNext(WatchProcessResponse value) {
                if (ProcessCalls.event(value) instanceof ProcessCalls.Event.Output(OutputChunk chunk)
                        && chunk.stderr() == ProcessOutputStream.this.stderr && chunk.data().length > 0) {
                    items.add(new Item.Data(chunk.data()));
                } else {
                    call.request(1); // not ours: ask for the next
                }
            }

            @Override
            public void onError(Throwable t) {
                items.add(new Item.Failed(t));
            }

            @Override
            public void onCompleted() {
                items.add(new Item.End());
            }
        });
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        if (pos == current.length && !fill()) {
            return -1;
        }
        int n = Math.min(len, current.length - pos);
        System.arraycopy(current, pos, b, off, n);
        pos += n;
        return n;
    }

    @Override
    public int available() {
        return current.length - pos;
    }

    private boolean fill() throws IOException {
        if (ended) {
            return false;
        }
        Item next;
        try {
            next = items.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading a process's output");
        }
        switch (next) {
            case Item.Data(byte[] bytes) -> {
                current = bytes;
                pos = 0;
                call.request(1);
                return true;
            }
            case Item.End() -> {
                ended = true;
                return false;
            }
            case Item.Failed(Throwable cause) -> {
                ended = true;
                Throwable shown = cause instanceof StatusRuntimeException sre ? ForkdException.from(sre) : cause;
                throw new IOException("reading the process's output failed: " + shown.getMessage(), shown);
            }
        }
    }

    @Override
    public void close() {
        if (!ended) {
            ended = true;
            call.cancel("output stream closed by the reader", null);
        }
    }
}
