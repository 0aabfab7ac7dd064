package dev.forkd.server.queue;

/**
 * One place in a queue's line of takers, served first come, first served: a Take call, or a Consume
 * stream that has credit (which goes back to the end of the line while it has credit left).
 */
sealed interface Taker permits TakeCall, QueueConsumer {}
