package dev.forkd.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code forkd map}'s input sources, as GNU parallel reads them: the words after each {@code :::}
 * are one source, and the jobs are every combination of one value from each source, the last
 * source varying fastest ({@code ::: a b ::: 1 2} is a 1, a 2, b 1, b 2). A source after
 * {@code :::+} is linked to the one before it: their values are paired one by one, and the
 * shorter decides how many pairs there are (GNU parallel 20221122 does the same). Without
 * {@code :::}, each line (or NUL-ended item) of stdin is one job.
 */
final class MapInputs {

    static final String SOURCE = ":::";
    static final String LINKED = ":::+";

    /** The command words, and the sources after it (empty when items come from stdin). */
    record Parsed(List<String> command, List<List<List<String>>> groups) {
        /** How many input sources there are: arguments per job. */
        int sources() {
            return groups.isEmpty() ? 1 : groups.stream().mapToInt(List::size).sum();
        }

        boolean fromStdin() {
            return groups.isEmpty();
        }
    }

    private MapInputs() {}

    /**
     * Splits {@code words} into the command and its sources. Each group is a list of linked sources.
     *
     * @throws IllegalArgumentException for a {@code :::+} with nothing to link to, or GNU parallel's
     *     {@code ::::} (files as sources), which forkd does not read
     */
    static Parsed parse(List<String> words) {
        int first = -1;
        for (int i = 0; i < words.size() && first < 0; i++) {
            if (isSeparator(words.get(i))) {
                first = i;
            }
        }
        if (first < 0) {
            return new Parsed(words, List.of());
        }
        List<List<List<String>>> groups = new ArrayList<>();
        List<String> current = null;
        for (String w : words.subList(first, words.size())) {
            if (w.equals(SOURCE) || w.equals(LINKED)) {
                if (w.equals(LINKED) && groups.isEmpty()) {
                    throw new IllegalArgumentException("':::+' links its values to the source before it: put a ':::' source first");
                }
                current = new ArrayList<>();
                if (w.equals(SOURCE)) {
                    groups.add(new ArrayList<>());
                }
                groups.getLast().add(current);
            } else if (w.equals("::::") || w.equals("::::+")) {
                throw new IllegalArgumentException("'" + w + "' (a file of items) is not supported: give the items after"
                        + " ':::', or on stdin");
            } else {
                current.add(w);
            }
        }
        return new Parsed(words.subList(0, first), groups);
    }

    private static boolean isSeparator(String w) {
        return w.equals(SOURCE) || w.equals(LINKED) || w.equals("::::") || w.equals("::::+");
    }

    /** How many jobs the groups make (the product of the groups' lengths); empty past a long. */
    static Optional<Long> count(List<List<List<String>>> groups) {
        long n = 1;
        try {
            for (List<List<String>> g : groups) {
                n = Math.multiplyExact(n, length(g));
            }
        } catch (ArithmeticException e) {
            return Optional.empty();
        }
        return Optional.of(n);
    }

    /** Linked sources pair up to the shortest. */
    private static long length(List<List<String>> group) {
        return group.stream().mapToLong(List::size).min().orElse(0);
    }

    /** The jobs of {@code groups}, made as they are asked for (combinations are never all held). */
    static JobSource combinations(List<List<List<String>>> groups, Set<Long> skip) {
        int[] lengths = groups.stream().mapToInt(g -> (int) length(g)).toArray();
        boolean single = groups.size() == 1 && groups.getFirst().size() == 1;
        return new JobSource() {
            private final int[] digits = new int[lengths.length];
            private long seq;
            private boolean exhausted = java.util.Arrays.stream(lengths).anyMatch(l -> l == 0);

            @Override
            public Optional<MapJob> next() {
                while (!exhausted) {
                    MapJob job = current();
                    advance();
                    if (!skip.contains(job.seq())) {
                        return Optional.of(job);
                    }
                }
                return Optional.empty();
            }

            private MapJob current() {
                seq++;
                if (single) {
                    return MapJob.ofItem(seq, groups.getFirst().getFirst().get(digits[0]).getBytes(StandardCharsets.UTF_8));
                }
                List<String> args = new ArrayList<>();
                for (int g = 0; g < lengths.length; g++) {
                    for (List<String> source : groups.get(g)) {
                        args.add(source.get(digits[g]));
                    }
                }
                return MapJob.ofArgs(seq, args);
            }

            /** The last source varies fastest, as GNU parallel's. */
            private void advance() {
                for (int g = lengths.length - 1; g >= 0; g--) {
                    if (++digits[g] < lengths[g]) {
                        return;
                    }
                    digits[g] = 0;
                }
                exhausted = true;
            }

            @Override
            public boolean buffered() {
                return true;
            }
        };
    }

    /** Each item of stdin is a job. */
    static JobSource stdin(Items in, Set<Long> skip) {
        return new JobSource() {
            private long seq;

            @Override
            public Optional<MapJob> next() throws IOException {
                for (Optional<byte[]> item = in.next(); item.isPresent(); item = in.next()) {
                    seq++;
                    if (!skip.contains(seq)) {
                        return Optional.of(MapJob.ofItem(seq, item.get()));
                    }
                }
                return Optional.empty();
            }

            @Override
            public boolean buffered() {
                return in.buffered();
            }
        };
    }

    /** Where jobs come from, one at a time. */
    interface JobSource {
        /** The next job to run, empty at the end; may block on stdin. */
        Optional<MapJob> next() throws IOException;

        /** Whether the next job is at hand without blocking (else what is gathered goes out now). */
        boolean buffered();
    }
}
