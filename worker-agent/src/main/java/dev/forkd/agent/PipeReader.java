package dev.forkd.agent;

import dev.forkd.v1.OutputStream;

/** The pump's state for one of a child's output pipes (pump thread only). */
final class PipeReader {
    /** How much a pipe may still yield once its child has ended and the drain deadline passed. */
    static final long CLOSING_BUDGET = 1 << 20;

    final PumpedChild owner;
    final OutputStream kind;
    final int fd;
    final long token;
    /** In the pump's queue of pipes that may have data (epoll is edge-triggered). */
    boolean queued;
    boolean open = true;
    /** Past the drain deadline: close at the next empty read or once the budget is spent. */
    boolean closing;
    long closingBudget = CLOSING_BUDGET;

    PipeReader(PumpedChild owner, OutputStream kind, int fd, long token) {
        this.owner = owner;
        this.kind = kind;
        this.fd = fd;
        this.token = token;
    }
}
