package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import dev.forkd.v1.OutputChunk;
import dev.forkd.v1.OutputLost;
import dev.forkd.v1.OutputStream;
import dev.forkd.v1.WatchProcessResponse;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What `forkd logs` and `forkd run` print of a watch's events. */
class OutputSinkTest {

    private static WatchProcessResponse output(long offset, String text) {
        return WatchProcessResponse.newBuilder().setOutput(OutputChunk.newBuilder()
                .setStream(OutputStream.OUTPUT_STREAM_STDOUT).setOffset(offset)
                .setData(ByteString.copyFromUtf8(text))).build();
    }

    @Test
    void lostOutputIsOneLineOnStderrWhereTheBytesWere() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Invocation inv = new Invocation(Map.of(), Path.of("."), new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                false);
        new OutputSink(inv).drain(List.of(
                output(0, "kept\n"),
                WatchProcessResponse.newBuilder().setLost(OutputLost.newBuilder().setOffset(5).setResumedAt(4101)).build(),
                output(4101, "after\n")).iterator());
        assertEquals("kept\nafter\n", out.toString(StandardCharsets.UTF_8));
        assertEquals("forkd: 4096 bytes of output lost (offsets 5-4101) when the server stopped\n",
                err.toString(StandardCharsets.UTF_8));
    }

    private static Invocation invocation(ByteArrayOutputStream out, ByteArrayOutputStream err) {
        return new Invocation(Map.of(), Path.of("."), new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                false);
    }

    private static WatchProcessResponse lost(long offset, long resumedAt) {
        return WatchProcessResponse.newBuilder().setLost(OutputLost.newBuilder().setOffset(offset).setResumedAt(resumedAt))
                .build();
    }

    /** `logs --tail N` tells of output lost among its last N lines, and not of a hole before them. */
    @Test
    void aTailTellsOfLostOutputWithinItsLinesOnly() throws Exception {
        List<WatchProcessResponse> log = List.of(
                output(0, "one\n"),
                lost(4, 104),
                output(104, "two\nthree\n"),
                lost(114, 214),
                output(214, "four\n"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        LogTail tail = LogTail.read(log.iterator(), 0);
        tail.print(2, invocation(out, err));
        assertEquals("three\nfour\n", out.toString(StandardCharsets.UTF_8));
        assertEquals("forkd: 100 bytes of output lost (offsets 114-214) when the server stopped\n",
                err.toString(StandardCharsets.UTF_8));
        assertEquals(219, tail.end());

        out.reset();
        err.reset();
        LogTail.read(log.iterator(), 0).print(1, invocation(out, err));
        assertEquals("four\n", out.toString(StandardCharsets.UTF_8));
        assertEquals("", err.toString(StandardCharsets.UTF_8), "the hole is before the last line");
    }
}
