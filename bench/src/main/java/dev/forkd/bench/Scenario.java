package dev.forkd.bench;

import java.util.List;
import java.util.Optional;

/**
 * One benchmark: forkd and its peers doing the same work, measured in alternating rounds. To add
 * one, write a class and put it in {@link Scenarios#all()}.
 */
public interface Scenario {

    /** Short name, for {@code --only} and the table. */
    String name();

    /** What it measures, in a line. */
    String title();

    /** Empty when it can run against this server; else why not (reported "not available"). */
    default Optional<String> unavailable(Bench bench) throws Exception {
        return Optional.empty();
    }

    /** Runs it: warm-up, rounds, and the rows of figures and ratios. */
    List<Row> run(Bench bench) throws Exception;
}
