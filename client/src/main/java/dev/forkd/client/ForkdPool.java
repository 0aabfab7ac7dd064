package dev.forkd.client;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A pool of worker processes on the server, like Python's {@code multiprocessing.Pool}. The
 * {@code map} family streams items to the server and results back with flow control both ways, so an
 * endless input stream works: items are read only as fast as results come. A failed task throws
 * {@link TaskFailedException} where its result would be. Close the streams {@code imap} answers (or
 * read them to the end) to end the call.
 */
public final class ForkdPool implements AutoCloseable {

    private final PoolCalls calls;
    private final String id;

    ForkdPool(PoolCalls calls, String id) {
        this.calls = calls;
        this.id = id;
    }

    /** The server's id of the pool ({@code pool-N}). */
    public String id() {
        return id;
    }

    /** Results in input order, all at once (Pool.map). */
    public List<byte[]> map(List<byte[]> items) {
        try (Stream<byte[]> results = imap(items.stream())) {
            return results.toList();
        }
    }

    /** Results in input order, as a lazy stream (Pool.imap). */
    public Stream<byte[]> imap(Stream<byte[]> items) {
        return stream(true, items.map(i -> (PoolCalls.Input) new PoolCalls.Input.Item(i)).iterator())
                .map(TaskResult::output);
    }

    /** Results as they finish, each with its input index (Pool.imap_unordered). */
    public Stream<TaskResult> imapUnordered(Stream<byte[]> items) {
        return stream(false, items.map(i -> (PoolCalls.Input) new PoolCalls.Input.Item(i)).iterator());
    }

    /**
     * Results in input order for argument tuples (Pool.starmap): {@code {1}}, {@code {2}}, ... in a
     * per-task template, or one tab-separated line to a persistent worker.
     */
    public Stream<byte[]> starmap(Stream<List<String>> argTuples) {
        return stream(true, argTuples.map(a -> (PoolCalls.Input) new PoolCalls.Input.Args(a)).iterator())
                .map(TaskResult::output);
    }

    private Stream<TaskResult> stream(boolean ordered, Iterator<PoolCalls.Input> input) {
        MapCall call = new MapCall(calls, id, ordered, input);
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(call,
                (ordered ? Spliterator.ORDERED : 0) | Spliterator.NONNULL), false).onClose(call::close);
    }

    /** Runs one task and answers its output (Pool.apply). */
    public byte[] apply(byte[] item) throws InterruptedException {
        return calls.apply(id, new PoolCalls.Input.Item(item)).output();
    }

    /** Submits one task; the future completes with its output, or with {@link TaskFailedException} (Pool.apply_async). */
    public CompletableFuture<byte[]> applyAsync(byte[] item) {
        String task = calls.applyAsync(id, new PoolCalls.Input.Item(item));
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        Futures.addCallback(calls.result(task), new FutureCallback<TaskResult>() {
            @Override
            public void onSuccess(TaskResult r) {
                calls.forget(task);
                result.complete(r.output());
            }

            @Override
            public void onFailure(Throwable t) {
                if (t instanceof TaskFailedException) {
                    calls.forget(task); // a failure is a result too
                }
                result.completeExceptionally(t instanceof io.grpc.StatusRuntimeException sre ? ForkdException.from(sre) : t);
            }
        }, MoreExecutors.directExecutor());
        return result;
    }

    /** This pool seen as an executor of its command, for code written against ExecutorService's shape. */
    public PoolExecutor asExecutor() {
        return new PoolExecutor(this);
    }

    /** No new tasks; the submitted ones finish, then the workers stop (Pool.close). */
    public void closeInput() {
        calls.close(id);
    }

    /** Stops now: workers killed, unfinished tasks fail (Pool.terminate). */
    public void terminate() {
        calls.terminate(id);
    }

    /** Waits until a closed or terminated pool has ended. */
    public void join() throws InterruptedException {
        Rpc.interruptibly(calls.join(id, null));
    }

    /** Waits up to {@code timeout}; true when the pool has ended. */
    public boolean join(Duration timeout) throws InterruptedException {
        return Rpc.interruptibly(calls.join(id, timeout));
    }

    /** Forgets an ended pool on the server. */
    public void delete() {
        calls.delete(id);
    }

    /**
     * Terminates the pool, waits for it to end and forgets it: what leaving Python's
     * {@code with Pool() as p:} does. To let submitted tasks finish first, {@link #closeInput()} and
     * {@link #join()} before.
     */
    @Override
    public void close() {
        calls.terminate(id);
        Rpc.uninterruptibly(calls.join(id, null));
        calls.delete(id);
    }

    @Override
    public String toString() {
        return "ForkdPool[" + id + "]";
    }
}
