package dev.forkd.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.address.ForkdPaths;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ServerConfigTest {

    @Test
    void memoryBudgetSizesTakeBinaryUnits() {
        assertEquals(512L << 20, ServerConfig.parseSize("512MiB"));
        assertEquals(512L << 20, ServerConfig.parseSize("512m"));
        assertEquals(2L << 30, ServerConfig.parseSize("2G"));
        assertEquals(8192, ServerConfig.parseSize("8K"));
        assertEquals(123, ServerConfig.parseSize("123"));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parseSize("lots"));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parseSize("5TB"));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parseSize("-1M"));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parseSize("99999999999999999G"));
    }

    @Test
    void theDefaultBudgetIsHalfTheHeapAndATinyOneIsRefused() {
        ServerConfig c = ServerConfig.defaults(new ForkdPaths(Path.of("/tmp/forkd-config-test")));
        assertEquals(Math.max(ServerConfig.MIN_MEMORY_BUDGET, Runtime.getRuntime().maxMemory() / 2), c.memoryBudget());
        var e = assertThrows(IllegalArgumentException.class, () -> c.withMemoryBudget(1024));
        assertTrue(e.getMessage().contains("--memory-budget"), e.getMessage());
    }
}
