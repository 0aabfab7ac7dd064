package dev.forkd.server.process;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * One process's output on disk: two segments, {@code <id>.log} (written now) and {@code <id>.old.log}
 * (the one before), each at most half the process's output cap. When the current one would pass its
 * half, it becomes the old one (the previous old one is dropped) and a new one starts. So the files
 * hold at most the cap and at least the newest half of it.
 *
 * <p>Each chunk is a record: length (int), stream (byte: 0 stdout, 1 stderr), offset (long), the
 * time it was captured (epoch millis, long), then its bytes. The offset is the chunk's place in the
 * process's output, so a reader sees where output was dropped (a record that does not start where
 * the previous one ended), and a record cut short by a crash is ignored. Used by one thread at a time
 * (the {@link OutputFiles} writer, or a load before it starts).
 */
final class OutputSegments implements AutoCloseable {

    static final int HEADER = 4 + 1 + 8 + 8;

    /** A chunk read back from the files. */
    record Stored(OutputLog.Stream stream, long offset, long timeMillis, ByteBuffer data) {
        long end() {
            return offset + data.remaining();
        }
    }

    private final Path current;
    private final Path old;
    private final long half;
    private FileChannel channel;
    /** The chunk bytes (headers not counted) in the current segment. */
    private long bytes;

    OutputSegments(Path dir, String id, long cap) {
        this.current = dir.resolve(id + ".log");
        this.old = dir.resolve(id + ".old.log");
        this.half = Math.max(1, cap / 2);
    }

    /** Appends a chunk, keeping only its last half-cap bytes if it is longer. */
    void append(OutputLog.Stream stream, long offset, long timeMillis, ByteBuffer data) throws IOException {
        ByteBuffer body = data.duplicate();
        if (body.remaining() > half) {
            int skip = (int) (body.remaining() - half);
            body.position(body.position() + skip);
            offset += skip;
        }
        if (channel == null) {
            channel = FileChannel.open(current, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
            bytes = channel.size(); // headers counted too: a reopened segment rotates a little early
        }
        if (bytes > 0 && bytes + body.remaining() > half) {
            channel.close();
            Files.move(current, old, StandardCopyOption.REPLACE_EXISTING);
            channel = FileChannel.open(current, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
            bytes = 0;
        }
        ByteBuffer header = ByteBuffer.allocate(HEADER).putInt(body.remaining())
                .put((byte) (stream == OutputLog.Stream.STDERR ? 1 : 0)).putLong(offset).putLong(timeMillis).flip();
        ByteBuffer[] record = {header, body};
        long want = header.remaining() + body.remaining();
        long written = 0;
        while (written < want) {
            written += channel.write(record);
        }
        bytes += want - HEADER;
    }

    /** Closes the file (the next append opens it again). */
    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
        }
    }

    /** Closes and removes both segments. */
    void delete() throws IOException {
        close();
        Files.deleteIfExists(current);
        Files.deleteIfExists(old);
    }

    /**
     * The output the files hold, oldest first, as one run without holes: what comes before the last
     * place where output is missing (dropped on the way to the disk, or an old segment gone) is left
     * out, as a log drops its oldest output; a record cut short by a crash ends the read.
     */
    List<Stored> load() throws IOException {
        List<Stored> all = new ArrayList<>();
        read(old, all);
        read(current, all);
        List<Stored> run = new ArrayList<>();
        for (Stored s : all) {
            if (!run.isEmpty()) {
                long end = run.getLast().end();
                if (s.offset() > end) {
                    run.clear(); // a hole: only what follows it is one run
                } else if (s.end() <= end) {
                    continue; // already there
                } else if (s.offset() < end) {
                    int skip = (int) (end - s.offset());
                    s = new Stored(s.stream(), end, s.timeMillis(), s.data().slice(skip, s.data().remaining() - skip));
                }
            }
            run.add(s);
        }
        return run;
    }

    private static void read(Path file, List<Stored> into) throws IOException {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return;
        }
        ByteBuffer in = ByteBuffer.wrap(content);
        while (in.remaining() >= HEADER) {
            int length = in.getInt();
            byte stream = in.get();
            long offset = in.getLong();
            long time = in.getLong();
            if (length < 0 || length > in.remaining() || offset < 0 || stream > 1) {
                return; // cut short by a crash mid-write (or not ours): what follows is unreadable
            }
            ByteBuffer data = in.slice(in.position(), length).asReadOnlyBuffer();
            in.position(in.position() + length);
            into.add(new Stored(stream == 1 ? OutputLog.Stream.STDERR : OutputLog.Stream.STDOUT, offset, time, data));
        }
    }
}
