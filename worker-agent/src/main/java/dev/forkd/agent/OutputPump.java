package dev.forkd.agent;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.LongSupplier;

import com.google.protobuf.ByteString;
import dev.forkd.posix.Epoll;
import dev.forkd.posix.EventFd;
import dev.forkd.posix.Posix;
import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.ChildExited;
import dev.forkd.agent.v1.ChildOutput;
import dev.forkd.v1.OutputStream;

/**
 * One thread, one epoll, all children's pipes: reads stdout and stderr in chunks of up to 256 KiB
 * while the supervisor stream is ready, writes queued stdin, and sends each child's ChildExited
 * once its exit is known and its output pipes are closed, so the exit always follows all output.
 *
 * <p>Pipes are registered edge-triggered: an edge puts a pipe in the {@code readable} queue and it
 * stays there until a read finds it empty. That way the loop can stop reading when the stream is
 * not ready (leaving data in the kernel pipe, which then blocks the child) and wait in epoll
 * without epoll reporting the same pipes again and again.
 */
final class OutputPump implements Runnable {
    /**
     * The largest read, and so the largest output message. Output pays per message (a frame, a
     * wake-up of each thread on the way, a watcher pass), so a quarter as many messages for the same
     * bytes; the child's stdout pipe is sized to match (ChildLauncher).
     */
    static final int CHUNK = 256 * 1024;
    private static final long WAKE_TOKEN = 0;
    /** Reads per pass before commands, deadlines and stdin get their turn again. */
    private static final int READS_PER_PASS = 64;

    private final Posix posix;
    private final Epoll epoll;
    private final EventFd wake;
    private final SupervisorLink link;
    private final ChildTable table;
    private final LongSupplier nanoClock;
    private final long drainNanos;
    /**
     * Watch and Exit commands. Each child in the table puts at most one of each here and stays in
     * the table until both are taken, so twice the capacity is enough and offer never fails.
     */
    private final BlockingQueue<PumpCommand> lifecycle;
    /** Stdin writes; a full queue makes the dispatching thread wait for this (never-blocking) loop. */
    private final BlockingQueue<PumpCommand.Stdin> stdinRequests = new ArrayBlockingQueue<>(256);
    /** Hold and resume requests; a full queue makes the dispatching thread wait, like stdin. */
    private final BlockingQueue<PumpCommand.Hold> holdRequests = new ArrayBlockingQueue<>(256);

    private final Map<Long, PipeReader> readers = new HashMap<>();
    private final Map<Long, StdinWriter> writers = new HashMap<>();
    private final Map<ChildKey, PumpedChild> children = new HashMap<>();
    private final ArrayDeque<PipeReader> readable = new ArrayDeque<>();
    private final ArrayDeque<StdinWriter> writable = new ArrayDeque<>();
    /** Exited children whose pipes are not yet at EOF, in order of their (equal-length) deadlines. */
    private final ArrayDeque<PumpedChild> draining = new ArrayDeque<>();
    private long nextToken = 1;
    private volatile boolean stopped;

    OutputPump(Posix posix, Epoll epoll, EventFd wake, SupervisorLink link, ChildTable table,
               LongSupplier nanoClock, Duration drainAfterExit) {
        this.posix = posix;
        this.epoll = epoll;
        this.wake = wake;
        this.link = link;
        this.table = table;
        this.nanoClock = nanoClock;
        this.drainNanos = drainAfterExit.toNanos();
        this.lifecycle = new ArrayBlockingQueue<>(2 * table.capacity());
    }

    /** Called with the table lock held, right after ChildStarted was sent. */
    void watch(Child child) {
        offer(new PumpCommand.Watch(child));
    }

    /** Called by the reaper once the child's leader has ended and its group was killed. */
    void exited(Child child, int exitCode) {
        offer(new PumpCommand.Exit(child, exitCode));
    }

    /** Queues a stdin write; waits only if the pump is 256 writes behind. */
    void writeStdin(ChildKey key, ByteString data, boolean close) throws InterruptedException {
        stdinRequests.put(new PumpCommand.Stdin(key, data, close));
        wake.signal();
    }

    /** Stops or resumes reading a child's output pipes. */
    void hold(ChildKey key, boolean hold) {
        try {
            holdRequests.put(new PumpCommand.Hold(key, hold));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        wake.signal();
    }

    /** Ends the loop (pipes still open stay open: for tests and a process that is exiting anyway). */
    void stop() {
        stopped = true;
        wake.signal();
    }

    /** Called when the stream became ready again (and whenever the loop should look around). */
    void wakeUp() {
        wake.signal();
    }

    private void offer(PumpCommand command) {
        if (!lifecycle.offer(command)) {
            throw new IllegalStateException("pump lifecycle queue full: more children than the capacity");
        }
        wake.signal();
    }

    @Override
    public void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment readBuf = arena.allocate(CHUNK, 64);
            MemorySegment writeBuf = arena.allocate(CHUNK, 64);
            MemorySegment scratch = arena.allocate(8, 8);
            epoll.add(wake.fd(), Epoll.IN, WAKE_TOKEN);
            while (!stopped) {
                takeCommands();
                closeOverdue();
                writeStdin(writeBuf);
                readOutput(readBuf);
                int ready = epoll.await(timeoutMillis());
                for (int i = 0; i < ready; i++) {
                    dispatch(epoll.token(i), scratch);
                }
            }
        }
    }

    private void takeCommands() {
        PumpCommand command;
        while ((command = lifecycle.poll()) != null || (command = stdinRequests.poll()) != null
                || (command = holdRequests.poll()) != null) {
            switch (command) {
                case PumpCommand.Watch w -> watchNow(w.child());
                case PumpCommand.Exit e -> exitNow(e.child(), e.exitCode());
                case PumpCommand.Stdin s -> stdinNow(s);
                case PumpCommand.Hold h -> holdNow(h);
            }
        }
    }

    private void watchNow(Child child) {
        Optional<StdinWriter> stdin = Optional.empty();
        if (child.stdinFd() >= 0) {
            StdinWriter writer = new StdinWriter(posix, link, child.key(), child.stdinFd(), nextToken++);
            writers.put(writer.token, writer);
            epoll.add(writer.fd(), Epoll.OUT | Epoll.EDGE_TRIGGERED, writer.token);
            stdin = Optional.of(writer);
        }
        PumpedChild pumped = new PumpedChild(child, stdin);
        children.put(child.key(), pumped);
        addReader(pumped, OutputStream.OUTPUT_STREAM_STDOUT, child.stdoutFd());
        addReader(pumped, OutputStream.OUTPUT_STREAM_STDERR, child.stderrFd());
    }

    private void addReader(PumpedChild owner, OutputStream kind, int fd) {
        PipeReader reader = new PipeReader(owner, kind, fd, nextToken++);
        owner.readers.add(reader);
        readers.put(reader.token, reader);
        epoll.add(fd, Epoll.IN | Epoll.EDGE_TRIGGERED, reader.token);
        // Output written before registration is read on the first pass rather than on an edge.
        reader.queued = true;
        readable.add(reader);
    }

    private void exitNow(Child child, int exitCode) {
        PumpedChild pumped = children.get(child.key());
        pumped.exitCode = java.util.OptionalInt.of(exitCode);
        pumped.drainDeadlineNanos = nanoClock.getAsLong() + drainNanos;
        if (!finishIfDone(pumped)) {
            draining.add(pumped);
        }
    }

    private void holdNow(PumpCommand.Hold request) {
        PumpedChild pumped = children.get(request.key());
        if (pumped == null || pumped.held == request.hold()) {
            return;
        }
        pumped.held = request.hold();
        if (!pumped.held) {
            // Edge-triggered epoll does not fire again for data already waiting: read each pipe once.
            for (PipeReader reader : pumped.readers) {
                if (reader.open && !reader.queued) {
                    reader.queued = true;
                    readable.add(reader);
                }
            }
            // The drain deadline is for pipes held open by an escaped descendant, not by our hold.
            if (pumped.exitCode.isPresent()) {
                pumped.drainDeadlineNanos = nanoClock.getAsLong() + drainNanos;
            }
        }
    }

    private void stdinNow(PumpCommand.Stdin request) {
        PumpedChild pumped = children.get(request.key());
        if (pumped == null || pumped.exitCode.isPresent()) {
            link.send(StdinWriter.failedWrite(request.key(), "no running child " + request.key()));
        } else if (pumped.stdin.isEmpty()) {
            link.send(StdinWriter.failedWrite(request.key(),
                    "stdin of " + request.key() + " is not a pipe (start it with stdin_pipe)"));
        } else {
            StdinWriter writer = pumped.stdin.get();
            writer.enqueue(request.data(), request.close());
            if (writer.hasWork()) {
                writable.add(writer);
            }
        }
    }

    /** Past the drain deadline, pipes still open are held by a descendant that left the group. */
    private void closeOverdue() {
        long now = nanoClock.getAsLong();
        for (PumpedChild pumped : List.copyOf(draining)) {
            if (pumped.held || pumped.drainDeadlineNanos - now > 0) {
                continue;
            }
            draining.remove(pumped);
            for (PipeReader reader : pumped.readers) {
                if (reader.open) {
                    reader.closing = true;
                    if (!reader.queued) {
                        closeReader(reader);
                    }
                }
            }
        }
    }

    private void writeStdin(MemorySegment buf) {
        StdinWriter writer;
        while ((writer = writable.poll()) != null) {
            if (writer.isOpen() || writer.hasWork()) {
                writer.progress(buf);
            }
        }
    }

    private void readOutput(MemorySegment buf) {
        for (int reads = 0; reads < READS_PER_PASS && !readable.isEmpty() && link.isReady(); reads++) {
            PipeReader reader = readable.poll();
            if (!reader.open) {
                continue;
            }
            if (reader.owner.held) {
                reader.queued = false; // read again when the hold is lifted
                continue;
            }
            int n;
            try {
                n = posix.read(reader.fd, buf, CHUNK);
            } catch (IOException e) {
                n = 0;
            }
            if (n > 0) {
                send(reader, buf, n);
                if (reader.closing && (reader.closingBudget -= n) <= 0) {
                    closeReader(reader);
                } else {
                    readable.add(reader);
                }
            } else if (n == -2) {
                reader.queued = false;
                if (reader.closing) {
                    closeReader(reader);
                }
            } else {
                closeReader(reader);
            }
        }
    }

    private void send(PipeReader reader, MemorySegment buf, int n) {
        ChildKey key = reader.owner.child.key();
        long offset = reader.owner.sent;
        reader.owner.sent += n;
        // The one copy: native buffer into the message's bytes.
        link.send(AgentMessage.newBuilder().setOutput(ChildOutput.newBuilder()
                .setProcessId(key.processId()).setRun(key.run()).setStream(reader.kind).setOffset(offset)
                .setData(ByteString.copyFrom(buf.asSlice(0, n).asByteBuffer()))).build());
    }

    private void closeReader(PipeReader reader) {
        reader.open = false;
        reader.queued = false;
        readers.remove(reader.token);
        epoll.remove(reader.fd);
        posix.close(reader.fd);
        finishIfDone(reader.owner);
    }

    /** Sends ChildExited once the exit is known and all output was sent; then forgets the child. */
    private boolean finishIfDone(PumpedChild pumped) {
        if (pumped.exitCode.isEmpty() || !pumped.outputDone()) {
            return false;
        }
        pumped.stdin.ifPresent(writer -> {
            writer.abandon();
            writers.remove(writer.token);
        });
        ChildKey key = pumped.child.key();
        // Its slot is free before the supervisor can read the exit and send the next start.
        table.forget(pumped.child);
        link.send(AgentMessage.newBuilder().setExited(ChildExited.newBuilder()
                .setProcessId(key.processId()).setRun(key.run()).setPid(pumped.child.pid())
                .setExitCode(pumped.exitCode.getAsInt())).build());
        children.remove(key);
        draining.remove(pumped);
        table.exitSent();
        return true;
    }

    private int timeoutMillis() {
        if ((!readable.isEmpty() && link.isReady()) || !writable.isEmpty()
                || !lifecycle.isEmpty() || !stdinRequests.isEmpty() || !holdRequests.isEmpty()) {
            return 0;
        }
        long next = Long.MAX_VALUE;
        for (PumpedChild pumped : draining) {
            if (!pumped.held) {
                next = Math.min(next, pumped.drainDeadlineNanos);
            }
        }
        if (next == Long.MAX_VALUE) {
            return -1;
        }
        long nanos = next - nanoClock.getAsLong();
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, (nanos + 999_999) / 1_000_000));
    }

    private void dispatch(long token, MemorySegment scratch) {
        if (token == WAKE_TOKEN) {
            wake.clear(scratch);
            return;
        }
        PipeReader reader = readers.get(token);
        if (reader != null) {
            if (!reader.queued) {
                reader.queued = true;
                readable.add(reader);
            }
            return;
        }
        StdinWriter writer = writers.get(token);
        if (writer != null) {
            writer.becameWritable();
            if (writer.hasWork()) {
                writable.add(writer);
            }
        }
    }
}
