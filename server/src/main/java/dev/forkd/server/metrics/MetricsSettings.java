package dev.forkd.server.metrics;

import dev.forkd.address.ListenAddress;
import java.util.Optional;

/**
 * {@code forkd serve}'s metrics flags.
 *
 * @param listen where to serve Prometheus' text format ({@code --metrics-listen}); empty: nowhere
 * @param perResourceLabels how many queues and locks get a series of their own
 *     ({@code --metrics-per-resource-labels}); the rest are summed under {@code queue="_other"}
 */
public record MetricsSettings(Optional<ListenAddress.Tcp> listen, int perResourceLabels) {

    /** The most per-resource series a user may ask for: each costs memory in Prometheus too. */
    public static final int MAX_PER_RESOURCE_LABELS = 1000;

    public static final MetricsSettings NONE = new MetricsSettings(Optional.empty(), 0);

    public MetricsSettings {
        if (perResourceLabels < 0 || perResourceLabels > MAX_PER_RESOURCE_LABELS) {
            throw new IllegalArgumentException("--metrics-per-resource-labels must be between 0 and "
                    + MAX_PER_RESOURCE_LABELS + ", got " + perResourceLabels);
        }
    }
}
