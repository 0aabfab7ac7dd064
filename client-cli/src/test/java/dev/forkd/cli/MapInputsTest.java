package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jobs {@code forkd map} makes of its sources, in GNU parallel's order, without a server. */
class MapInputsTest {

    private static List<String> jobs(List<String> words, Set<Long> skip) throws Exception {
        var parsed = MapInputs.parse(words);
        var source = MapInputs.combinations(parsed.groups(), skip);
        List<String> out = new ArrayList<>();
        for (Optional<MapJob> j = source.next(); j.isPresent(); j = source.next()) {
            out.add(j.get().seq() + ":" + j.get().text());
        }
        return out;
    }

    @Test
    void combinationsVaryTheLastSourceFastest() throws Exception {
        assertEquals(List.of("1:a 1", "2:a 2", "3:b 1", "4:b 2"),
                jobs(List.of("echo", ":::", "a", "b", ":::", "1", "2"), Set.of()));
        assertEquals(List.of("echo"), MapInputs.parse(List.of("echo", ":::", "a", ":::", "1")).command());
        assertEquals(Optional.of(6L), MapInputs.count(MapInputs.parse(List.of(":::", "a", "b", ":::", "1", "2", "3")).groups()));
    }

    @Test
    void aLinkedSourcePairsWithTheOneBeforeAndTheShorterDecides() throws Exception {
        assertEquals(List.of("1:x a 1", "2:x b 2", "3:y a 1", "4:y b 2"),
                jobs(List.of(":::", "x", "y", ":::", "a", "b", "c", ":::+", "1", "2"), Set.of()));
        assertEquals(3, MapInputs.parse(List.of(":::", "x", ":::", "a", ":::+", "1")).sources());
        assertThrows(IllegalArgumentException.class, () -> MapInputs.parse(List.of("echo", ":::+", "1")));
        assertThrows(IllegalArgumentException.class, () -> MapInputs.parse(List.of("echo", "::::", "file")));
    }

    @Test
    void skippedJobsKeepTheirNumbersForTheRest() throws Exception {
        assertEquals(List.of("2:b", "4:d"), jobs(List.of(":::", "a", "b", "c", "d"), Set.of(1L, 3L)));
        var stdin = MapInputs.stdin(new Items(new ByteArrayInputStream("a\nb\nc\n".getBytes(StandardCharsets.UTF_8)), false),
                Set.of(2L));
        assertEquals(1, stdin.next().orElseThrow().seq());
        assertEquals(3, stdin.next().orElseThrow().seq());
        assertEquals(Optional.empty(), stdin.next());
    }

    @Test
    void positionalPlaceholdersStandForTheServersOnes() {
        assertEquals(List.of("echo", "{1} {2}", "{3}"), MapJob.numberedCommand(List.of("echo", "{}", "{#}"), 2, true));
        assertEquals(List.of("echo", "{#}", "{1}", "{2}"), MapJob.numberedCommand(List.of("echo", "{#}"), 2, false));
        assertEquals(List.of("a", "b", "7"), MapJob.ofArgs(7, List.of("a", "b")).input(true).getArgsList());
    }

    @Test
    void theJoblogsLatestLineForAJobDecides(@TempDir Path dir) throws Exception {
        Path log = Files.writeString(dir.resolve("log"), JobLog.HEADER + "\n"
                + "1\t:\t1.0\t0.1\t0\t0\t0\t0\ttrue\n"
                + "2\t:\t1.0\t0.1\t0\t0\t1\t0\tfalse\n"
                + "3\t:\t1.0\t0.1\t0\t0\t0\t0\ttrue\n"
                + "3\t:\t1.0\t0.1\t0\t0\t-1\t9\tkilled\n"
                + "2\t:\t2.0\t0.1\t0\t0\t0\t0\ttrue\n"
                + "4\t:\t2.0");
        assertEquals(Set.of(1L, 2L), JobLog.succeeded(log));
        assertEquals(Set.of(), JobLog.succeeded(dir.resolve("missing")));
    }

    @Test
    void resultDirectoriesAreNamedAfterTheValuesAsGnuParallelNamesThem() {
        ResultsDir results = new ResultsDir(Path.of("/r"));
        assertEquals(Path.of("/r/1/a\\_b/2/x\\\\y"), results.of(List.of("a/b", "x\\y")));
        assertEquals(Path.of("/r/1/\\/2/\\.."), results.of(List.of("", "..")));
    }
}
