package dev.forkd.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The samples of one scenario: each side (forkd, each peer) run once per round, in an order that
 * rotates every round, so that a machine getting busier or quieter during the scenario weighs on all
 * sides alike and the ratios stay fair. The first rounds are warm-up and are thrown away.
 */
public final class Runs {

    /** One run of one side: the figures it measured, by name. */
    @FunctionalInterface
    public interface Once {
        Map<String, Double> run() throws Exception;
    }

    /**
     * Something to measure, or the reason it cannot be. A {@code daemon} side is a long-running
     * JVM's (forkd's): its warm-up lasts a minimum time, not one run, so what is measured is the
     * JIT-compiled steady state a server reaches after its first few thousand calls.
     */
    public record Side(String name, Optional<Once> once, String unavailable, boolean daemon) {
        public static Side of(String name, Once once) {
            return new Side(name, Optional.of(once), "", false);
        }

        /** The forkd side of a scenario. */
        public static Side forkd(Once once) {
            return new Side("forkd", Optional.of(once), "", true);
        }

        public static Side unavailable(String name, String reason) {
            return new Side(name, Optional.empty(), reason, false);
        }
    }

    private final Map<String, Map<String, List<Double>>> samples = new LinkedHashMap<>();
    private final Map<String, Outcome> broken = new LinkedHashMap<>();

    private Runs() {}

    /**
     * Runs {@code warmUps} rounds, then {@code rounds} measured ones; in the warm-up rounds a daemon
     * side is run again until it has warmed for {@code daemonWarmUp}. A side that throws is
     * reported failed with the first line of the cause and not run again.
     */
    public static Runs measure(String scenario, int warmUps, int rounds, Duration daemonWarmUp, List<Side> sides,
            Consumer<String> log) {
        return measure(scenario, warmUps, rounds, daemonWarmUp, sides, log, System::nanoTime);
    }

    static Runs measure(String scenario, int warmUps, int rounds, Duration daemonWarmUp, List<Side> sides,
            Consumer<String> log, LongSupplier nanoClock) {
        Runs runs = new Runs();
        List<Side> live = new ArrayList<>();
        for (Side s : sides) {
            if (s.once().isPresent()) {
                live.add(s);
                runs.samples.put(s.name(), new LinkedHashMap<>());
            } else {
                runs.broken.put(s.name(), new Outcome.NotAvailable(s.unavailable()));
            }
        }
        for (int round = 0; round < warmUps + rounds; round++) {
            boolean warm = round < warmUps;
            int n = live.size();
            for (int k = 0; k < n; k++) {
                Side side = live.get((k + round) % n);
                if (runs.broken.containsKey(side.name())) {
                    continue;
                }
                log.accept(String.format("%s: %s %d/%d %s", scenario, warm ? "warm-up" : "run",
                        warm ? round + 1 : round - warmUps + 1, warm ? warmUps : rounds, side.name()));
                try {
                    long warmUntil = nanoClock.getAsLong() + daemonWarmUp.toNanos();
                    Map<String, Double> figures = side.once().orElseThrow().run();
                    while (warm && side.daemon() && nanoClock.getAsLong() - warmUntil < 0) {
                        side.once().orElseThrow().run();
                    }
                    if (!warm) {
                        figures.forEach((figure, value) -> runs.samples.get(side.name())
                                .computeIfAbsent(figure, f -> new ArrayList<>()).add(value));
                    }
                } catch (Exception e) {
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                    }
                    String why = e.getClass().getSimpleName() + ": " + firstLine(e.getMessage());
                    log.accept(scenario + ": " + side.name() + " failed: " + why);
                    runs.broken.put(side.name(), new Outcome.Failed(why));
                }
            }
        }
        return runs;
    }

    /** A side's figure over the measured rounds. */
    public Outcome outcome(String side, String figure) {
        Outcome b = broken.get(side);
        if (b != null) {
            return b;
        }
        List<Double> values = samples.getOrDefault(side, Map.of()).get(figure);
        if (values == null || values.isEmpty()) {
            return new Outcome.Failed(side + " reported no figure " + figure);
        }
        return new Outcome.Measured(Summary.of(values));
    }

    /** forkd's figure against a peer's. */
    public Row compare(String scenario, String metric, String unit, Better better, String forkdFigure,
            String peer, String peerFigure, Target target) {
        return new Row(scenario, metric, unit, better, outcome("forkd", forkdFigure), peer,
                outcome(peer, peerFigure), target, "");
    }

    /** forkd's figure against an absolute target only. */
    public Row alone(String scenario, String metric, String unit, Better better, String forkdFigure, Target target) {
        return new Row(scenario, metric, unit, better, outcome("forkd", forkdFigure), "",
                new Outcome.NotAvailable("no peer"), target, "");
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
