package dev.forkd.cli;

import dev.forkd.server.ForkdServer;
import dev.forkd.server.error.ForkdException;
import dev.forkd.server.programs.ConfigError;
import dev.forkd.server.programs.ReloadResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/** {@code forkd serve --config}: the declared programs started with the server, and reloaded on SIGHUP. */
final class ServePrograms {

    private static final Logger LOG = Logger.getLogger(ServePrograms.class.getName());
    /** How long serve waits for its programs to start before it says it is ready anyway. */
    private static final long START_WAIT_SECONDS = 120;

    private ServePrograms() {}

    /** Loads the (already checked) file and waits, boundedly, for its programs to start. */
    static void start(ForkdServer server, Path file) throws IOException {
        try {
            ReloadResult r = server.programs().load(file).get(START_WAIT_SECONDS, TimeUnit.SECONDS);
            r.failed().forEach((name, why) -> LOG.warning("program " + name + " did not start: " + why));
        } catch (ConfigError e) {
            server.close();
            throw new IOException(file + ": " + e.getMessage(), e);
        } catch (ExecutionException | TimeoutException e) {
            LOG.warning("the declared programs did not all start: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGHUP: apply the file again; an error in it is logged and changes nothing. */
    static void reload(ForkdServer server) {
        try {
            server.programs().reload().whenComplete((r, e) -> {
                if (e != null) {
                    LOG.warning("SIGHUP: reloading the config failed: " + e.getMessage());
                }
            });
        } catch (ForkdException e) {
            LOG.warning("SIGHUP: " + e.getMessage());
        }
    }
}
