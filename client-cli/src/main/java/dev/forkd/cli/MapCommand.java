package dev.forkd.cli;

import com.google.protobuf.ByteString;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.MapRequest;
import dev.forkd.v1.MapResponse;
import dev.forkd.v1.MapStart;
import dev.forkd.v1.PoolInfo;
import dev.forkd.v1.ResultOrder;
import dev.forkd.v1.TaskFailureKind;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.TaskResult;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code forkd map}: GNU parallel over a forkd pool. Items stream through one Map call with flow
 * control both ways, so neither side holds more than the server's window of them.
 */
@Command(name = "map", mixinStandardHelpOptions = true,
        description = {"Run CMD once per item on a pool of workers, like GNU parallel, and print each result (stdout).",
            "Items: the words after ':::', else stdin, one per line (NUL-terminated with --null).",
            "{} is the item, {#} its index from 0; with no {} the item is the last argument.",
            "Results come as tasks finish, or in input order with --keep-order; a failed task is one line on stderr.",
            "Workers inherit your environment (as local commands do) unless --clean-env.",
            "Exit codes: 0 every task succeeded; 1-101 that many failed (101: 101 or more); 2 usage;",
            "3 no server. A refused request (unknown pool) also exits 1, with its reason on stderr."},
        sortOptions = false)
final class MapCommand extends ClientCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    /** The most failed tasks the exit status counts, as GNU parallel. */
    static final int MAX_FAILED_STATUS = 101;
    /** Items per request message; a message also goes out as soon as stdin has nothing buffered. */
    private static final int ITEMS_PER_MESSAGE = 512;
    private static final int BYTES_PER_MESSAGE = 256 * 1024;
    /** Characters of a failed task's stderr tail shown on its line. */
    private static final int TAIL_CHARS = 300;

    @Mixin
    PoolOptions poolOptions;

    @Option(names = "--clean-env", description = "Do not pass your environment to the workers: they get forkd's FORKD_*"
            + " and a default PATH only. The server's environment is never passed.")
    boolean cleanEnv;

    @Option(names = {"-k", "--keep-order"}, description = "Print results in input order (default: as they finish).")
    boolean keepOrder;

    @Option(names = {"-0", "--null"}, description = "Items on stdin end with NUL, not newline.")
    boolean nul;

    @Option(names = "--halt-on-error", description = "After the first failed task, start no more; the running ones finish.")
    boolean haltOnError;

    @Option(names = "--joblog", paramLabel = "FILE",
            description = "Log each task, tab-separated like GNU parallel's --joblog (Seq, Host, Starttime, JobRuntime, "
                    + "Send, Receive, Exitval, Signal, Command).")
    Path joblog;

    @Option(names = "--pool", paramLabel = "POOL", description = "Use this existing pool (see 'forkd pool create'); no CMD.")
    String pool;

    @Option(names = "--chunksize", paramLabel = "N", description = "Items sent to one worker at once (default 1).")
    int chunksize;

    @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Show progress on stderr when it is a terminal (default); --no-progress never does.")
    boolean progress;

    @Parameters(paramLabel = "CMD", arity = "0..*",
            description = "The command and its arguments, then optionally '::: ITEM...'.")
    List<String> words = List.of();

    @Override
    int run(ForkdClient client, Invocation inv) throws Exception {
        int sep = words.indexOf(":::");
        List<String> command = sep < 0 ? words : words.subList(0, sep);
        Optional<List<String>> argItems = sep < 0 ? Optional.empty() : Optional.of(words.subList(sep + 1, words.size()));
        if (argItems.isPresent() && argItems.get().contains(":::")) {
            throw usage("only one ':::' list of items is supported");
        }
        MapStart.Builder start = MapStart.newBuilder()
                .setOrder(keepOrder ? ResultOrder.RESULT_ORDER_INPUT : ResultOrder.RESULT_ORDER_COMPLETION)
                .setHaltOnError(haltOnError);
        if (chunksize < 0) {
            throw usage("--chunksize must be at least 1");
        }
        start.setChunksize(chunksize);
        if (pool != null) {
            if (!command.isEmpty()) {
                throw usage("--pool runs the pool's own command: give no CMD");
            }
            if (cleanEnv) {
                // The pool's workers were started with their environment when the pool was created.
                throw usage("--clean-env shapes a new pool's workers; --pool's workers already have their environment");
            }
            if (poolOptions.anyGiven()) {
                throw usage("-j, --persistent, --retries, --timeout and the other pool options shape a new pool;"
                        + " --pool uses an existing one");
            }
            start.setName(pool);
        } else {
            if (command.isEmpty()) {
                throw usage("missing CMD: forkd map [OPTIONS] -- CMD [ARG...] [::: ITEM...]");
            }
            var create = poolOptions.create(command);
            if (!cleanEnv) {
                create.getWorkerBuilder().putAllEnv(CallerEnvironment.inherited(inv.env()));
            }
            start.setCreate(create);
        }
        if (joblog != null && joblog.toString().isEmpty()) {
            throw usage("--joblog needs a file name");
        }
        ItemSource items = argItems.isPresent() ? ItemSource.of(argItems.get()) : ItemSource.of(new Items(inv.in(), nul));
        long total = argItems.map(List::size).orElse(-1);

        Printer printer = new Printer(inv, openJoblog(inv), progress && stderrIsTerminal(inv), total);
        MapStream stream = new MapStream(start.build(), printer);
        client.poolsAsync().map(stream);
        Thread feeder = Thread.ofPlatform().daemon().name("forkd-map-items").start(() -> stream.feed(items));
        try {
            stream.done.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException s) {
                throw s;
            }
            if (e.getCause() instanceof CliFailure f) {
                throw f;
            }
            throw e;
        } finally {
            feeder.interrupt();
            printer.finish();
        }
        return Math.min(printer.failed, MAX_FAILED_STATUS);
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private Optional<PrintStream> openJoblog(Invocation inv) {
        if (joblog == null) {
            return Optional.empty();
        }
        Path file = inv.cwd().resolve(joblog);
        try {
            return Optional.of(new PrintStream(Files.newOutputStream(file), false, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CliFailure("cannot write joblog " + file + ": " + e.getMessage(), ExitCodes.USAGE, e);
        }
    }

    /**
     * Whether stderr is a terminal. Only a real CLI process asks (tests hand in their own streams);
     * Linux names a terminal's file descriptor /dev/pts/N or /dev/ttyN.
     */
    private static boolean stderrIsTerminal(Invocation inv) {
        if (!inv.forwardSignals()) {
            return false;
        }
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Where items come from: the ':::' words, or stdin. */
    private interface ItemSource {
        /** The next item, empty at the end; may block on stdin. */
        Optional<byte[]> next() throws IOException;

        /** Whether the next item is at hand without blocking (else what is gathered goes out now). */
        boolean buffered();

        static ItemSource of(List<String> words) {
            Iterator<String> it = words.iterator();
            return new ItemSource() {
                @Override
                public Optional<byte[]> next() {
                    return it.hasNext() ? Optional.of(it.next().getBytes(StandardCharsets.UTF_8)) : Optional.empty();
                }

                @Override
                public boolean buffered() {
                    return true;
                }
            };
        }

        static ItemSource of(Items in) {
            return new ItemSource() {
                @Override
                public Optional<byte[]> next() throws IOException {
                    return in.next();
                }

                @Override
                public boolean buffered() {
                    return in.buffered();
                }
            };
        }
    }

    /**
     * The Map call. The feeder thread sends items only while the call is ready (so the server's
     * window holds it back); results are printed on the call's thread as they arrive.
     */
    private final class MapStream implements ClientResponseObserver<MapRequest, MapResponse> {

        final CompletableFuture<Void> done = new CompletableFuture<>();
        private final MapStart start;
        private final Printer printer;
        private final Object readiness = new Object();
        private ClientCallStreamObserver<MapRequest> requests;

        MapStream(MapStart start, Printer printer) {
            this.start = start;
            this.printer = printer;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<MapRequest> requestStream) {
            this.requests = requestStream;
            requestStream.setOnReadyHandler(() -> {
                synchronized (readiness) {
                    readiness.notifyAll();
                }
            });
        }

        /** Runs on the feeder thread: every request-side call is made here. */
        void feed(ItemSource items) {
            try {
                requests.onNext(MapRequest.newBuilder().setStart(start).build());
                long index = 0;
                MapRequest.Builder msg = MapRequest.newBuilder();
                int bytes = 0;
                for (Optional<byte[]> next = items.next(); next.isPresent() && !done.isDone(); next = items.next()) {
                    byte[] item = next.get();
                    printer.sent(index++, item);
                    msg.addItems(TaskInput.newBuilder().setItem(ByteString.copyFrom(item)));
                    bytes += item.length;
                    if (msg.getItemsCount() >= ITEMS_PER_MESSAGE || bytes >= BYTES_PER_MESSAGE || !items.buffered()) {
                        if (!send(msg.build())) {
                            return;
                        }
                        msg = MapRequest.newBuilder();
                        bytes = 0;
                    }
                }
                if (msg.getItemsCount() > 0 && !send(msg.build())) {
                    return;
                }
                printer.inputEnded(index);
                if (!done.isDone()) {
                    requests.onCompleted();
                }
            } catch (IOException e) {
                CliFailure f = new CliFailure("cannot read items from stdin: " + e.getMessage(), ExitCodes.ERROR, e);
                requests.cancel("the client failed reading items", f);
                done.completeExceptionally(f);
            } catch (RuntimeException e) {
                requests.cancel("the client failed", e);
                done.completeExceptionally(e);
            }
        }

        private boolean send(MapRequest msg) {
            synchronized (readiness) {
                while (!requests.isReady() && !done.isDone()) {
                    try {
                        readiness.wait(1000); // woken by the ready handler; the limit only re-checks done
                    } catch (InterruptedException e) {
                        return false;
                    }
                }
            }
            if (done.isDone()) {
                return false;
            }
            requests.onNext(msg);
            return true;
        }

        @Override
        public void onNext(MapResponse r) {
            if (r.hasPool()) {
                printer.pool(r.getPool());
            }
            for (TaskResult result : r.getResultsList()) {
                printer.result(result);
            }
            if (r.getHalted()) {
                printer.halted();
            }
            printer.flush();
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
            synchronized (readiness) {
                readiness.notifyAll();
            }
        }

        @Override
        public void onCompleted() {
            done.complete(null);
            synchronized (readiness) {
                readiness.notifyAll();
            }
        }
    }

    /** Prints results, failure lines, the joblog and the progress line. Called on the call's thread. */
    private final class Printer {

        private final Invocation inv;
        private final Optional<PrintStream> log;
        private final boolean bar;
        private final long startNanos = System.nanoTime();
        /** Items sent and not yet answered, by index: for failure lines and the joblog. */
        private final ConcurrentHashMap<Long, byte[]> inFlight = new ConcurrentHashMap<>();
        private volatile long total;
        private long doneCount;
        int failed;
        private long lastDraw;
        /** The serving pool's worker, from the stream's first message (it decides how results end). */
        private volatile WorkerSpec worker = WorkerSpec.getDefaultInstance();

        Printer(Invocation inv, Optional<PrintStream> log, boolean bar, long total) {
            this.inv = inv;
            this.log = log;
            this.bar = bar;
            this.total = total;
            log.ifPresent(l -> l.println("Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand"));
        }

        void pool(PoolInfo info) {
            worker = info.getWorker();
        }

        void sent(long index, byte[] item) {
            inFlight.put(index, item);
        }

        void inputEnded(long count) {
            total = count;
        }

        synchronized void result(TaskResult r) {
            byte[] item = inFlight.remove(r.getIndex());
            String text = item == null ? "" : new String(item, StandardCharsets.UTF_8);
            doneCount++;
            if (r.hasFailure()) {
                failed++;
                clearBar();
                inv.err().println("forkd: item " + r.getIndex() + " (" + quote(text) + ") failed: " + cause(r));
            } else {
                byte[] out = r.getOutput().toByteArray();
                clearBar();
                inv.out().write(out, 0, out.length);
                if (persistent() && (out.length == 0 || out[out.length - 1] != '\n')) {
                    inv.out().write('\n');
                }
            }
            log.ifPresent(l -> l.println(joblogLine(r, text)));
        }

        /** The stream's last message: every started task has answered, so the items left never ran. */
        synchronized void halted() {
            clearBar();
            inv.err().println("forkd: halted after a failed task; " + inFlight.size() + " item(s) taken were not run"
                    + (total < 0 ? " (nor the rest of stdin)" : ""));
        }

        synchronized void flush() {
            inv.out().flush();
            drawBar(false);
            inv.err().flush();
        }

        synchronized void finish() {
            if (bar && doneCount > 0) {
                drawBar(true);
                inv.err().println();
            }
            log.ifPresent(PrintStream::close);
            inv.out().flush();
            inv.err().flush();
        }

        /** A persistent worker's result is a line without its newline; a per-task result is stdout as it is. */
        private boolean persistent() {
            return worker.getKind() == WorkerKind.WORKER_KIND_PERSISTENT;
        }

        private String cause(TaskResult r) {
            var f = r.getFailure();
            String how = switch (f.getKind()) {
                case TASK_FAILURE_KIND_EXIT -> f.getExitCode() < 0 ? "killed by signal " + -f.getExitCode()
                        : "exit code " + f.getExitCode();
                default -> f.getMessage().isEmpty() ? f.getKind().name() : f.getMessage();
            };
            if (r.getAttempts() > 1 && f.getKind() == TaskFailureKind.TASK_FAILURE_KIND_EXIT) {
                how += " (after " + r.getAttempts() + " attempts)"; // the server's other messages count them
            }
            String tail = tail(f.getStderrTail().toStringUtf8());
            return tail.isEmpty() ? how : how + ": " + tail;
        }

        private String joblogLine(TaskResult r, String item) {
            long code = 0;
            long signal = 0;
            if (r.hasFailure()) {
                int c = r.getFailure().getExitCode();
                if (c < 0) {
                    code = -1;
                    signal = -c;
                } else {
                    code = c == 0 ? -1 : c; // failed without an exit code (start, timeout, lost worker)
                }
            }
            String started = r.hasStartedAt() ? String.format("%d.%03d", r.getStartedAt().getSeconds(),
                    r.getStartedAt().getNanos() / 1_000_000) : "0";
            String runtime = String.format("%.3f", r.hasRuntime()
                    ? r.getRuntime().getSeconds() + r.getRuntime().getNanos() / 1e9 : 0.0);
            long received = r.hasFailure() ? 0 : r.getOutput().size();
            String host = r.getAgentId().isEmpty() ? ":" : r.getAgentId();
            return (r.getIndex() + 1) + "\t" + host + "\t" + started + "\t" + runtime + "\t"
                    + item.getBytes(StandardCharsets.UTF_8).length + "\t" + received + "\t" + code + "\t" + signal
                    + "\t" + commandFor(r.getIndex(), item).replace('\t', ' ').replace('\n', ' ');
        }

        /** The command line the task ran, as GNU parallel logs it (approximately: placeholders filled in). */
        private String commandFor(long index, String item) {
            if (persistent()) {
                return item;
            }
            List<String> argv = worker.getArgvList();
            if (worker.getStdinItem()) {
                return ProcessText.command(argv);
            }
            List<String> filled = new ArrayList<>(argv.size());
            for (String a : argv) {
                filled.add(a.replace("{#}", Long.toString(index)).replace("{}", item).replace("{1}", item));
            }
            return ProcessText.command(filled);
        }

        private void clearBar() {
            if (bar) {
                inv.err().print("\r\033[K");
            }
        }

        private void drawBar(boolean force) {
            if (!bar) {
                return;
            }
            long now = System.nanoTime();
            if (!force && now - lastDraw < 200_000_000L) {
                return;
            }
            lastDraw = now;
            double seconds = Math.max(1e-3, (now - startNanos) / 1e9);
            double rate = doneCount / seconds;
            long t = total;
            StringBuilder b = new StringBuilder("\r\033[K");
            if (t >= 0) {
                int width = 30;
                int filled = t == 0 ? width : (int) (width * Math.min(1.0, (double) doneCount / t));
                b.append('[').append("#".repeat(filled)).append(".".repeat(width - filled)).append("] ");
                b.append(doneCount).append('/').append(t);
            } else {
                b.append(doneCount).append("/?");
            }
            b.append(String.format("  %.1f/s", rate));
            if (failed > 0) {
                b.append("  ").append(failed).append(" failed");
            }
            if (t >= 0 && rate > 0 && doneCount < t) {
                b.append("  ETA ").append(ProcessText.shortDuration(java.time.Duration.ofMillis(
                        (long) ((t - doneCount) / rate * 1000))));
            }
            inv.err().print(b);
        }
    }

    static String quote(String item) {
        String s = item.length() > 80 ? item.substring(0, 77) + "..." : item;
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    /** The last lines of a stderr tail on one line, at most {@value #TAIL_CHARS} characters. */
    static String tail(String stderr) {
        String s = stderr.strip().replace("\r", "");
        if (s.isEmpty()) {
            return "";
        }
        String[] lines = s.split("\n");
        StringBuilder b = new StringBuilder();
        for (int i = lines.length - 1; i >= 0 && b.length() < TAIL_CHARS; i--) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            b.insert(0, b.isEmpty() ? line : line + " | ");
        }
        return b.length() > TAIL_CHARS ? "..." + b.substring(b.length() - TAIL_CHARS) : b.toString();
    }
}
