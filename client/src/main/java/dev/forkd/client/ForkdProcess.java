package dev.forkd.client;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

/**
 * A process the server runs, like {@link Process} for a local one. It lives on the server: dropping
 * this handle neither waits for it nor stops it (unless it was started as a daemon of this client's
 * session).
 */
public final class ForkdProcess {

    private final ProcessCalls calls;
    private final String id;

    ForkdProcess(ProcessCalls calls, String id) {
        this.calls = calls;
        this.id = id;
    }

    /** The server's id of this process ({@code p-N}). */
    public String id() {
        return id;
    }

    /**
     * The OS pid, once the process has started (this waits for that); empty if it never started
     * (e.g. its program does not exist).
     */
    public OptionalInt pid() {
        ProcessCalls.Snapshot now = calls.get(id);
        if (now.pid().isPresent()) {
            return now.pid();
        }
        if (now.ended()) {
            return OptionalInt.empty();
        }
        CompletableFuture<ProcessCalls.Snapshot> started = new CompletableFuture<>();
        calls.watch(id, false, new WatchObserver(event -> {
            if (event instanceof ProcessCalls.Event.State(ProcessCalls.Snapshot s) && (s.pid().isPresent() || s.ended())) {
                started.complete(s);
                return false;
            }
            return true;
        }, started::completeExceptionally, () -> started.complete(calls.get(id))));
        return started.join().pid();
    }

    /** Waits until the process ends. */
    public void join() throws InterruptedException {
        Rpc.interruptibly(calls.join(id, null));
    }

    /**
     * Waits up to {@code timeout} for the process to end.
     *
     * @return true if it ended, false if it still runs when the timeout passed
     */
    public boolean join(Duration timeout) throws InterruptedException {
        return Rpc.interruptibly(calls.join(id, timeout)).ended();
    }

    /** Whether it is still starting or running. */
    public boolean isAlive() {
        return !calls.get(id).ended();
    }

    /**
     * How it ended: its exit code, or {@code -N} when signal N killed it (Python's convention); empty
     * while it runs, or if it never ran.
     */
    public OptionalInt exitCode() {
        return calls.get(id).exitCode();
    }

    /** SIGTERM to its process group, SIGKILL after the grace it was started with. */
    public void terminate() {
        calls.signal(id, false);
    }

    /** SIGKILL to its process group. */
    public void kill() {
        calls.signal(id, true);
    }

    /**
     * Restarts it, as {@code forkd restart} does: SIGTERM to its process group, SIGKILL after its
     * grace, then the same spec starts again under the same id (an ended process starts again at
     * once). Waits until the new run has started; {@link #pid()} is then the new one.
     */
    public void restart() throws InterruptedException {
        Rpc.interruptibly(calls.restart(id));
    }

    /** Forgets an ended process on the server. */
    public void delete() {
        calls.delete(id);
    }

    /** Its stdout from the start (as far as the server kept it) to its end, as it comes. */
    public InputStream stdout() {
        return new ProcessOutputStream(calls, id, false);
    }

    /** Its stderr, as {@link #stdout()}. */
    public InputStream stderr() {
        return new ProcessOutputStream(calls, id, true);
    }

    /**
     * Both output streams as chunks, to each subscriber from the start to the process's end; a
     * subscriber's demand is the stream's flow control, so a slow one holds the server back rather than
     * being flooded.
     */
    public Flow.Publisher<OutputChunk> output() {
        return new WatchPublisher<dev.forkd.v1.WatchProcessRequest, dev.forkd.v1.WatchProcessResponse, OutputChunk>(
                observer -> calls.watch(id, true, observer),
                response -> ProcessCalls.event(response) instanceof ProcessCalls.Event.Output(OutputChunk chunk)
                        ? java.util.Optional.of(chunk) : java.util.Optional.empty());
    }

    /**
     * Its stdin, for a process started {@link ProcessSpec#withStdin() with stdin}: writes wait while the
     * transport is full; {@code close()} closes the child's stdin (it reads end-of-file).
     */
    public OutputStream stdin() {
        return new ProcessStdin(calls, id);
    }

    @Override
    public String toString() {
        return "ForkdProcess[" + id + "]";
    }
}
