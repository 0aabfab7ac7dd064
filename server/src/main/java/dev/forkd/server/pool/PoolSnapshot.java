package dev.forkd.server.pool;

import java.time.Instant;
import java.util.List;

/** A consistent copy of one pool's state, for answering clients. */
public record PoolSnapshot(
        String id,
        PoolSpec spec,
        Pool.Phase phase,
        long pending,
        long succeeded,
        long failed,
        long retried,
        long workersStarted,
        List<String> workerProcessIds,
        Instant createdAt) {}
