package dev.forkd.bench;

import dev.forkd.client.ForkdClient;
import java.util.List;
import java.util.Optional;

/**
 * A scenario whose forkd service has not landed: reported "not available" with the reason, never
 * skipped in silence. When the service lands, its driver replaces this entry in {@link Scenarios}.
 *
 * @param service the full gRPC service name it needs, e.g. {@code forkd.v1.SyncService}
 * @param peers the peer programs it will be compared with
 */
record PendingScenario(String name, String title, String service, String peers) implements Scenario {

    @Override
    public Optional<String> unavailable(Bench bench) throws Exception {
        List<String> served;
        try (ForkdClient c = bench.server().connect()) {
            served = Services.served(c);
        }
        if (!served.contains(service)) {
            return Optional.of("the server has no " + service + " yet (peers: " + peers + ")");
        }
        return Optional.of(service + " is served, but bench/ has no driver for it yet (peers: " + peers + ")");
    }

    @Override
    public List<Row> run(Bench bench) {
        throw new UnsupportedOperationException(name + " has no driver");
    }
}
