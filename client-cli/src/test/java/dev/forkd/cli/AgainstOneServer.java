package dev.forkd.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The CLI tests that share one real {@code forkd serve} for the whole class: started before the
 * first test, stopped after the last, with every process a test put in {@link #spawned} killed first.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AgainstOneServer {

    protected RunningServer server;
    protected Cli cli;
    /** Processes to kill at the end (best effort: closing the server stops them anyway). */
    protected final List<String> spawned = new ArrayList<>();

    @BeforeAll
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void startServer() throws Exception {
        server = RunningServer.start();
        cli = Cli.against(server);
    }

    @AfterAll
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void stopServer() throws Exception {
        if (server != null) {
            for (String id : spawned) {
                cli.run("kill", "-s", "KILL", id);
            }
            server.close();
        }
    }
}
