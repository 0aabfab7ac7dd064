package dev.forkd.server.pool;

import java.util.List;

/** One task's input: an item, or (starmap) an argument tuple. */
public record TaskInput(byte[] item, List<String> args) {

    public TaskInput {
        args = List.copyOf(args);
    }

    public static TaskInput of(byte[] item) {
        return new TaskInput(item, List.of());
    }

    /** The bytes this input holds while its task waits or runs (charged to the memory budget). */
    public long heldBytes() {
        long n = item.length;
        for (String a : args) {
            n += 2L * a.length();
        }
        return n;
    }

    public boolean isTuple() {
        return !args.isEmpty();
    }
}
