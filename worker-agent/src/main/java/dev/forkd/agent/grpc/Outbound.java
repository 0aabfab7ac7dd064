package dev.forkd.agent.grpc;

import dev.forkd.agent.SupervisorLink;
import dev.forkd.agent.v1.AgentMessage;
import io.grpc.stub.ClientCallStreamObserver;

/**
 * The agent's half of the Connect stream. Sends are serialised here because a StreamObserver is not
 * thread-safe and the pump, the launcher and the heartbeat all send. Readiness is gRPC's flow
 * control; the on-ready callback wakes whoever stopped reading output because of it.
 */
public final class Outbound implements SupervisorLink {
    private final Runnable onReady;
    private volatile ClientCallStreamObserver<AgentMessage> stream;
    private volatile boolean ended;

    public Outbound(Runnable onReady) {
        this.onReady = onReady;
    }

    /** From {@code beforeStart}, before any message is sent. */
    synchronized void attach(ClientCallStreamObserver<AgentMessage> requestStream) {
        this.stream = requestStream;
        requestStream.setOnReadyHandler(onReady);
    }

    @Override
    public synchronized void send(AgentMessage message) {
        if (ended) {
            return;
        }
        try {
            stream.onNext(message);
        } catch (RuntimeException callAlreadyClosed) {
            // The call ended under us (cancelled, or the supervisor went away): nobody to tell.
            ended = true;
        }
    }

    @Override
    public boolean isReady() {
        return ended || stream.isReady();
    }

    @Override
    public synchronized void complete() {
        if (!ended) {
            ended = true;
            stream.onCompleted();
        }
    }

    /** The supervisor's side ended: later events are dropped, and output no longer waits for readiness. */
    void closedBySupervisor() {
        ended = true;
        onReady.run();
    }
}
