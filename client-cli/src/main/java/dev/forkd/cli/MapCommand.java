package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.MapStart;
import dev.forkd.v1.ResultOrder;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code forkd map}: GNU parallel over a forkd pool. Jobs stream through one Map call with flow
 * control both ways, so neither side holds more than the server's window of them. The jobs come
 * from {@link MapInputs}, the results go out through {@link MapPrinter}.
 */
@Command(name = "map", mixinStandardHelpOptions = true,
        description = {"Run CMD once per job on a pool of workers, like GNU parallel, and print each job's output.",
            "Jobs: every combination of the values after each ':::' (the last source varying fastest);",
            "a source after ':::+' is paired value by value with the one before it (the shorter decides).",
            "Without ':::', each line of stdin is a job (NUL-terminated with --null).",
            "{} is the job's arguments (joined by spaces), {1} {2} ... one source's value each, {#} the job number",
            "from 1; with no {} or {N} the arguments are appended.",
            "Each job's stdout is printed whole, then its stderr, failed or not; a failed job adds one line on stderr.",
            "Results come as jobs finish, or in input order with --keep-order.",
            "Workers inherit your environment (as local commands do) unless --clean-env.",
            "Exit codes: 0 every job succeeded; 1-101 that many failed (101: 101 or more); 2 usage;",
            "3 no server. A refused request (unknown pool) also exits 1, with its reason on stderr."},
        sortOptions = false)
final class MapCommand extends ClientCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    /** The most failed tasks the exit status counts, as GNU parallel. */
    static final int MAX_FAILED_STATUS = 101;

    @Mixin
    PoolOptions poolOptions;

    @Option(names = "--clean-env", description = "Do not pass your environment to the workers: they get forkd's FORKD_*"
            + " and a default PATH only. The server's environment is never passed.")
    boolean cleanEnv;

    @Option(names = {"-k", "--keep-order"}, description = "Print results in input order (default: as they finish).")
    boolean keepOrder;

    @Option(names = {"-0", "--null"}, description = "Items on stdin end with NUL, not newline.")
    boolean nul;

    @Option(names = "--tag", description = "Start each line a job prints (stdout and stderr) with its arguments and a tab.")
    boolean tag;

    @Option(names = "--halt-on-error", description = "After the first failed task, start no more; the running ones finish.")
    boolean haltOnError;

    @Option(names = "--joblog", paramLabel = "FILE",
            description = "Log each job, tab-separated like GNU parallel's --joblog (Seq, Host, Starttime, JobRuntime, "
                    + "Send, Receive, Exitval, Signal, Command).")
    Path joblog;

    @Option(names = "--resume-failed",
            description = "With --joblog: run only the jobs the log does not show succeeded (failed ones, and those"
                    + " never run), with their old numbers, and append to the log. Give the same inputs as before.")
    boolean resumeFailed;

    @Option(names = "--results", paramLabel = "DIR",
            description = "Also write each job's stdout, stderr and number to DIR/1/<value 1>/2/<value 2>/..."
                    + "/{stdout,stderr,seq}, GNU parallel's layout ('/' in a value is written '\\_').")
    Path results;

    @Option(names = "--pool", paramLabel = "POOL", description = "Use this existing pool (see 'forkd pool create'); no CMD.")
    String pool;

    @Option(names = "--chunksize", paramLabel = "N", description = "Items sent to one worker at once (default 1).")
    int chunksize;

    @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Show progress on stderr when it is a terminal (default); --no-progress never does.")
    boolean progress;

    @Parameters(paramLabel = "CMD", arity = "0..*",
            description = "The command and its arguments, then optionally '::: VALUE...' sources (and ':::+').")
    List<String> words = List.of();

    @Override
    int run(ForkdClient client, Invocation inv) throws Exception {
        MapInputs.Parsed parsed;
        try {
            parsed = MapInputs.parse(words);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        List<String> command = parsed.command();
        if (chunksize < 0) {
            throw usage("--chunksize must be at least 1");
        }
        if (joblog != null && joblog.toString().isEmpty()) {
            throw usage("--joblog needs a file name");
        }
        if (resumeFailed && joblog == null) {
            throw usage("--resume-failed reads the --joblog of the earlier run: give --joblog FILE");
        }
        Set<Long> skip = resumeFailed ? succeeded(inv.cwd().resolve(joblog)) : Set.of();
        MapStart.Builder start = MapStart.newBuilder()
                .setOrder(keepOrder ? ResultOrder.RESULT_ORDER_INPUT : ResultOrder.RESULT_ORDER_COMPLETION)
                .setHaltOnError(haltOnError)
                .setChunksize(chunksize);
        boolean numbered = false;
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
                throw usage("missing CMD: forkd map [OPTIONS] -- CMD [ARG...] [::: VALUE...]");
            }
            boolean perTaskArgv = !poolOptions.persistent && !poolOptions.stdinItem;
            // Jobs skipped on resume leave gaps the server's count cannot know: the job number travels with the job.
            numbered = perTaskArgv && !skip.isEmpty() && command.stream().anyMatch(a -> a.contains("{#}"));
            if (perTaskArgv && (numbered || parsed.sources() > 1)) {
                command = MapJob.numberedCommand(command, parsed.sources(), numbered);
            }
            var create = poolOptions.create(command);
            if (!cleanEnv) {
                create.getWorkerBuilder().putAllEnv(CallerEnvironment.inherited(inv.env()));
            }
            start.setCreate(create);
        }
        MapInputs.JobSource jobs = parsed.fromStdin() ? MapInputs.stdin(new Items(inv.in(), nul), skip)
                : MapInputs.combinations(parsed.groups(), skip);
        long total = parsed.fromStdin() ? -1 : MapInputs.count(parsed.groups())
                .map(n -> n - skip.stream().filter(seq -> seq >= 1 && seq <= n).count()).orElse(-1L);

        boolean bar = progress && ProgressBar.isTerminal(inv, 2);
        var options = new MapPrinter.Options(tag, openJoblog(inv), Optional.ofNullable(results).map(r -> new ResultsDir(
                inv.cwd().resolve(r))), bar ? Optional.of(new ProgressBar(inv.err(), System::nanoTime)) : Optional.empty(),
                ProgressBar.isTerminal(inv, 1));
        MapPrinter printer = new MapPrinter(inv, options, total);
        MapStream stream = new MapStream(start.build(), printer, numbered);
        client.poolsAsync().map(stream);
        Thread feeder = Thread.ofPlatform().daemon().name("forkd-map-items").start(() -> stream.feed(jobs));
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
        return Math.min(printer.failed(), MAX_FAILED_STATUS);
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private static Set<Long> succeeded(Path log) {
        try {
            return JobLog.succeeded(log);
        } catch (IOException e) {
            throw new CliFailure("cannot read joblog " + log + ": " + e.getMessage(), ExitCodes.USAGE, e);
        }
    }

    private Optional<JobLog> openJoblog(Invocation inv) {
        if (joblog == null) {
            return Optional.empty();
        }
        Path file = inv.cwd().resolve(joblog);
        try {
            return Optional.of(JobLog.open(file, resumeFailed));
        } catch (IOException e) {
            throw new CliFailure("cannot write joblog " + file + ": " + e.getMessage(), ExitCodes.USAGE, e);
        }
    }
}
