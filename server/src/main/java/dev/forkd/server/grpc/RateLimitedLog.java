package dev.forkd.server.grpc;

import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * Warnings a client can cause at will, logged as single lines at most once per {@link #PERIOD_NANOS};
 * the next line says how many were left out meanwhile. So the log stays bounded whatever clients send.
 */
final class RateLimitedLog {

    static final long PERIOD_NANOS = 60_000_000_000L;

    private final Logger log;
    private final LongSupplier nanoTime;
    private long nextAt;
    private boolean started;
    private long suppressed;

    RateLimitedLog(String name, LongSupplier nanoTime) {
        this.log = Logger.getLogger(name);
        this.nanoTime = nanoTime;
    }

    void warn(String line) {
        String text;
        synchronized (this) {
            long now = nanoTime.getAsLong();
            if (started && now - nextAt < 0) {
                suppressed++;
                return;
            }
            started = true;
            nextAt = now + PERIOD_NANOS;
            text = ErrorMapper.message(line) + (suppressed == 0 ? ""
                    : " (" + suppressed + " more like it since the last such line, not logged)");
            suppressed = 0;
        }
        log.warning(text);
    }
}
