package dev.forkd.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

class RateLimitedLogTest {

    @Test
    void logsOneLineAPeriodAndCountsWhatItLeftOut() {
        AtomicLong now = new AtomicLong(5);
        String name = "test.ratelimited." + System.nanoTime();
        Logger logger = Logger.getLogger(name);
        List<String> lines = new CopyOnWriteArrayList<>();
        logger.setUseParentHandlers(false);
        logger.addHandler(new Handler() {
            @Override
            public void publish(LogRecord r) {
                lines.add(r.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        });
        RateLimitedLog log = new RateLimitedLog(name, now::get);
        for (int i = 0; i < 1000; i++) {
            log.warn("bad call " + i);
        }
        assertEquals(List.of("bad call 0"), lines);
        now.addAndGet(RateLimitedLog.PERIOD_NANOS);
        log.warn("bad call again" + "y".repeat(5000));
        assertEquals(2, lines.size());
        assertTrue(lines.get(1).contains("999 more like it"), lines.get(1));
        assertTrue(lines.get(1).length() < 1200, lines.get(1).length() + " characters");
    }
}
