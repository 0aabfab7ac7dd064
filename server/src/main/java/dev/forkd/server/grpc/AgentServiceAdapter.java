package dev.forkd.server.grpc;

import dev.forkd.server.agent.AgentRegistry;
import dev.forkd.server.agent.AgentStreamHandler;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.v1.AgentMessage;
import dev.forkd.v1.AgentServiceGrpc;
import dev.forkd.v1.SupervisorMessage;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.logging.Logger;

/** AgentService: one stream per agent, handed to an {@link AgentStreamHandler}. */
public final class AgentServiceAdapter extends AgentServiceGrpc.AgentServiceImplBase {

    private static final Logger LOG = Logger.getLogger(AgentServiceAdapter.class.getName());

    private final AgentRegistry registry;
    private final ProcessTable processes;

    public AgentServiceAdapter(AgentRegistry registry, ProcessTable processes) {
        this.registry = registry;
        this.processes = processes;
    }

    @Override
    public StreamObserver<AgentMessage> connect(StreamObserver<SupervisorMessage> out) {
        var serverOut = (ServerCallStreamObserver<SupervisorMessage>) out;
        // Commands come from many threads; a stream observer is not thread-safe.
        var handler = new AgentStreamHandler(registry, processes, m -> {
            synchronized (serverOut) {
                try {
                    if (!serverOut.isCancelled()) {
                        serverOut.onNext(m);
                    }
                } catch (IllegalStateException closedAlready) {
                    // The agent is gone; its loss is handled where the stream ended.
                }
            }
        });
        return new StreamObserver<>() {
            private boolean closed;

            @Override
            public void onNext(AgentMessage m) {
                try {
                    handler.onMessage(m);
                } catch (IllegalArgumentException e) {
                    closed = true;
                    handler.onClosed("sent a bad message: " + e.getMessage());
                    synchronized (serverOut) {
                        serverOut.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
                    }
                } catch (RuntimeException e) {
                    // A fault in handling one event (a bug on this side, as the overflow of issue 10 was)
                    // must not end the stream: the agent would take every client's children with it.
                    LOG.log(java.util.logging.Level.WARNING, "handling an agent event failed; the stream goes on", e);
                }
            }

            @Override
            public void onError(Throwable t) {
                if (!closed) {
                    closed = true;
                    handler.onClosed("disconnected (" + Status.fromThrowable(t).getCode() + ")");
                }
            }

            @Override
            public void onCompleted() {
                if (!closed) {
                    closed = true;
                    handler.onClosed("closed its stream");
                }
                synchronized (serverOut) {
                    serverOut.onCompleted();
                }
                LOG.fine("agent stream completed");
            }
        };
    }
}
