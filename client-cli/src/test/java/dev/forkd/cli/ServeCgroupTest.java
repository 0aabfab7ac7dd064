package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code forkd serve --cgroup DIR}: a directory that is no cgroup v2 stops the start, saying so,
 * before anything serves (the server's CgroupV2ServerTest runs one on a real cgroup2 mount).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServeCgroupTest {

    @TempDir
    Path dir;

    @Test
    void aCgroupThatIsNoCgroupV2StopsTheStartSayingSo() throws Exception {
        Path plain = Files.createDirectory(dir.resolve("plain"));
        Cli cli = new Cli(Map.of("XDG_RUNTIME_DIR", dir.toString()), dir);

        Cli.Result r = cli.run("serve", "--listen", "unix:" + dir.resolve("s.sock"), "--state-dir", "none",
                "--cgroup", "plain");

        assertEquals(ExitCodes.ERROR, r.code(), r.toString());
        assertTrue(r.err().contains("--cgroup " + plain + ": " + plain + " is no cgroup v2 directory (no cgroup.controllers"
                + " there)"), r.toString());
        assertTrue(!Files.exists(dir.resolve("s.sock")), "nothing served");
    }

    @Test
    void theConfigFilesCgroupIsRelativeToTheFile() throws Exception {
        Path plain = Files.createDirectories(dir.resolve("etc/plain"));
        Path config = Files.writeString(dir.resolve("etc/forkd.toml"), "[server]\ncgroup = \"plain\"\n");
        Cli cli = new Cli(Map.of("XDG_RUNTIME_DIR", dir.toString()), dir);

        Cli.Result r = cli.run("serve", "--listen", "unix:" + dir.resolve("s.sock"), "--state-dir", "none",
                "--config", config.toString());

        assertEquals(ExitCodes.ERROR, r.code(), r.toString());
        assertTrue(r.err().contains("--cgroup " + plain + ": " + plain + " is no cgroup v2 directory"), r.toString());
    }
}
