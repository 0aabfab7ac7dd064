package dev.forkd.examples;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.forkd.client.Codec;
import dev.forkd.client.Forkd;
import dev.forkd.client.ForkdPool;
import dev.forkd.client.ForkdProcess;
import dev.forkd.client.ForkdValue;
import dev.forkd.client.PoolSpec;
import dev.forkd.client.ProcessSpec;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

/**
 * forkd from Java: a process, a pool, a queue, a lock and a counter, through the JDK's own
 * interfaces. It finds the server as the {@code forkd} command does (FORKD_ADDRESS, else the default
 * socket; FORKD_TOKEN and FORKD_TLS_* for TCP).
 */
public final class Example {

    private Example() {}

    public static void main(String[] args) throws Exception {
        try (Forkd forkd = Forkd.connect()) {
            // A process: its output as an InputStream, its exit code like Python's exitcode.
            ForkdProcess p = forkd.start(ProcessSpec.of("sh", "-c", "echo hello from pid $$; exit 3"));
            String said = new String(p.stdout().readAllBytes(), UTF_8).strip();
            p.join(Duration.ofSeconds(30));
            System.out.println("process said \"" + said.replaceAll("[0-9]+", "N") + "\" and exited "
                    + p.exitCode().orElseThrow());

            // A pool: map over items, results in input order.
            try (ForkdPool pool = forkd.pool(PoolSpec.perTask("sh", "-c", "echo $(({} * {}))").withProcesses(2))) {
                List<String> squares = pool.map(List.of("1", "2", "3", "4").stream().map(s -> s.getBytes(UTF_8)).toList())
                        .stream().map(b -> new String(b, UTF_8).strip()).toList();
                System.out.println("squares " + squares);
            }

            // A queue any process can reach by name, as a BlockingQueue.
            BlockingQueue<String> jobs = forkd.queue("example-jobs").typed(Codec.UTF8);
            jobs.put("first");
            jobs.put("second");
            System.out.println("took " + jobs.take() + ", then " + jobs.poll(1, TimeUnit.SECONDS));

            // A lock held by this client's session (released if this program dies), and a counter.
            Lock lock = forkd.lock("example-lock");
            ForkdValue runs = forkd.value("example-runs");
            lock.lock();
            try {
                System.out.println("runs " + runs.incrementAndGet());
            } finally {
                lock.unlock();
            }
        }
    }
}
