package dev.forkd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The statistics, ratios and report of the harness; no benchmark runs here. */
@Timeout(10)
class ReportTest {

    @Test
    void medianOfOddAndEvenCountsWithMinAndMax() {
        assertEquals(new Summary(3, 1, 9, 5), Summary.of(List.of(9.0, 1.0, 3.0, 4.0, 2.0)));
        assertEquals(new Summary(2.5, 1, 4, 4), Summary.of(List.of(4.0, 1.0, 3.0, 2.0)));
    }

    @Test
    void percentileIsTheNearestRank() {
        double[] xs = new double[100];
        for (int i = 0; i < 100; i++) {
            xs[i] = 100 - i; // 100..1
        }
        assertEquals(50, Summary.percentile(xs, 0.50));
        assertEquals(99, Summary.percentile(xs, 0.99));
        assertEquals(7, Summary.percentile(new double[] {7}, 0.99));
    }

    @Test
    void ratioAboveOneMeansForkdDidBetterEitherWay() {
        Row faster = row(Better.HIGHER, 200, 100, Target.ratio(1.5));
        assertEquals(Optional.of(2.0), faster.ratio());
        assertEquals(Optional.of(true), faster.meetsTarget());
        Row slower = row(Better.LOWER, 200, 100, Target.none()); // 200 ms against 100 ms
        assertEquals(Optional.of(0.5), slower.ratio());
        assertEquals(Optional.empty(), slower.meetsTarget());
    }

    @Test
    void anAbsoluteLimitIsJudgedInTheRowsDirection() {
        Row rss = new Row("footprint", "rss", "MB", Better.LOWER, measured(300), "", new Outcome.NotAvailable("no peer"),
                Target.limit(256), "");
        assertEquals(Optional.of(false), rss.meetsTarget());
        assertEquals(Optional.empty(), rss.ratio());
    }

    @Test
    void roundsRotateTheOrderAndDropWarmUpAndAFailingSide() {
        List<String> order = new ArrayList<>();
        int[] calls = {0};
        Runs runs = Runs.measure("t", 1, 3, Duration.ZERO, List.of(
                Runs.Side.of("forkd", () -> {
                    order.add("forkd");
                    return Map.of("x", (double) ++calls[0]);
                }),
                Runs.Side.of("peer", () -> {
                    order.add("peer");
                    throw new IllegalStateException("boom\nmore");
                }),
                Runs.Side.unavailable("gone", "not installed")), line -> { });
        assertEquals(List.of("forkd", "peer", "forkd", "forkd", "forkd"), order);
        assertEquals(new Outcome.Measured(new Summary(3, 2, 4, 3)), runs.outcome("forkd", "x"));
        assertEquals(new Outcome.Failed("IllegalStateException: boom"), runs.outcome("peer", "x"));
        assertEquals(new Outcome.NotAvailable("not installed"), runs.outcome("gone", "x"));
        assertInstanceOf(Outcome.Failed.class, runs.outcome("forkd", "y"));
    }

    @Test
    void aDaemonSideWarmsUpForItsMinimumTimeAndIsThenMeasuredLikeAPeer() {
        List<String> order = new ArrayList<>();
        long[] now = {0};
        Runs runs = Runs.measure("t", 1, 2, Duration.ofMillis(3), List.of(
                Runs.Side.forkd(() -> {
                    order.add("forkd");
                    return Map.of("x", 1.0);
                }),
                Runs.Side.of("peer", () -> {
                    order.add("peer");
                    return Map.of("x", 2.0);
                })), line -> { }, () -> now[0] += 1_000_000);
        // Warm-up: forkd runs until 3 ms of the (ticking) clock have passed, the peer once; then
        // one run each per measured round, the order rotating.
        assertEquals(List.of("forkd", "forkd", "forkd", "peer", "peer", "forkd", "forkd", "peer"), order);
        assertEquals(new Outcome.Measured(new Summary(1, 1, 1, 2)), runs.outcome("forkd", "x"));
    }

    @Test
    void jsonCarriesTheFiguresAndTheTableSaysWhyOneIsMissing() {
        Row r = row(Better.HIGHER, 1234.5678, 2000, Target.ratio(0.6));
        String json = Report.json(r);
        assertTrue(json.startsWith("{\"scenario\":\"s\",\"metric\":\"m\",\"unit\":\"1/s\""), json);
        assertTrue(json.contains("\"forkd\":1235,\"min\":1235,\"max\":1235"), json);
        assertTrue(json.contains("\"peer\":\"p\",\"peer_median\":2000"), json);
        assertTrue(json.contains("\"ratio\":0.617,\"target\":\">= 0.60x\",\"meets_target\":true"), json);
        String table = Report.table(List.of(r, Row.notAvailable("sync", "no \"SyncService\"")));
        assertTrue(table.contains("0.62x"), table);
        assertTrue(table.contains("- sync: forkd not available: no \"SyncService\""), table);
        assertFalse(Report.json(Row.notAvailable("sync", "a\"b")).contains("a\"b"));
    }

    @Test
    void peerFiguresAreReadFromJsonLines() throws Exception {
        assertEquals(Map.of("a", 1.5, "b", 2.0),
                Bench.parse("noise\n{\"figure\": \"a\", \"value\": 1.5}\n{\"figure\":\"b\",\"value\":2,\"unit\":\"x\"}\n"));
    }

    private static Row row(Better better, double forkd, double peer, Target target) {
        return new Row("s", "m", "1/s", better, measured(forkd), "p", measured(peer), target, "");
    }

    private static Outcome measured(double x) {
        return new Outcome.Measured(new Summary(x, x, x, 1));
    }
}
