package dev.forkd.server.programs;

import dev.forkd.server.error.ForkdException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The programs declared in the config file, and the processes that run them. A reload applies the
 * difference: removed programs stop, changed ones restart, new ones start, unchanged ones are not
 * touched. Dependants stop before what they depend on; a program starts once everything it depends
 * on runs. Operations run one at a time, in the order asked (a bounded line of them).
 */
public final class DeclaredPrograms {

    private static final Logger LOG = Logger.getLogger(DeclaredPrograms.class.getName());
    /** Reloads and start/stop/restart calls waiting their turn. */
    static final int MAX_PENDING = 16;

    private final ProgramRunner runner;
    private volatile Optional<Path> file = Optional.empty();
    /** Process ids of each program's running instances, in instance order. */
    private final Map<String, List<String>> instances = new ConcurrentHashMap<>();
    private volatile ProgramConfig current = new ProgramConfig(Map.of(), ProgramConfig.DEFAULT_RSS_CHECK);
    private CompletableFuture<?> tail = CompletableFuture.completedFuture(null);
    private int pending;

    public DeclaredPrograms(ProgramRunner runner) {
        this.runner = runner;
    }

    /**
     * Reads {@code path} (which later reloads read again) and applies it; the returned future
     * completes once its programs have started.
     *
     * @throws ConfigError if the file has an error; then nothing is declared
     */
    public CompletableFuture<ReloadResult> load(Path path) throws ConfigError, IOException {
        ProgramConfig config = ProgramConfig.parse(Files.readString(path));
        file = Optional.of(path);
        return apply(config);
    }

    public Optional<Path> file() {
        return file;
    }

    /** The declared programs as last applied. */
    public ProgramConfig declared() {
        return current;
    }

    /** The process ids of a program's running instances. */
    public List<String> instancesOf(String program) {
        return instances.getOrDefault(program, List.of());
    }

    /**
     * Reads the config file and applies it. A file that cannot be read or has an error throws here
     * (FAILED_PRECONDITION: NO_PROGRAM_CONFIG or PROGRAM_CONFIG_INVALID) and nothing changes.
     */
    public CompletableFuture<ReloadResult> reload() {
        Path path = file.orElseThrow(() -> new ForkdException.FailedPrecondition("NO_PROGRAM_CONFIG",
                "the server was started without --config: there are no declared programs to reload"));
        ProgramConfig next;
        try {
            next = ProgramConfig.parse(Files.readString(path));
        } catch (IOException e) {
            throw invalid(path, "cannot read it: " + e.getMessage(), 0);
        } catch (ConfigError e) {
            throw invalid(path, e.getMessage(), e.line());
        }
        if (!next.startSettings().equals(current.startSettings())) {
            LOG.warning(path + ": [server] settings other than rss_check_interval changed; they take effect when"
                    + " the server next starts (a reload applies programs)");
        }
        return apply(next);
    }

    private static ForkdException invalid(Path path, String why, int line) {
        return new ForkdException.FailedPrecondition("PROGRAM_CONFIG_INVALID",
                path + ": " + why + " (nothing was changed)", Map.of("file", path.toString(), "line", "" + line));
    }

    /** Applies {@code next} in place of the declared set. */
    public CompletableFuture<ReloadResult> apply(ProgramConfig next) {
        return serially(() -> applyNow(next));
    }

    /**
     * Starts a declared program's instances that are not running; completes with their ids. Fails
     * (START_FAILED) if a program it depends on is not running: dependencies are started first.
     */
    public CompletableFuture<List<String>> start(String name) {
        Program p = program(name);
        return serially(() -> startAfterDependencies(p, current, Map.of()));
    }

    /** Stops a declared program's instances; completes with how many there were. */
    public CompletableFuture<Integer> stop(String name) {
        Program p = program(name);
        return serially(() -> {
            int n = instancesOf(p.name()).size();
            return stopProgram(p).thenApply(x -> n);
        });
    }

    /** Stops, then starts a declared program; completes with the new instances' ids. */
    public CompletableFuture<List<String>> restart(String name) {
        Program p = program(name);
        return serially(() -> stopProgram(p).thenCompose(x -> startAfterDependencies(p, current, Map.of())));
    }

    /** Replaces one instance (after max_rss): stop it, start it again, under the same name. */
    CompletableFuture<Void> replace(String program, String processId) {
        return serially(() -> {
            Program p = current.programs().get(program);
            List<String> ids = instances.getOrDefault(program, List.of());
            int i = ids.indexOf(processId);
            if (p == null || i < 0) {
                return CompletableFuture.completedFuture(null); // reloaded or stopped meanwhile
            }
            return runner.stop(processId, p).thenCompose(x -> runner.start(p, p.instanceName(i)))
                    .thenAccept(id -> instances.computeIfPresent(program, (k, list) -> {
                        List<String> copy = new ArrayList<>(list);
                        copy.set(i, id);
                        return List.copyOf(copy);
                    }));
        });
    }

    private Program program(String name) {
        Program p = current.programs().get(name);
        if (p == null) {
            throw new ForkdException.NotFound("declared program", name);
        }
        return p;
    }

    private synchronized <T> CompletableFuture<T> serially(Supplier<CompletableFuture<T>> op) {
        if (pending >= MAX_PENDING) {
            throw new ForkdException.ResourceExhausted("PROGRAM_OPERATIONS_FULL",
                    MAX_PENDING + " program operations are already waiting; try again once they are done");
        }
        pending++;
        CompletableFuture<T> result = tail.handle((x, e) -> null).thenCompose(x -> op.get());
        tail = result;
        result.whenComplete((x, e) -> {
            synchronized (this) {
                pending--;
            }
        });
        return result;
    }

    private CompletableFuture<ReloadResult> applyNow(ProgramConfig next) {
        ProgramConfig old = current;
        current = next;
        List<String> started = new ArrayList<>();
        List<String> stopped = new ArrayList<>();
        List<String> restarted = new ArrayList<>();
        List<String> unchanged = new ArrayList<>();
        for (var e : old.programs().entrySet()) {
            Program now = next.programs().get(e.getKey());
            if (now == null) {
                stopped.add(e.getKey());
            } else if (now.equals(e.getValue())) {
                unchanged.add(e.getKey());
            } else {
                restarted.add(e.getKey());
            }
        }
        for (String name : next.programs().keySet()) {
            if (!old.programs().containsKey(name)) {
                started.add(name);
            }
        }
        // Stop what goes or changes, dependants first (by the old declarations, which name them all).
        Map<String, CompletableFuture<Void>> stops = new HashMap<>();
        List<String> stopOrder = order(old);
        for (int i = stopOrder.size() - 1; i >= 0; i--) {
            String name = stopOrder.get(i);
            if (!stopped.contains(name) && !restarted.contains(name)) {
                continue;
            }
            CompletableFuture<?>[] dependants = old.programs().values().stream()
                    .filter(p -> p.dependsOn().contains(name)).map(p -> stops.get(p.name()))
                    .filter(f -> f != null).toArray(CompletableFuture[]::new);
            Program p = old.programs().get(name);
            stops.put(name, CompletableFuture.allOf(dependants).thenCompose(x -> stopProgram(p)));
        }
        Map<String, String> failed = new ConcurrentHashMap<>();
        return CompletableFuture.allOf(stops.values().toArray(CompletableFuture[]::new))
                .thenCompose(x -> {
                    // Start what is new or changed, each once what it depends on runs.
                    Map<String, CompletableFuture<List<String>>> starts = new HashMap<>();
                    for (String name : order(next)) {
                        Program p = next.programs().get(name);
                        if (!p.autostart() || !(started.contains(name) || restarted.contains(name))) {
                            continue;
                        }
                        starts.put(name, startAfterDependencies(p, next, starts).whenComplete((ids, e) -> {
                            if (e != null) {
                                failed.put(name, cause(e).getMessage());
                            }
                        }));
                    }
                    return CompletableFuture.allOf(starts.values().stream()
                            .map(f -> f.handle((ids, e) -> null)).toArray(CompletableFuture[]::new));
                })
                .thenApply(x -> {
                    LOG.info(() -> "programs applied: started " + started + ", stopped " + stopped
                            + ", restarted " + restarted + ", unchanged " + unchanged
                            + (failed.isEmpty() ? "" : ", failed " + failed));
                    return new ReloadResult(started, stopped, restarted, unchanged, failed);
                });
    }

    private CompletableFuture<List<String>> startAfterDependencies(Program p, ProgramConfig config,
            Map<String, CompletableFuture<List<String>>> starting) {
        List<CompletableFuture<?>> deps = new ArrayList<>();
        for (String dep : p.dependsOn()) {
            CompletableFuture<List<String>> f = starting.get(dep);
            deps.add(f != null ? f.exceptionallyCompose(e -> CompletableFuture.failedFuture(new ForkdException.FailedPrecondition("START_FAILED",
                    "dependency \"" + dep + "\" did not start: " + cause(e).getMessage())))
                    : runs(dep, config));
        }
        return CompletableFuture.allOf(deps.toArray(CompletableFuture[]::new)).thenCompose(x -> startProgram(p, config));
    }

    /** Completes if {@code program}'s instances all run; fails saying it does not otherwise. */
    private CompletableFuture<Void> runs(String program, ProgramConfig config) {
        Program p = config.programs().get(program);
        List<String> ids = instancesOf(program);
        boolean running = p != null && ids.size() == p.numprocs()
                && ids.stream().allMatch(id -> runner.runningPid(id).isPresent());
        return running ? CompletableFuture.completedFuture(null) : CompletableFuture.failedFuture(
                new ForkdException.FailedPrecondition("START_FAILED", "dependency \"" + program + "\" is not running"));
    }

    private CompletableFuture<List<String>> startProgram(Program p, ProgramConfig config) {
        List<String> have = instancesOf(p.name());
        if (!have.isEmpty() && have.stream().allMatch(id -> runner.runningPid(id).isPresent())) {
            return CompletableFuture.completedFuture(have);
        }
        // Instances that ended (FATAL, or exited for good) make way for a fresh set.
        return stopProgram(p).thenCompose(x -> {
            List<CompletableFuture<String>> runs = new ArrayList<>();
            for (int i = 0; i < p.numprocs(); i++) {
                runs.add(runner.start(p, p.instanceName(i)));
            }
            return CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).handle((y, e) -> {
                List<String> ids = runs.stream().filter(f -> !f.isCompletedExceptionally()).map(CompletableFuture::join)
                        .toList();
                if (!ids.isEmpty()) {
                    instances.put(p.name(), ids);
                }
                if (e != null) {
                    throw new CompletionException(cause(e));
                }
                return ids;
            });
        });
    }

    private CompletableFuture<Void> stopProgram(Program p) {
        List<String> ids = instances.remove(p.name());
        if (ids == null) {
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.allOf(ids.stream().map(id -> runner.stop(id, p)).toArray(CompletableFuture[]::new));
    }

    private static List<String> order(ProgramConfig config) {
        try {
            return StartOrder.of(config.programs());
        } catch (StartOrder.Cycle c) {
            throw new IllegalStateException("a checked config has no cycle", c); // ProgramConfig refused it
        }
    }

    static Throwable cause(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }
}
