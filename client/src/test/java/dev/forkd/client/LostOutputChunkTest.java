package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.v1.OutputLost;
import dev.forkd.v1.WatchProcessResponse;
import org.junit.jupiter.api.Test;

/** Output a server lost when it stopped reaches the library's readers as a chunk that says so. */
class LostOutputChunkTest {

    @Test
    void aLostEventIsAChunkOfNoBytesThatCountsWhatWasLost() {
        ProcessCalls.Event event = ProcessCalls.event(WatchProcessResponse.newBuilder()
                .setLost(OutputLost.newBuilder().setOffset(5).setResumedAt(4101)).build());
        OutputChunk chunk = assertInstanceOf(ProcessCalls.Event.Output.class, event).chunk();
        assertTrue(chunk.isLost());
        assertEquals(4096, chunk.lostBytes());
        assertEquals(5, chunk.offset());
        assertEquals(0, chunk.data().length);
        assertFalse(new OutputChunk(false, 0, new byte[] {1}).isLost(), "output is not a notice");
    }
}
