package dev.forkd.server.grpc;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import dev.forkd.server.agent.AgentLink;
import dev.forkd.server.agent.AgentRegistry;
import dev.forkd.server.agent.AgentStreamHandler;
import dev.forkd.server.limits.ProcessCgroups;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.AgentServiceGrpc;
import dev.forkd.agent.v1.SupervisorMessage;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.Executor;
import java.util.logging.Logger;

/** AgentService: one stream per agent, handed to an {@link AgentStreamHandler}. */
public final class AgentServiceAdapter extends AgentServiceGrpc.AgentServiceImplBase {

    private static final Logger LOG = Logger.getLogger(AgentServiceAdapter.class.getName());

    private final AgentRegistry registry;
    private final ProcessTable processes;
    private final Executor executor;
    private final ProcessCgroups cgroups;

    public AgentServiceAdapter(AgentRegistry registry, ProcessTable processes, Executor executor) {
        this(registry, processes, executor, ProcessCgroups.none("this server makes no cgroups"));
    }

    /** @param cgroups the children's cgroups: made before a start, removed at the exit */
    public AgentServiceAdapter(AgentRegistry registry, ProcessTable processes, Executor executor,
            ProcessCgroups cgroups) {
        this.cgroups = cgroups;
        this.registry = registry;
        this.processes = processes;
        this.executor = executor;
    }

    @Override
    public StreamObserver<AgentMessage> connect(StreamObserver<SupervisorMessage> out) {
        var serverOut = (ServerCallStreamObserver<SupervisorMessage>) out;
        // Commands come from many threads; a stream observer is not thread-safe.
        var handler = new AgentStreamHandler(registry, processes, new AgentLink.Outlet() {
            @Override
            public boolean isReady() {
                return serverOut.isReady() || serverOut.isCancelled();
            }

            @Override
            public void send(SupervisorMessage m) {
                synchronized (serverOut) {
                    try {
                        if (!serverOut.isCancelled()) {
                            serverOut.onNext(m);
                        }
                    } catch (IllegalStateException closedAlready) {
                        // The agent is gone; its loss is handled where the stream ended.
                    }
                }
            }
        }, executor, cgroups);
        serverOut.setOnReadyHandler(handler::onReady);
        return new StreamObserver<>() {
            private boolean closed;

            @Override
            public void onNext(AgentMessage m) {
                if (closed) {
                    return;
                }
                try {
                    handler.onMessage(m);
                } catch (IllegalArgumentException e) {
                    end("sent a bad message: " + e.getMessage(),
                            Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
                } catch (AgentRegistry.Refused e) {
                    LOG.warning("refused an agent registration: " + e.getMessage());
                    end("refused", refusal(e));
                } catch (RuntimeException e) {
                    // A fault in handling one event (a bug on this side, as the overflow of issue 10 was)
                    // must not end the stream: the agent would take every client's children with it.
                    LOG.log(java.util.logging.Level.WARNING, "handling an agent event failed; the stream goes on", e);
                }
            }

            private void end(String cause, RuntimeException status) {
                closed = true;
                handler.onClosed(cause);
                synchronized (serverOut) {
                    serverOut.onError(status);
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
                    synchronized (serverOut) {
                        serverOut.onCompleted();
                    }
                }
                LOG.fine("agent stream completed");
            }
        };
    }

    /** PERMISSION_DENIED for a stranger or a wrong secret, ALREADY_EXISTS for a taken id. */
    private static RuntimeException refusal(AgentRegistry.Refused e) {
        Code code = switch (e.refusal()) {
            case ALREADY_REGISTERED -> Code.ALREADY_EXISTS;
            case UNKNOWN_AGENT, WRONG_SECRET, WRONG_PID -> Code.PERMISSION_DENIED;
        };
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(code.getNumber())
                .setMessage(e.getMessage())
                .addDetails(Any.pack(ErrorInfo.newBuilder().setDomain(ErrorMapper.DOMAIN)
                        .setReason("AGENT_" + e.refusal().name()).build()))
                .build());
    }
}
