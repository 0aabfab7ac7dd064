package dev.forkd.server.pipe;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.store.IdBlocks;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.regex.Pattern;

/** The server's pipes by id and name; an end is named {@code <pipe id or name>.<0|1>}. */
public final class PipeRegistry {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,128}");
    private static final Pattern ID = Pattern.compile("pipe-[0-9]+");

    private final PipeLimits limits;
    private final ScheduledExecutorService timers;
    private final MemoryBudget memory;
    private final Map<String, Pipe> byId = new HashMap<>();
    private final Map<String, Pipe> byName = new HashMap<>();
    /** Pipe numbers: pipes are not kept, but their ids are never given twice across restarts. */
    private final IdBlocks ids;

    public PipeRegistry(PipeLimits limits, ScheduledExecutorService timers) {
        this(limits, timers, MemoryBudget.unlimited());
    }

    /** Pipes whose buffered messages are charged to the server's {@code memory} budget. */
    public PipeRegistry(PipeLimits limits, ScheduledExecutorService timers, MemoryBudget memory) {
        this(limits, timers, memory, StateStore.none());
    }

    /** Pipes whose ids are reserved in {@code store}, so that the next supervisor gives none of them again. */
    public PipeRegistry(PipeLimits limits, ScheduledExecutorService timers, MemoryBudget memory, StateStore store) {
        this.limits = limits;
        this.timers = timers;
        this.memory = memory;
        this.ids = new IdBlocks(store, "pipe");
    }

    /** One end of a pipe. */
    public record End(Pipe pipe, int end) {}

    public synchronized Pipe create(Optional<String> name, boolean duplex) {
        if (name.isPresent()) {
            if (!NAME.matcher(name.get()).matches()) {
                throw new ForkdException.InvalidArgument("name", "must be 1-128 letters, digits, '_' or '-'");
            }
            if (ID.matcher(name.get()).matches()) {
                throw new ForkdException.InvalidArgument("name", "must not look like a pipe id (p-<number>)");
            }
            if (byName.containsKey(name.get())) {
                throw new ForkdException.AlreadyExists("pipe", name.get());
            }
        }
        if (byId.size() >= limits.maxPipes()) {
            throw new ForkdException.ResourceExhausted("TOO_MANY_PIPES", "there are already " + byId.size()
                    + " pipes (the server's limit is " + limits.maxPipes() + "); delete some first");
        }
        long number;
        try {
            number = ids.next();
        } catch (StoreException e) {
            throw ForkdException.Unavailable.storeDidNotKeep("the new pipe's id", e);
        }
        Pipe p = new Pipe("pipe-" + number, name, duplex, limits, timers, memory);
        byId.put(p.id(), p);
        name.ifPresent(n -> byName.put(n, p));
        return p;
    }

    /** By pipe id or name, or an end id (which names its pipe). */
    public synchronized Pipe get(String ref, String field) {
        if (ref.isEmpty()) {
            throw new ForkdException.InvalidArgument(field, "is required (a pipe id or name)");
        }
        Pipe p = byId.get(ref);
        if (p == null) {
            p = byName.get(ref);
        }
        if (p == null) {
            int dot = ref.lastIndexOf('.');
            if (dot > 0 && (ref.endsWith(".0") || ref.endsWith(".1"))) {
                return get(ref.substring(0, dot), field);
            }
            throw new ForkdException.NotFound("pipe", ref);
        }
        return p;
    }

    /** An end by its id: {@code <pipe id or name>.0} or {@code .1}. */
    public End end(String ref) {
        if (ref.isEmpty()) {
            throw new ForkdException.InvalidArgument("name", "is required (an end name like pipe-1.0)");
        }
        int dot = ref.lastIndexOf('.');
        String suffix = dot < 0 ? "" : ref.substring(dot + 1);
        if (!suffix.equals("0") && !suffix.equals("1")) {
            throw new ForkdException.InvalidArgument("name", "must be a pipe id or name followed by .0 or .1, got \""
                    + ref + "\"");
        }
        return new End(get(ref.substring(0, dot), "end"), Integer.parseInt(suffix));
    }

    public String delete(String ref) {
        Pipe p;
        synchronized (this) {
            p = get(ref, "pipe");
            byId.remove(p.id());
            p.name().ifPresent(byName::remove);
        }
        p.delete();
        return p.id();
    }

    /** Every pipe (at most the table's limit). */
    public synchronized java.util.List<Pipe> all() {
        return java.util.List.copyOf(byId.values());
    }

    public synchronized int count() {
        return byId.size();
    }
}
