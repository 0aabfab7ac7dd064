package dev.forkd.server.pool;

import dev.forkd.server.limits.ResourceLimits;
import dev.forkd.server.pool.TaskResult.FailureKind;
import dev.forkd.server.pool.TaskResult.Outcome;
import dev.forkd.server.process.ProcessSpec;
import dev.forkd.server.process.RestartSpec;
import dev.forkd.server.store.StoreException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * How pools' records are kept in the state store: a version byte, then the fields in a fixed
 * order. A record of a later version than this server knows is refused, never misread.
 */
final class PoolCodec {

    static final int VERSION = 1;

    private PoolCodec() {
    }

    /** A pool's definition and where it is in its life. */
    record PoolRecord(String id, PoolSpec spec, Pool.Phase phase, Instant createdAt) {}

    /** A kept ApplyAsync result; {@code refusedBytes >= 0} when the memory budget could not hold it. */
    record ResultRecord(TaskResult result, long refusedBytes) {}

    static byte[] pool(PoolRecord p) {
        return write(out -> {
            string(out, p.id());
            PoolSpec s = p.spec();
            optional(out, s.name());
            out.writeInt(s.processes());
            out.writeByte(s.kind().ordinal());
            out.writeByte(s.framing().ordinal());
            out.writeBoolean(s.stdinItem());
            worker(out, s.worker());
            out.writeInt(s.maxTasksPerChild());
            strings(out, s.initializer());
            out.writeBoolean(s.taskTimeout().isPresent());
            if (s.taskTimeout().isPresent()) {
                duration(out, s.taskTimeout().get());
            }
            out.writeInt(s.maxRetries());
            out.writeBoolean(s.retryFailed());
            map(out, s.labels());
            out.writeByte(p.phase().ordinal());
            out.writeLong(p.createdAt().getEpochSecond());
            out.writeInt(p.createdAt().getNano());
        });
    }

    static PoolRecord pool(byte[] bytes) {
        return read(bytes, in -> {
            String id = string(in);
            Optional<String> name = optional(in);
            int processes = in.readInt();
            PoolSpec.Kind kind = PoolSpec.Kind.values()[in.readByte()];
            PoolSpec.Framing framing = PoolSpec.Framing.values()[in.readByte()];
            boolean stdinItem = in.readBoolean();
            ProcessSpec worker = worker(in);
            int maxTasks = in.readInt();
            List<String> initializer = strings(in);
            Optional<Duration> timeout = in.readBoolean() ? Optional.of(duration(in)) : Optional.empty();
            int maxRetries = in.readInt();
            boolean retryFailed = in.readBoolean();
            Map<String, String> labels = map(in);
            Pool.Phase phase = Pool.Phase.values()[in.readByte()];
            Instant createdAt = Instant.ofEpochSecond(in.readLong(), in.readInt());
            return new PoolRecord(id, new PoolSpec(name, processes, kind, framing, stdinItem, worker, maxTasks,
                    initializer, timeout, maxRetries, retryFailed, labels, false), phase, createdAt);
        });
    }

    static byte[] input(TaskInput input) {
        return write(out -> {
            bytes(out, input.item());
            strings(out, input.args());
        });
    }

    static TaskInput input(byte[] bytes) {
        return read(bytes, in -> new TaskInput(bytes(in), strings(in)));
    }

    static byte[] result(ResultRecord rec) {
        TaskResult r = rec.result();
        return write(out -> {
            out.writeLong(r.index());
            switch (r.outcome()) {
                case Outcome.Output o -> {
                    out.writeByte(0);
                    bytes(out, o.data());
                    bytes(out, o.stderr());
                }
                case Outcome.Failure f -> {
                    out.writeByte(1);
                    out.writeByte(f.kind().ordinal());
                    out.writeInt(f.exitCode());
                    bytes(out, f.stderrTail());
                    string(out, f.message());
                    bytes(out, f.stdout());
                    bytes(out, f.stderr());
                }
            }
            out.writeInt(r.attempts());
            string(out, r.processId());
            out.writeInt(r.pid());
            string(out, r.agentId());
            out.writeLong(r.startedAt().getEpochSecond());
            out.writeInt(r.startedAt().getNano());
            duration(out, r.runtime());
            out.writeLong(rec.refusedBytes());
        });
    }

    static ResultRecord result(byte[] bytes) {
        return read(bytes, in -> {
            long index = in.readLong();
            Outcome outcome = in.readByte() == 0 ? new Outcome.Output(bytes(in), bytes(in))
                    : new Outcome.Failure(FailureKind.values()[in.readByte()], in.readInt(), bytes(in), string(in),
                            bytes(in), bytes(in));
            int attempts = in.readInt();
            String processId = string(in);
            int pid = in.readInt();
            String agentId = string(in);
            Instant startedAt = Instant.ofEpochSecond(in.readLong(), in.readInt());
            Duration runtime = duration(in);
            return new ResultRecord(new TaskResult(index, outcome, attempts, processId, pid, agentId, startedAt,
                    runtime), in.readLong());
        });
    }

    private static void worker(DataOutputStream out, ProcessSpec w) throws IOException {
        strings(out, w.argv());
        map(out, w.env());
        optional(out, w.cwd());
        out.writeLong(w.outputLimit());
        ResourceLimits l = w.limits();
        for (OptionalLong v : List.of(l.openFiles(), l.addressSpaceBytes(), l.cpuSeconds(), l.coreBytes(),
                l.processes(), l.memoryMaxBytes(), l.pidsMax())) {
            out.writeBoolean(v.isPresent());
            out.writeLong(v.orElse(0));
        }
        out.writeBoolean(l.cpuMax().isPresent());
        out.writeDouble(l.cpuMax().orElse(0));
    }

    private static ProcessSpec worker(DataInputStream in) throws IOException {
        List<String> argv = strings(in);
        Map<String, String> env = map(in);
        Optional<String> cwd = optional(in);
        long outputLimit = in.readLong();
        OptionalLong[] v = new OptionalLong[7];
        for (int i = 0; i < v.length; i++) {
            boolean present = in.readBoolean();
            long value = in.readLong();
            v[i] = present ? OptionalLong.of(value) : OptionalLong.empty();
        }
        boolean cpuPresent = in.readBoolean();
        double cpu = in.readDouble();
        ResourceLimits limits = new ResourceLimits(v[0], v[1], v[2], v[3], v[4], v[5],
                cpuPresent ? OptionalDouble.of(cpu) : OptionalDouble.empty(), v[6]);
        // Only what the pool uses of a worker's spec is kept: the rest is set per process.
        return new ProcessSpec(argv, env, cwd, Optional.empty(), Map.of(), false, false, Optional.empty(),
                RestartSpec.NEVER, outputLimit, Duration.ofSeconds(1), Optional.empty(), false, limits);
    }

    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    private static byte[] write(Writer w) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            w.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen: memory
        }
        return bytes.toByteArray();
    }

    private static <T> T read(byte[] bytes, Reader<T> r) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            int version = in.readUnsignedByte();
            if (version != VERSION) {
                throw new StoreException("a pool record of version " + version + " (this server reads "
                        + VERSION + "): written by a newer forkd?");
            }
            return r.read(in);
        } catch (IOException | RuntimeException e) {
            if (e instanceof StoreException s) {
                throw s;
            }
            throw new StoreException("a pool record could not be read: " + e, e);
        }
    }

    private static void bytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] bytes(DataInputStream in) throws IOException {
        return in.readNBytes(in.readInt());
    }

    /** Strings as UTF-8 byte arrays: writeUTF stops at 64 KiB, an argument or env value may not. */
    private static void string(DataOutputStream out, String s) throws IOException {
        bytes(out, s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static String string(DataInputStream in) throws IOException {
        return new String(bytes(in), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static void strings(DataOutputStream out, List<String> list) throws IOException {
        out.writeInt(list.size());
        for (String s : list) {
            string(out, s);
        }
    }

    private static List<String> strings(DataInputStream in) throws IOException {
        int n = in.readInt();
        List<String> list = new ArrayList<>(Math.min(n, 1024));
        for (int i = 0; i < n; i++) {
            list.add(string(in));
        }
        return list;
    }

    private static void map(DataOutputStream out, Map<String, String> m) throws IOException {
        out.writeInt(m.size());
        for (var e : m.entrySet()) {
            string(out, e.getKey());
            string(out, e.getValue());
        }
    }

    private static Map<String, String> map(DataInputStream in) throws IOException {
        int n = in.readInt();
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            m.put(string(in), string(in));
        }
        return m;
    }

    private static void optional(DataOutputStream out, Optional<String> s) throws IOException {
        out.writeBoolean(s.isPresent());
        if (s.isPresent()) {
            string(out, s.get());
        }
    }

    private static Optional<String> optional(DataInputStream in) throws IOException {
        return in.readBoolean() ? Optional.of(string(in)) : Optional.empty();
    }

    private static void duration(DataOutputStream out, Duration d) throws IOException {
        out.writeLong(d.getSeconds());
        out.writeInt(d.getNano());
    }

    private static Duration duration(DataInputStream in) throws IOException {
        return Duration.ofSeconds(in.readLong(), in.readInt());
    }
}
