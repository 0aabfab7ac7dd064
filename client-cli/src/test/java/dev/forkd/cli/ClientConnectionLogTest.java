package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.client.ForkdClient;
import dev.forkd.address.ListenAddress;
import dev.forkd.v1.ListProcessesRequest;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A client connection over the Unix socket logs nothing (netty warned about SO_KEEPALIVE for each one). */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClientConnectionLogTest {

    @Test
    void aUnixSocketConnectionLogsNothing() throws Exception {
        // Held here: JUL keeps loggers weakly, and a forgotten logger would lose the handler.
        Logger netty = Logger.getLogger("io.grpc.netty.shaded.io.netty");
        List<String> logged = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.INFO.intValue()) {
                    logged.add(r.getLoggerName() + ": " + r.getMessage());
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        netty.addHandler(capture);
        try (RunningServer server = RunningServer.start()) {
            for (int i = 0; i < 3; i++) {
                try (ForkdClient client = ForkdClient.connect(ListenAddress.parse(server.address()),
                        Optional.empty(), Optional.empty())) {
                    client.processes().withDeadlineAfter(30, TimeUnit.SECONDS)
                            .list(ListProcessesRequest.getDefaultInstance());
                }
            }
        } finally {
            netty.removeHandler(capture);
        }
        assertEquals(List.of(), logged);
    }

    @Test
    void anAgentDiallingItsSupervisorLogsNothingEither() throws Exception {
        // The agents' stderr goes to the server's log: each agent's dial warned about SO_KEEPALIVE there.
        String log;
        try (RunningServer server = RunningServer.start()) {
            Cli.Result ps = Cli.against(server).run("ps");
            assertEquals(0, ps.code(), ps::toString);
            log = java.nio.file.Files.readString(server.dir.resolve("server.err"));
        }
        assertTrue(log.contains("registered"), "the agent registered: " + log);
        assertFalse(log.contains("SO_KEEPALIVE"), log);
    }
}
