package dev.forkd.client;

/**
 * One task's result: its index in the input (from 0) and its output (stdout for a per-task command,
 * the response line for a persistent worker).
 */
public record TaskResult(long index, byte[] output) {}
