package dev.forkd.server;

import dev.forkd.server.agent.AgentLauncher;
import dev.forkd.server.agent.AgentLink;
import dev.forkd.server.process.OutputFiles;
import dev.forkd.server.store.StateDirectory;
import dev.forkd.server.store.StateStore;
import io.grpc.Server;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * How a started server stops, whoever asks (SIGTERM, {@code forkd shutdown [--keep-children]}, a
 * start that failed half-way): one of the two {@link ServerLife.Stop}s, the first asked being the
 * only one that runs, then the same release of what the start took, in the order that keeps what
 * the cores wrote.
 */
final class ServerStop {

    private static final Logger LOG = Logger.getLogger(ServerStop.class.getName());

    /** What a start took and a stop gives back. */
    record Taken(Listeners.Started listening, AgentLauncher launcher, ForkdServices services,
            ScheduledExecutorService timers, ExecutorService streams, EventLoopGroup boss, EventLoopGroup workers,
            Optional<StateDirectory> stateDir, StateStore store, OutputFiles outputs) {}

    private final Duration shutdownGrace;
    private final Taken taken;
    /** Guarded by this. */
    private boolean stopping;
    /** Open until a stop has released everything. */
    private final CountDownLatch stopped = new CountDownLatch(1);

    ServerStop(Duration shutdownGrace, Taken taken) {
        this.shutdownGrace = shutdownGrace;
        this.taken = taken;
    }

    /** Stops as {@code how} says, unless a stop already began. */
    synchronized void stop(ServerLife.Stop how) {
        if (stopping) {
            return;
        }
        stopping = true;
        switch (how) {
            case EVERYTHING -> stopEverything();
            case KEEP_CHILDREN -> leaveChildren();
        }
        release();
    }

    /** No new calls, agents told to stop their children (SIGTERM, then SIGKILL), all reaped. */
    private void stopEverything() {
        ForkdServices services = taken.services();
        AgentLauncher launcher = taken.launcher();
        services.beforeStop();
        services.health().enterTerminalState();
        taken.listening().all().forEach(Server::shutdown);
        launcher.stopReplacing();
        int graceMillis = (int) shutdownGrace.toMillis();
        for (AgentLink link : services.agents().links()) {
            link.shutdown(graceMillis);
        }
        try {
            if (!launcher.awaitAllExited(shutdownGrace.plusSeconds(5))) {
                LOG.warning("agents did not stop in time; killing them");
            }
            launcher.close();
            launcher.awaitAllExited(Duration.ofSeconds(5));
            services.cgroups().removeAll(); // the children are gone: their cgroups go too
            for (Server s : taken.listening().all()) {
                s.shutdownNow();
                s.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Exits leaving the agents and their children running, for the next supervisor on the same state
     * directory to adopt: no new calls, the agents' streams are cut (they dial back for their orphan
     * grace), and nothing is killed.
     */
    private void leaveChildren() {
        ForkdServices services = taken.services();
        services.beforeStop(); // the cut streams leave sessions and pool tasks kept, as in stopEverything
        services.health().enterTerminalState();
        // First: the agents' streams end next, and that must not count as their loss.
        services.agents().leaveAgents();
        taken.launcher().leaveAgents();
        for (Server s : taken.listening().all()) {
            s.shutdownNow();
        }
        try {
            for (Server s : taken.listening().all()) {
                s.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info(() -> "exiting; " + taken.launcher().agentPids().size() + " agents and their children keep running"
                + " for the next supervisor");
    }

    /** What both ways of stopping release once the listeners are down. */
    private void release() {
        taken.services().observers().close();
        taken.boss().shutdownGracefully(0, 1, TimeUnit.SECONDS);
        taken.workers().shutdownGracefully(0, 1, TimeUnit.SECONDS);
        taken.timers().shutdownNow();
        taken.streams().shutdownNow();
        taken.outputs().close(); // what was captured is in the files
        releaseState(taken.stateDir(), taken.store()); // after the cores stopped changing: what they wrote is committed
        taken.listening().localSocket().remove();
        stopped.countDown();
    }

    /** Waits, at most {@code limit}, until a stop has released everything. */
    boolean awaitStopped(Duration limit) throws InterruptedException {
        return stopped.await(limit.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Gives back what a start took, whether it failed or the server stopped: the store is closed (its
     * writes committed), then the state directory's lock released, so the next {@code forkd serve}
     * can take it.
     */
    static void releaseState(Optional<StateDirectory> stateDir, StateStore... stores) {
        for (StateStore s : stores) {
            s.close();
        }
        if (stateDir.isPresent()) {
            try {
                stateDir.get().close();
            } catch (IOException e) {
                LOG.warning("cannot release the state directory " + stateDir.get().path() + ": " + e.getMessage());
            }
        }
    }
}
