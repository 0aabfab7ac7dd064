package dev.forkd.cli;

import com.google.protobuf.ByteString;
import dev.forkd.v1.TaskInput;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One job of {@code forkd map}: its sequence number (GNU parallel's {@code {#}} and joblog Seq, from
 * 1) and its input, either one item (stdin, or a single {@code :::} source) or one argument per input
 * source (several sources: {@code {1}}, {@code {2}}, ...).
 */
record MapJob(long seq, byte[] item, List<String> args) {

    static MapJob ofItem(long seq, byte[] item) {
        return new MapJob(seq, item, List.of());
    }

    static MapJob ofArgs(long seq, List<String> args) {
        return new MapJob(seq, new byte[0], List.copyOf(args));
    }

    boolean isTuple() {
        return !args.isEmpty();
    }

    /** The arguments as GNU parallel shows them ({@code --tag}, failure lines): joined by spaces. */
    String text() {
        return isTuple() ? String.join(" ", args) : new String(item, StandardCharsets.UTF_8);
    }

    /** The arguments one by one: one per source ({@code --results} names a directory after each). */
    List<String> values() {
        return isTuple() ? args : List.of(new String(item, StandardCharsets.UTF_8));
    }

    /** Bytes sent for the job (the joblog's Send column). */
    long sendBytes() {
        return text().getBytes(StandardCharsets.UTF_8).length;
    }

    /**
     * What goes to the server. With {@code numbered} the job number travels as one more argument,
     * for a command rewritten by {@link #numberedCommand} (jobs skipped by --resume-failed leave gaps
     * the server's stream index cannot know).
     */
    TaskInput input(boolean numbered) {
        if (numbered) {
            List<String> all = new ArrayList<>(values());
            all.add(Long.toString(seq));
            return TaskInput.newBuilder().addAllArgs(all).build();
        }
        return isTuple() ? TaskInput.newBuilder().addAllArgs(args).build()
                : TaskInput.newBuilder().setItem(ByteString.copyFrom(item)).build();
    }

    /**
     * A per-task command with its placeholders made positional for {@code sources} input sources:
     * {@code {}} becomes {@code {1} ... {n}} (the same text the server makes of it), with no
     * placeholder the arguments are appended one word each, as GNU parallel does, and with
     * {@code numbered} {@code {#}} becomes {@code {n+1}}, the job number {@link #input} appends.
     */
    static List<String> numberedCommand(List<String> command, int sources, boolean numbered) {
        StringBuilder all = new StringBuilder();
        for (int i = 1; i <= sources; i++) {
            all.append(i > 1 ? " " : "").append('{').append(i).append('}');
        }
        List<String> out = new ArrayList<>(command.size() + sources);
        boolean placeholder = false;
        for (String a : command) {
            placeholder |= PoolOptions.hasPlaceholder(a);
            String b = a.replace("{}", all);
            out.add(numbered ? b.replace("{#}", "{" + (sources + 1) + "}") : b);
        }
        if (!placeholder) {
            for (int i = 1; i <= sources; i++) {
                out.add("{" + i + "}");
            }
        }
        return out;
    }
}
