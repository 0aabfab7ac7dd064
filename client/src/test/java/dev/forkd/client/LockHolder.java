package dev.forkd.client;

import java.util.concurrent.CountDownLatch;

/**
 * A child program for the abandoned-lock test: as a forkd child it connects in its own session
 * (FORKD_ADDRESS, FORKD_SESSION), takes the lock named by its argument, says so on stdout, and holds
 * it until it is killed.
 */
public final class LockHolder {

    private LockHolder() {}

    public static void main(String[] args) throws InterruptedException {
        Forkd forkd = Forkd.connect();
        ForkdLock lock = forkd.lock(args[0]);
        lock.lock();
        System.out.println("held " + lock.fencingToken());
        System.out.flush();
        new CountDownLatch(1).await(); // until SIGKILL
    }
}
