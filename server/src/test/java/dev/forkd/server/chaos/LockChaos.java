package dev.forkd.server.chaos;

import dev.forkd.server.suites.ServerProcess;
import dev.forkd.server.suites.TestSession;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.CreateSyncRequest;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.SyncKind;
import dev.forkd.v1.SyncServiceGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Clients contending for one lock, each a session of its own: whoever holds it may be killed by
 * the chaos loop (its session reset, like a client that died) and the next waiter must get it,
 * with a fencing token greater than every one before.
 */
final class LockChaos {

    static final String LOCK = "chaos-lock";

    private final ServerProcess server;
    private final List<Thread> clients = new ArrayList<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final List<String> problems = new ArrayList<>();
    private long highestToken;
    private long grants;
    private long abandonedGrants;
    /** Times the chaos loop took the lock from its holder (killed it, or let it release). */
    private long handOffs;
    /** Waits that timed out while the lock passed on fewer times than there are contenders. */
    private long timedOutWhileHeld;
    private int contenders;
    private TestSession holder;

    LockChaos(ServerProcess server) {
        this.server = server;
        SyncServiceGrpc.newBlockingStub(server.newChannel()).withDeadlineAfter(30, TimeUnit.SECONDS)
                .create(CreateSyncRequest.newBuilder().setName(LOCK).setKind(SyncKind.SYNC_KIND_LOCK).build());
    }

    void start(int contenders) {
        this.contenders = contenders;
        for (int i = 0; i < contenders; i++) {
            Thread t = Thread.ofPlatform().daemon().name("lock-client-" + i).start(this::contend);
            clients.add(t);
        }
    }

    /** One client: open a session, wait for the lock, hold it until told to let go or killed. */
    private void contend() {
        io.grpc.ManagedChannel channel = server.newChannel();
        while (!stopping.get()) {
            TestSession s;
            try {
                s = TestSession.open(channel, "lock-client");
            } catch (Exception e) {
                continue;
            }
            try {
                long handOffsBefore = handOffs();
                AcquireResponse r = SyncServiceGrpc.newBlockingStub(s.channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                        .acquire(AcquireRequest.newBuilder().setName(LOCK)
                                .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(45)).build());
                if (!r.getAcquired()) {
                    // A wait times out rightly while the lock stays held: a cycle of the chaos loop may
                    // outlast it (an agent's replacement on a loaded machine). Once the lock passed on
                    // more times than there are contenders ahead, it must have been this waiter's.
                    long passed = handOffs() - handOffsBefore;
                    if (stopping.get()) {
                        continue;
                    }
                    if (passed > contenders) {
                        record("a waiter did not get the lock within 45 s, while it passed on " + passed + " times");
                    } else {
                        synchronized (this) {
                            timedOutWhileHeld++;
                        }
                    }
                    continue;
                }
                granted(s, r);
                synchronized (this) {
                    while (holder == s && !stopping.get()) {
                        wait(); // until the chaos loop kills us or lets us release
                    }
                }
                if (s.isAlive()) {
                    SyncServiceGrpc.newBlockingStub(s.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                            .release(ReleaseRequest.newBuilder().setName(LOCK).build());
                }
            } catch (io.grpc.StatusRuntimeException e) {
                if (s.isAlive() && !stopping.get()) {
                    record("a live client's lock call failed: " + e.getStatus());
                }
            } catch (InterruptedException e) {
                return;
            } finally {
                s.close();
            }
        }
    }

    private synchronized void granted(TestSession s, AcquireResponse r) {
        if (r.getFencingToken() <= highestToken) {
            record("fencing token " + r.getFencingToken() + " not above " + highestToken);
        }
        highestToken = Math.max(highestToken, r.getFencingToken());
        grants++;
        if (r.getAbandoned()) {
            abandonedGrants++;
        }
        holder = s;
        notifyAll();
    }

    /** The chaos: the holder's client dies. Returns false if nobody holds it right now. */
    synchronized boolean killHolder() {
        if (holder == null) {
            return false;
        }
        holder.cancel();
        holder = null;
        handOffs++;
        notifyAll();
        return true;
    }

    /** The holder releases cleanly. */
    synchronized void releaseHolder() {
        if (holder != null) {
            handOffs++;
        }
        holder = null;
        notifyAll();
    }

    /** Stops the contenders, then a fresh client must get the lock with a greater token. */
    List<String> verify() throws Exception {
        stopping.set(true);
        synchronized (this) {
            holder = null;
            notifyAll();
        }
        for (Thread t : clients) {
            t.join(TimeUnit.SECONDS.toMillis(90));
        }
        try (TestSession last = TestSession.open(server.newChannel(), "final-acquirer")) {
            AcquireResponse r = SyncServiceGrpc.newBlockingStub(last.channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                    .acquire(AcquireRequest.newBuilder().setName(LOCK)
                            .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(30)).build());
            if (!r.getAcquired()) {
                record("the final acquire did not get the lock within 30 s");
            } else if (r.getFencingToken() <= highestToken) {
                record("the final token " + r.getFencingToken() + " is not above " + highestToken);
            }
        }
        synchronized (this) {
            return List.copyOf(problems);
        }
    }

    private synchronized long handOffs() {
        return handOffs;
    }

    synchronized long timedOutWhileHeld() {
        return timedOutWhileHeld;
    }

    synchronized long grants() {
        return grants;
    }

    synchronized long abandonedGrants() {
        return abandonedGrants;
    }

    private synchronized void record(String problem) {
        problems.add(problem);
    }
}
