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
}
