package dev.forkd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CliLatencyTest {

    @Test
    void theChildrensCpuIsTheSecondLineOfTimes() throws Exception {
        assertEquals(62_250.0, CliLatency.childrenCpuMs("0m0.001s 0m0.002s\n1m1.500s 0m0.750s\n"), 1e-6);
    }

    @Test
    void aCommandIsTimedPerCallAndAFailingOneFails() throws Exception {
        Map<String, Double> f = CliLatency.timed(List.of("sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"), Map.of(), 3);
        assertTrue(f.get("wall_ms") > 0 && f.get("cpu_ms") >= 0, f::toString);
        assertThrows(IOException.class, () -> CliLatency.timed(List.of("false"), Map.of(), 1));
    }
}
