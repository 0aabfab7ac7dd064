package dev.forkd.client;

/**
 * Bytes a process wrote.
 *
 * @param stderr true for its stderr, false for its stdout
 * @param offset where the bytes start in the process's output (both streams counted together)
 * @param data the bytes; not to be changed
 */
public record OutputChunk(boolean stderr, long offset, byte[] data) {}
