package dev.forkd.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A figure measured over several runs: the median, the lowest and the highest.
 *
 * @param median the middle run (the mean of the two middle ones for an even count)
 * @param runs how many runs the figure comes from
 */
public record Summary(double median, double min, double max, int runs) {

    public Summary {
        if (runs < 1) {
            throw new IllegalArgumentException("a summary needs at least one run");
        }
    }

    public static Summary of(List<Double> samples) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
        List<Double> sorted = new ArrayList<>(samples);
        Collections.sort(sorted);
        int n = sorted.size();
        double median = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
        return new Summary(median, sorted.getFirst(), sorted.getLast(), n);
    }

    /**
     * The value below which a fraction {@code p} of {@code values} lie (nearest rank), e.g. p99 of
     * latencies. Sorts {@code values} in place.
     */
    public static double percentile(double[] values, double p) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no values");
        }
        java.util.Arrays.sort(values);
        int rank = (int) Math.ceil(p * values.length);
        return values[Math.clamp(rank - 1, 0, values.length - 1)];
    }
}
