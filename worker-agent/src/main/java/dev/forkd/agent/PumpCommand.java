package dev.forkd.agent;

import com.google.protobuf.ByteString;

/** What other threads ask of the {@link OutputPump}; it alone touches pipes after a spawn. */
sealed interface PumpCommand {

    /** A child was spawned and its ChildStarted sent: start reading its output. */
    record Watch(Child child) implements PumpCommand {
    }

    /** The child's leader ended (its group was killed): finish its output, then report the exit. */
    record Exit(Child child, int exitCode) implements PumpCommand {
    }

    /** Stop or resume reading the child's output (a lossless watcher is behind). */
    record Hold(ChildKey key, boolean hold) implements PumpCommand {
    }

    /** Write to the child's stdin, then close it if asked. */
    record Stdin(ChildKey key, ByteString data, boolean close) implements PumpCommand {
    }
}
