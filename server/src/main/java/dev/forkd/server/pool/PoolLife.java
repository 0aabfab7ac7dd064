package dev.forkd.server.pool;

/**
 * Where a pool is in its life, and the one function that moves it on: a pool runs, is closed (its
 * tasks finish) or terminated (they fail), and ends once nothing is left to run.
 */
sealed interface PoolLife {

    Pool.Phase phase();

    /** Whether it was terminated rather than closed. */
    boolean terminated();

    /** Taking tasks. */
    record Running() implements PoolLife {
        @Override
        public Pool.Phase phase() {
            return Pool.Phase.RUNNING;
        }

        @Override
        public boolean terminated() {
            return false;
        }
    }

    /** Taking no more tasks; finishing (closed) or failing (terminated) the ones it has. */
    record Closing(boolean terminated) implements PoolLife {
        @Override
        public Pool.Phase phase() {
            return Pool.Phase.CLOSING;
        }
    }

    /** No task left and no worker running. */
    record Ended(boolean terminated) implements PoolLife {
        @Override
        public Pool.Phase phase() {
            return Pool.Phase.ENDED;
        }
    }

    /** What happens to a pool. */
    sealed interface Event {
        /** Close: no new tasks. */
        record Close() implements Event {}

        /** Terminate: no new tasks, and the unfinished ones fail. */
        record Terminate() implements Event {}

        /** The last task is answered and the last worker gone. */
        record Drained() implements Event {}
    }

    /** The life after {@code event}; the same one when the event changes nothing. */
    static PoolLife next(PoolLife now, Event event) {
        return switch (now) {
            case Running r -> switch (event) {
                case Event.Close c -> new Closing(false);
                case Event.Terminate t -> new Closing(true);
                case Event.Drained d -> r;
            };
            case Closing c -> switch (event) {
                case Event.Close x -> c;
                case Event.Terminate t -> new Closing(true);
                case Event.Drained d -> new Ended(c.terminated());
            };
            case Ended e -> e;
        };
    }
}
