package dev.forkd.server.sync;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A named primitive's state: what {@link SyncTable} changes under its monitor, and what
 * {@link SyncRecords} keeps in the store. Waiters are in the state but never kept: a call waiting
 * when the server stops fails UNAVAILABLE, and its client retries.
 */
abstract sealed class Primitive permits Primitive.Mutex, Primitive.Semaphore, Primitive.Event,
        Primitive.Condition, Primitive.Barrier {

    final String name;
    final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

    Primitive(String name) {
        this.name = name;
    }

    abstract SyncKind kind();

    /** Nothing waits on it (kinds that can be held also need it free): it may be deleted. */
    boolean idle() {
        return waiters.isEmpty();
    }

    /** A lock is free or held by one session, possibly several times (RLock). */
    sealed interface LockState {
        record Free() implements LockState {}

        record Held(String owner, int depth, long token) implements LockState {}
    }

    static final LockState FREE = new LockState.Free();

    /** A barrier fills up and passes, or is broken until reset. */
    sealed interface BarrierState {
        record Filling() implements BarrierState {}

        record Broken() implements BarrierState {}
    }

    static final BarrierState FILLING = new BarrierState.Filling();
    static final BarrierState BROKEN = new BarrierState.Broken();

    static final class Mutex extends Primitive {
        final boolean reentrant;
        LockState state = FREE;
        /** The last holder's session ended holding it: the next grant is told. */
        boolean abandoned;
        long lastToken;

        Mutex(String name, boolean reentrant) {
            super(name);
            this.reentrant = reentrant;
        }

        @Override
        SyncKind kind() {
            return reentrant ? SyncKind.RLOCK : SyncKind.LOCK;
        }

        @Override
        boolean idle() {
            return state instanceof LockState.Free && super.idle();
        }
    }

    static final class Semaphore extends Primitive {
        final boolean bounded;
        final int initial;
        int value;
        /** Permits each session holds, returned when it ends; oldest holder first. */
        final Map<String, Integer> held = new LinkedHashMap<>();
        boolean abandoned;
        long lastToken;

        Semaphore(String name, boolean bounded, int initial) {
            super(name);
            this.bounded = bounded;
            this.initial = initial;
            this.value = initial;
        }

        @Override
        SyncKind kind() {
            return bounded ? SyncKind.BOUNDED_SEMAPHORE : SyncKind.SEMAPHORE;
        }

        @Override
        boolean idle() {
            return super.idle() && held.isEmpty();
        }
    }

    static final class Event extends Primitive {
        boolean set;

        Event(String name) {
            super(name);
        }

        @Override
        SyncKind kind() {
            return SyncKind.EVENT;
        }
    }

    static final class Condition extends Primitive {
        final String lock;

        Condition(String name, String lock) {
            super(name);
            this.lock = lock;
        }

        @Override
        SyncKind kind() {
            return SyncKind.CONDITION;
        }
    }

    static final class Barrier extends Primitive {
        final int parties;
        BarrierState state = FILLING;

        Barrier(String name, int parties) {
            super(name);
            this.parties = parties;
        }

        @Override
        SyncKind kind() {
            return SyncKind.BARRIER;
        }
    }
}
