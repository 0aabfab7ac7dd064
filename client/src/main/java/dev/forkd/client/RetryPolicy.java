package dev.forkd.client;

import io.grpc.ManagedChannelBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which calls a client repeats when the server is away (restarting, or crashed and coming back), and
 * how: gRPC's own retry policy, given as the channel's default service config, so the transport
 * repeats a call only while no answer has begun.
 *
 * <p>Only calls that change nothing, or that wait for something without taking it, are repeated:
 * repeating a {@code Spawn}, {@code Put} or {@code Acquire} whose first attempt the server carried out
 * before it died would start a second process, store a second item or take a second permit. Those fail
 * {@code UNAVAILABLE} and the caller decides.
 *
 * <p>The CLI and the Java library both build their channels in {@link ForkdClient}, so this one
 * definition serves both.
 */
public final class RetryPolicy {

    /** gRPC caps attempts at 5 whatever the config says; this is that cap, stated. */
    public static final int MAX_ATTEMPTS = 5;

    /**
     * Back-off before the first retry. Each later one grows by {@link #MULTIPLIER} up to
     * {@link #MAX_BACKOFF}, and gRPC waits a random time between 0 and that bound (full jitter), so
     * clients of one server do not come back at once.
     */
    public static final Duration INITIAL_BACKOFF = Duration.ofMillis(1000);

    /** The bound of any one wait between attempts. */
    public static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    /** How fast the back-off bound grows. */
    public static final double MULTIPLIER = 2.0;

    /**
     * The full names ({@code package.Service/Method}) of the calls that are repeated. Reads, listings,
     * joins and waits that take nothing, the undoing of an Acquire given up on (a repeat finds nothing
     * left to undo), and the opening of watch streams (a stream is repeated only
     * until its first answer arrives).
     */
    public static final Set<String> IDEMPOTENT_METHODS = Set.of(
            "forkd.v1.ProcessService/Get",
            "forkd.v1.ProcessService/List",
            "forkd.v1.ProcessService/Join",
            "forkd.v1.ProcessService/Watch",
            "forkd.v1.ProgramService/List",
            "forkd.v1.EventService/Watch",
            "forkd.v1.QueueService/Get",
            "forkd.v1.QueueService/List",
            "forkd.v1.QueueService/Size",
            "forkd.v1.QueueService/Join",
            "forkd.v1.PipeService/Get",
            "forkd.v1.PipeService/List",
            "forkd.v1.PipeService/Poll",
            "forkd.v1.PoolService/Get",
            "forkd.v1.PoolService/List",
            "forkd.v1.PoolService/Join",
            "forkd.v1.PoolService/GetResult",
            "forkd.v1.SharedService/GetValue",
            "forkd.v1.SharedService/GetDictItem",
            "forkd.v1.SharedService/ListDictItems",
            "forkd.v1.SharedService/GetListItem",
            "forkd.v1.SharedService/SliceList",
            "forkd.v1.SharedService/GetArray",
            "forkd.v1.SharedService/List",
            "forkd.v1.SharedService/Watch",
            "forkd.v1.SyncService/Get",
            "forkd.v1.SyncService/List",
            "forkd.v1.SyncService/WaitEvent",
            "forkd.v1.SyncService/CancelAcquire",
            "grpc.health.v1.Health/Check");

    private RetryPolicy() {
    }

    /** True if a call to {@code fullMethodName} ({@code package.Service/Method}) is repeated on UNAVAILABLE. */
    public static boolean repeats(String fullMethodName) {
        return IDEMPOTENT_METHODS.contains(fullMethodName);
    }

    /**
     * The service config, in the shape {@link ManagedChannelBuilder#defaultServiceConfig(Map)} takes
     * (JSON as maps, lists, strings and doubles).
     */
    public static Map<String, ?> serviceConfig() {
        List<Map<String, ?>> names = new ArrayList<>(IDEMPOTENT_METHODS.size());
        for (String full : IDEMPOTENT_METHODS.stream().sorted().toList()) {
            int slash = full.indexOf('/');
            names.add(Map.of("service", full.substring(0, slash), "method", full.substring(slash + 1)));
        }
        Map<String, ?> retry = Map.of(
                "maxAttempts", (double) MAX_ATTEMPTS,
                "initialBackoff", seconds(INITIAL_BACKOFF),
                "maxBackoff", seconds(MAX_BACKOFF),
                "backoffMultiplier", MULTIPLIER,
                "retryableStatusCodes", List.of("UNAVAILABLE"));
        return Map.of("methodConfig", List.of(Map.of("name", names, "retryPolicy", retry)));
    }

    /** Gives {@code builder} this policy, with retries on (they are by default; said here so it holds). */
    public static <T extends ManagedChannelBuilder<T>> T applyTo(T builder) {
        return builder.defaultServiceConfig(serviceConfig()).enableRetry().maxRetryAttempts(MAX_ATTEMPTS);
    }

    /** A duration as the service config writes it: decimal seconds with an {@code s}. */
    private static String seconds(Duration d) {
        return java.math.BigDecimal.valueOf(d.toNanos(), 9).stripTrailingZeros().toPlainString() + "s";
    }
}
