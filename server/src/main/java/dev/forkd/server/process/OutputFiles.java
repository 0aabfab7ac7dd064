package dev.forkd.server.process;

import dev.forkd.server.memory.MemoryBudget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The processes' output, kept as capped files under {@code <state-dir>/output} (one
 * {@link OutputSegments} per process) so that it survives a restart of the supervisor.
 *
 * <p>Writes never block the agent stream: {@link #append} queues the chunk (the same bytes the
 * in-memory {@link OutputLog} holds, not a copy) for one writer thread. The queue is bounded by
 * {@link #MAX_QUEUED_BYTES}, and what it holds is charged to the memory budget; a chunk that finds
 * either full is not written and counted ({@link #lostBytes()}), and the file shows the hole as
 * output dropped. {@link #close()} writes what is queued before it returns.
 */
public final class OutputFiles implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(OutputFiles.class.getName());

    /** The most chunk bytes waiting for the disk at once. */
    public static final long MAX_QUEUED_BYTES = 32L * 1024 * 1024;
    /** Files kept open between writes; more processes than this writing at once reopen theirs. */
    private static final int OPEN_FILES = 64;

    private sealed interface Op {
        record Append(String id, long cap, OutputLog.Stream stream, long offset, long timeMillis, ByteBuffer data)
                implements Op {}

        record Delete(String id) implements Op {}

        record Flush(CompletableFuture<Void> done) implements Op {}
    }

    private final Path dir;
    private final MemoryBudget memory;
    private final LongSupplier clockMillis;
    /** Run by the writer before each chunk it writes; a test holds it there, so chunks stay queued. */
    private final Runnable beforeWrite;
    private final ArrayDeque<Op> queue = new ArrayDeque<>();
    private long queuedBytes;
    private boolean closing;
    private final AtomicLong lost = new AtomicLong();
    private final Thread writer;
    /** The writer's open files, least recently written first. Writer thread only. */
    private final LinkedHashMap<String, OutputSegments> open = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, OutputSegments> eldest) {
            if (size() > OPEN_FILES) {
                closeQuietly(eldest.getValue());
                return true;
            }
            return false;
        }
    };

    private OutputFiles(Path dir, MemoryBudget memory, LongSupplier clockMillis, Runnable beforeWrite) {
        this.dir = dir;
        this.memory = memory;
        this.clockMillis = clockMillis;
        this.beforeWrite = beforeWrite;
        this.writer = dir == null ? null : Thread.ofPlatform().name("forkd-output-files").daemon().unstarted(this::run);
    }

    /** Keeps nothing: a server without a state directory. */
    public static OutputFiles none() {
        return new OutputFiles(null, MemoryBudget.unlimited(), () -> 0, () -> {});
    }

    /**
     * The files under {@code stateDir/output} (made {@code 0700} if missing); the writer starts now.
     */
    public static OutputFiles in(Path stateDir, MemoryBudget memory, LongSupplier clockMillis) throws IOException {
        return in(stateDir, memory, clockMillis, () -> {});
    }

    /** Like {@link #in(Path, MemoryBudget, LongSupplier)}; the writer runs {@code beforeWrite} before each chunk. */
    static OutputFiles in(Path stateDir, MemoryBudget memory, LongSupplier clockMillis, Runnable beforeWrite)
            throws IOException {
        Path dir = stateDir.resolve("output");
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        OutputFiles files = new OutputFiles(dir, memory, clockMillis, beforeWrite);
        files.writer.start();
        return files;
    }

    boolean keeps() {
        return dir != null;
    }

    /** The directory the files are in, if any. */
    public Optional<Path> directory() {
        return Optional.ofNullable(dir);
    }

    /** Chunk bytes not written because the queue or the memory budget was full. */
    public long lostBytes() {
        return lost.get();
    }

    /** Queues a chunk of {@code id}'s output at {@code offset}; never blocks. */
    void append(String id, long cap, OutputLog.Stream stream, long offset, ByteBuffer data) {
        if (dir == null || !data.hasRemaining()) {
            return;
        }
        long n = data.remaining();
        synchronized (queue) {
            if (!closing && queuedBytes + n <= MAX_QUEUED_BYTES && memory.tryReserve(n)) {
                queuedBytes += n;
                queue.add(new Op.Append(id, cap, stream, offset, clockMillis.getAsLong(), data.asReadOnlyBuffer()));
                queue.notifyAll();
                return;
            }
        }
        if (lost.getAndAdd(n) == 0) {
            LOG.warning("the output files fall behind (disk slow or memory budget full): output of " + id
                    + " not written to disk; forkd logs shows it until a restart (counted from now on, not logged again)");
        }
    }

    /** Removes {@code id}'s files (after what is queued for them). */
    void delete(String id) {
        if (dir == null) {
            return;
        }
        synchronized (queue) {
            // Not bounded by bytes: one per record forgotten, and the process table is bounded.
            queue.add(new Op.Delete(id));
            queue.notifyAll();
        }
    }

    /** Completes once every chunk queued before this call is written. */
    public CompletableFuture<Void> flushed() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (dir == null) {
            done.complete(null);
            return done;
        }
        synchronized (queue) {
            if (closing) {
                done.complete(null);
                return done;
            }
            queue.add(new Op.Flush(done));
            queue.notifyAll();
        }
        return done;
    }

    /**
     * What {@code id}'s files hold, as one run (see {@link OutputSegments#load}). For start-up, before
     * the process writes again; a file that cannot be read is said so and read as empty.
     */
    List<OutputSegments.Stored> load(String id) {
        if (dir == null) {
            return List.of();
        }
        try {
            return new OutputSegments(dir, id, Long.MAX_VALUE).load();
        } catch (IOException e) {
            LOG.warning("cannot read the kept output of " + id + ": " + e.getMessage());
            return List.of();
        }
    }

    /** Removes the files of every process not in {@code ids} (left by a crash, or a --fresh start). */
    void retainOnly(Set<String> ids) {
        if (dir == null) {
            return;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.log")) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                String id = name.substring(0, name.length() - (name.endsWith(".old.log") ? 8 : 4));
                if (!ids.contains(id)) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warning("cannot clean the output directory " + dir + ": " + e.getMessage());
        }
    }

    /** Writes what is queued, then stops the writer and closes the files. */
    @Override
    public void close() {
        if (dir == null) {
            return;
        }
        synchronized (queue) {
            closing = true;
            queue.notifyAll();
        }
        try {
            writer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        while (true) {
            Op op;
            synchronized (queue) {
                while (queue.isEmpty() && !closing) {
                    try {
                        queue.wait();
                    } catch (InterruptedException e) {
                        closing = true;
                    }
                }
                op = queue.poll();
                if (op == null) {
                    break; // closing, and all written
                }
                if (op instanceof Op.Append a) {
                    queuedBytes -= a.data().remaining();
                }
            }
            apply(op);
        }
        open.values().forEach(OutputFiles::closeQuietly);
        open.clear();
    }

    private void apply(Op op) {
        switch (op) {
            case Op.Append a -> {
                try {
                    beforeWrite.run();
                    open.computeIfAbsent(a.id(), id -> new OutputSegments(dir, id, a.cap()))
                            .append(a.stream(), a.offset(), a.timeMillis(), a.data());
                } catch (IOException | RuntimeException e) {
                    lost.addAndGet(a.data().remaining());
                    closeQuietly(open.remove(a.id()));
                    LOG.log(Level.FINE, "cannot write the output of " + a.id(), e);
                } finally {
                    memory.release(a.data().remaining());
                }
            }
            case Op.Delete d -> {
                OutputSegments s = open.remove(d.id());
                try {
                    (s != null ? s : new OutputSegments(dir, d.id(), Long.MAX_VALUE)).delete();
                } catch (IOException e) {
                    LOG.warning("cannot remove the output files of " + d.id() + ": " + e.getMessage());
                }
            }
            case Op.Flush f -> f.done().complete(null);
        }
    }

    private static void closeQuietly(OutputSegments s) {
        if (s == null) {
            return;
        }
        try {
            s.close();
        } catch (IOException e) {
            LOG.fine("cannot close an output file: " + e.getMessage());
        }
    }
}
