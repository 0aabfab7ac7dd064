package dev.forkd.server.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The cgroups of processes' runs: removed off the reporting thread, in order with the next run. */
@Timeout(30)
class ProcessCgroupsTest {

    private static final ResourceLimits MEMORY = new ResourceLimits(OptionalLong.empty(), OptionalLong.empty(),
            OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.of(1L << 20),
            OptionalDouble.empty(), OptionalLong.empty());

    /** Cgroups whose removal waits for the test, as one holding a process in uninterruptible sleep would. */
    private static final class SlowToEmpty implements Cgroups {
        final List<String> log = new CopyOnWriteArrayList<>();
        final CountDownLatch emptied = new CountDownLatch(1);
        volatile long oomKills;

        @Override
        public Optional<String> missing(ResourceLimits limits) {
            return Optional.empty();
        }

        @Override
        public List<Path> prepare(String group, ResourceLimits limits) {
            log.add("prepare " + group);
            return List.of(Path.of("/sys/fs/cgroup/test/" + group + "/cgroup.procs"));
        }

        @Override
        public long oomKills(String group) {
            return oomKills;
        }

        @Override
        public void remove(String group) {
            log.add("removing " + group);
            try {
                emptied.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            log.add("removed " + group);
        }

        @Override
        public void removeAll() {
            log.add("remove all");
        }
    }

    @Test
    void anExitIsToldWhileItsCgroupEmptiesAndTheNextRunWaitsForIt() throws Exception {
        SlowToEmpty host = new SlowToEmpty();
        ProcessCgroups cgroups = new ProcessCgroups(host);
        cgroups.prepare("p-1", MEMORY);
        host.oomKills = 1; // the OOM killer acted during the run

        assertTrue(cgroups.ended("p-1"), "the OOM kill is read before the cgroup goes");
        // Here, with the removal still waiting: ended() did not wait for it.
        CompletableFuture<List<String>> next = CompletableFuture.supplyAsync(() -> {
            try {
                return cgroups.prepare("p-1", MEMORY);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        // It cannot finish while the last run's cgroup is being removed (this can only pass wrongly
        // on a machine too slow to start it in time, never fail wrongly).
        assertThrows(TimeoutException.class, () -> next.get(200, TimeUnit.MILLISECONDS));
        host.emptied.countDown();
        next.get(10, TimeUnit.SECONDS);
        assertEquals(List.of("prepare p-1", "removing p-1", "removed p-1", "prepare p-1"), host.log);

        cgroups.ended("p-1");
        cgroups.removeAll(); // waits for the removal under way, then removes the rest
        assertEquals(List.of("removing p-1", "removed p-1", "remove all"), host.log.subList(4, 7));
    }
}
