package dev.forkd.server.pipe;

import dev.forkd.server.error.ForkdException;
import java.util.List;

/** How blocking pipe calls end. A timeout is an outcome, not an error. */
public final class PipeOutcomes {

    private PipeOutcomes() {}

    public sealed interface Send {
        record Done(int sent) implements Send {}

        record TimedOut() implements Send {}

        /** The other end (or this one) was closed, or the pipe deleted, while the send waited. */
        record Failed(ForkdException error) implements Send {}
    }

    public sealed interface Recv {
        record Messages(List<byte[]> messages) implements Recv {}

        record TimedOut() implements Recv {}

        /** The sending end is closed and everything it sent was received. */
        record Eof() implements Recv {}

        record Failed(ForkdException error) implements Recv {}
    }

    /** Poll: ready means a message or end-of-file is there. */
    public record Poll(boolean ready, boolean eof) {}
}
