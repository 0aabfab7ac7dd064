package dev.forkd.agent.grpc;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import dev.forkd.agent.SupervisorLink;
import dev.forkd.agent.v1.AgentMessage;
import io.grpc.stub.ClientCallStreamObserver;

/**
 * The agent's half of the Connect stream, across reconnections. Sends are serialised here because a
 * StreamObserver is not thread-safe and the pump, the launcher and the heartbeat all send.
 *
 * <p>While a stream is attached, readiness is gRPC's flow control. While none is (the supervisor
 * went away and the agent is dialling again), events are held here in order, up to
 * {@link #MAX_HELD_BYTES} of output: once that is reached the stream reports not ready, so the pump
 * stops reading the children's pipes and they block, as under {@code hold_output}. Starts and exits
 * are always held, whatever the output (they are bounded by the children the agent runs).
 * Heartbeats and stdin acks are dropped: they mean nothing to the next supervisor.
 *
 * <p>Messages written to a stream just before it broke may never have been read. So the lifecycle
 * events sent on the current stream (starts and exits, the last {@link #MAX_RECENT}) are kept and
 * sent again on the next one; the supervisor ignores one it has applied already.
 */
public final class Outbound implements SupervisorLink {
    /** Output held for the next supervisor; past it, the children's pipes fill and they block. */
    public static final long MAX_HELD_BYTES = 32L << 20;
    /** Lifecycle events kept for replay: several times any agent's capacity of children. */
    static final int MAX_RECENT = 4096;

    private final Runnable onReady;
    private volatile ClientCallStreamObserver<AgentMessage> stream;
    private volatile boolean ended;
    private volatile long heldBytes;
    private final ArrayDeque<AgentMessage> held = new ArrayDeque<>();
    private final ArrayDeque<AgentMessage> recent = new ArrayDeque<>();

    public Outbound(Runnable onReady) {
        this.onReady = onReady;
    }

    /**
     * Registers on {@code requestStream}, once its transport is up, unless {@code closed} says its
     * call has ended already. The register is built under this lock, so it sees the held events as
     * they are. Events stay held until the supervisor admits the agent ({@link #attach}).
     *
     * @return false if nothing was sent
     */
    synchronized boolean register(ClientCallStreamObserver<AgentMessage> requestStream,
            Supplier<AgentMessage> register, BooleanSupplier closed) {
        if (ended || closed.getAsBoolean()) {
            return false;
        }
        try {
            requestStream.onNext(register.get());
            return true;
        } catch (RuntimeException callAlreadyClosed) {
            return false; // its onError follows
        }
    }

    /**
     * The supervisor admitted the agent on {@code requestStream}: events go there from now on. First
     * what was sent on the last stream and may be lost, then what was held, in order.
     */
    synchronized void attach(ClientCallStreamObserver<AgentMessage> requestStream, BooleanSupplier closed) {
        if (ended || closed.getAsBoolean()) {
            return;
        }
        try {
            List<AgentMessage> replay = new ArrayList<>(recent);
            recent.clear();
            for (AgentMessage m : replay) {
                sendNow(requestStream, m);
            }
            while (!held.isEmpty()) {
                sendNow(requestStream, held.peekFirst());
                held.pollFirst();
            }
        } catch (RuntimeException callAlreadyClosed) {
            return; // its onError follows; what was not sent is kept in `recent` and `held`
        } finally {
            heldBytes = held.stream().mapToLong(m -> m.hasOutput() ? m.getOutput().getData().size() : 0).sum();
        }
        stream = requestStream;
        onReady.run();
    }

    /** The call of {@code requestStream} ended: events are held from now on until the next attach. */
    synchronized void detach(ClientCallStreamObserver<AgentMessage> requestStream) {
        if (stream == requestStream) {
            stream = null;
        }
        onReady.run(); // the pump may read again: into the held buffer
    }

    /** No supervisor will come back: what is held is dropped, and output is drained rather than stuck. */
    public synchronized void giveUp() {
        ended = true;
        held.clear();
        recent.clear();
        heldBytes = 0;
        onReady.run();
    }

    /**
     * The exits a new supervisor may not know: those held (told to no supervisor), and those sent on
     * the last stream, which its supervisor may have died before applying. A registration names these
     * children, so the new supervisor claims their records at once, before their exits are replayed.
     */
    public synchronized List<AgentMessage> unconfirmedExits() {
        List<AgentMessage> exits = new ArrayList<>();
        recent.stream().filter(AgentMessage::hasExited).forEach(exits::add);
        held.stream().filter(AgentMessage::hasExited).forEach(exits::add);
        return exits;
    }

    @Override
    public synchronized void send(AgentMessage message) {
        if (ended) {
            return;
        }
        ClientCallStreamObserver<AgentMessage> s = stream;
        if (s != null) {
            try {
                sendNow(s, message);
                return;
            } catch (RuntimeException callAlreadyClosed) {
                stream = null; // the call ended under us: keep it for the next supervisor
            }
        }
        hold(message);
    }

    private void sendNow(ClientCallStreamObserver<AgentMessage> s, AgentMessage message) {
        s.onNext(message);
        if (message.hasStarted() || message.hasExited() || message.hasStartFailed()) {
            recent.addLast(message);
            if (recent.size() > MAX_RECENT) {
                recent.pollFirst();
            }
        }
    }

    private void hold(AgentMessage message) {
        switch (message.getEventCase()) {
            case HEARTBEAT, STDIN_WRITTEN, REGISTER, EVENT_NOT_SET -> { }
            default -> {
                held.addLast(message);
                if (message.hasOutput()) {
                    heldBytes += message.getOutput().getData().size();
                }
            }
        }
    }

    @Override
    public boolean isReady() {
        if (ended) {
            return true;
        }
        ClientCallStreamObserver<AgentMessage> s = stream;
        return s != null ? s.isReady() : heldBytes < MAX_HELD_BYTES;
    }

    /** gRPC's on-ready callback of any stream: whoever waits for readiness looks again. */
    void wakeOnReady() {
        onReady.run();
    }

    /** Whether a stream is attached now. */
    public boolean isAttached() {
        return stream != null;
    }

    @Override
    public synchronized void complete() {
        if (!ended) {
            ended = true;
            ClientCallStreamObserver<AgentMessage> s = stream;
            if (s != null) {
                s.onCompleted();
            }
        }
    }
}
