package dev.forkd.bench;

import java.util.Optional;

/**
 * One line of the report: forkd's figure for a metric, and a peer's figure for the same work, or an
 * absolute target when there is no peer.
 *
 * @param peer the peer's name; empty for a row judged against an absolute target only
 * @param note anything a reader needs to read the figure right (e.g. output lost to the cap)
 */
public record Row(String scenario, String metric, String unit, Better better, Outcome forkd,
        String peer, Outcome peerFigure, Target target, String note) {

    /** A row for a whole scenario that cannot run here. */
    public static Row notAvailable(String scenario, String reason) {
        return new Row(scenario, "-", "", Better.HIGHER, new Outcome.NotAvailable(reason), "",
                new Outcome.NotAvailable(reason), Target.none(), "");
    }

    /** forkd's figure over the peer's, turned so that above 1 means forkd did better. */
    public Optional<Double> ratio() {
        if (forkd instanceof Outcome.Measured(Summary f) && peerFigure instanceof Outcome.Measured(Summary p)
                && !peer.isEmpty()) {
            double r = better.ratio(f.median(), p.median());
            return Double.isFinite(r) ? Optional.of(r) : Optional.empty();
        }
        return Optional.empty();
    }

    /** Whether the target is met; empty when there is no target or nothing to judge. */
    public Optional<Boolean> meetsTarget() {
        return switch (target) {
            case Target.Ratio(double r) -> ratio().map(x -> x >= r);
            case Target.Limit(double l) -> forkd instanceof Outcome.Measured(Summary f)
                    ? Optional.of(better.meets(f.median(), l)) : Optional.empty();
            case Target.None() -> Optional.empty();
        };
    }

    public Row withNote(String more) {
        return new Row(scenario, metric, unit, better, forkd, peer, peerFigure, target,
                note.isEmpty() ? more : note + "; " + more);
    }
}
