package dev.forkd.server.pipe;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A call blocked on one direction of a pipe until its turn comes, its deadline passes, or the pipe
 * ends it: a {@link Sender} waiting for room, a {@link Receiver} waiting for messages, a
 * {@link Poller} waiting until a receive would answer. Guarded by the pipe's lock.
 */
abstract sealed class PipeWaiter {

    /** Ends the wait when it passes; empty while the wait has no limit. */
    private Optional<ScheduledFuture<?>> deadline = Optional.empty();

    final void startDeadline(Optional<ScheduledFuture<?>> timer) {
        deadline = timer;
    }

    /** The wait ended another way: its deadline will not fire. */
    final void stopDeadline() {
        deadline.ifPresent(t -> t.cancel(false));
    }

    /** The answer of a wait whose deadline passed. */
    abstract Runnable timedOut();

    /** The answer of a wait the pipe ended: an end closed, or the pipe deleted. */
    abstract Runnable failed(ForkdException error);

    /** A send waiting for room: all or none, or as much as fits at a time ({@code partial}, a stream). */
    static final class Sender extends PipeWaiter {
        final List<byte[]> messages;
        final boolean partial;
        final long bytes;
        private final Consumer<PipeOutcomes.Send> done;
        /** The bytes of the messages not yet buffered: what the budget holds for this sender. */
        long unsentBytes;
        /** How many of the messages are buffered. */
        int next;

        Sender(List<byte[]> messages, boolean partial, long bytes, Consumer<PipeOutcomes.Send> done) {
            this.messages = messages;
            this.partial = partial;
            this.bytes = bytes;
            this.unsentBytes = bytes;
            this.done = done;
        }

        /** The sender leaves with messages unsent: the budget gets their bytes back. */
        void refund(MemoryBudget memory) {
            memory.release(unsentBytes);
            unsentBytes = 0;
        }

        Runnable sent() {
            return () -> done.accept(new PipeOutcomes.Send.Done(messages.size()));
        }

        @Override
        Runnable timedOut() {
            return () -> done.accept(new PipeOutcomes.Send.TimedOut());
        }

        @Override
        Runnable failed(ForkdException error) {
            return () -> done.accept(new PipeOutcomes.Send.Failed(error));
        }
    }

    /**
     * A receive waiting for up to {@code max} messages; one whose caller is gone (cancelled, its
     * connection lost) is handed nothing.
     */
    static final class Receiver extends PipeWaiter {
        final int max;
        private final Consumer<PipeOutcomes.Recv> done;
        private final BooleanSupplier callerGone;

        Receiver(int max, Consumer<PipeOutcomes.Recv> done, BooleanSupplier callerGone) {
            this.max = max;
            this.done = done;
            this.callerGone = callerGone;
        }

        boolean callerGone() {
            return callerGone.getAsBoolean();
        }

        Runnable received(List<byte[]> messages) {
            return () -> done.accept(new PipeOutcomes.Recv.Messages(messages));
        }

        /** The sending end is closed and everything it sent was received. */
        Runnable eof() {
            return () -> done.accept(new PipeOutcomes.Recv.Eof());
        }

        @Override
        Runnable timedOut() {
            return () -> done.accept(new PipeOutcomes.Recv.TimedOut());
        }

        @Override
        Runnable failed(ForkdException error) {
            return () -> done.accept(new PipeOutcomes.Recv.Failed(error));
        }
    }

    /** A poll waiting until a message or end-of-file is there. */
    static final class Poller extends PipeWaiter {
        private final Consumer<PipeOutcomes.Poll> done;

        Poller(Consumer<PipeOutcomes.Poll> done) {
            this.done = done;
        }

        Runnable ready(boolean eof) {
            return () -> done.accept(new PipeOutcomes.Poll(true, eof));
        }

        @Override
        Runnable timedOut() {
            return () -> done.accept(new PipeOutcomes.Poll(false, false));
        }

        /** A poll the pipe ended is answered "not ready", as one that timed out. */
        @Override
        Runnable failed(ForkdException error) {
            return timedOut();
        }
    }
}
