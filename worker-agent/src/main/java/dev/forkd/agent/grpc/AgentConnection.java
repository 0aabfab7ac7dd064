package dev.forkd.agent.grpc;

import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;

import dev.forkd.agent.CommandDispatcher;
import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.AgentServiceGrpc;
import dev.forkd.agent.v1.SupervisorMessage;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;

/** The Connect call: commands in go to the dispatcher, events out go through {@link Outbound}. */
public final class AgentConnection implements ClientResponseObserver<AgentMessage, SupervisorMessage> {
    public static final Metadata.Key<String> TOKEN_HEADER =
            Metadata.Key.of("forkd-agent-token", Metadata.ASCII_STRING_MARSHALLER);
    /** More than one output chunk may be in flight before the stream reports not ready. */
    private static final int ON_READY_THRESHOLD = 1 << 20;

    private final System.Logger log = System.getLogger("forkd.agent");
    private final CommandDispatcher dispatcher;
    private final Outbound outbound;
    private final CompletableFuture<Status> closed = new CompletableFuture<>();

    public AgentConnection(CommandDispatcher dispatcher, Outbound outbound) {
        this.dispatcher = dispatcher;
        this.outbound = outbound;
    }

    /** Opens the stream; the caller then sends AgentRegister through the Outbound. */
    public void open(AgentServiceGrpc.AgentServiceStub stub, String token) {
        Metadata headers = new Metadata();
        headers.put(TOKEN_HEADER, token);
        stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .withOnReadyThreshold(ON_READY_THRESHOLD)
                .connect(this);
    }

    /** Completes with the call's final status. */
    public CompletableFuture<Status> closed() {
        return closed;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<AgentMessage> requestStream) {
        outbound.attach(requestStream);
    }

    @Override
    public void onNext(SupervisorMessage message) {
        try {
            dispatcher.handle(message);
        } catch (RuntimeException e) {
            log.log(Level.ERROR, "command " + message.getCommandCase() + " failed", e);
        }
    }

    @Override
    public void onError(Throwable t) {
        Status status = Status.fromThrowable(t);
        log.log(Level.WARNING, "supervisor stream failed: " + status.getCode() + " " + status.getDescription());
        outbound.closedBySupervisor();
        closed.complete(status);
        dispatcher.supervisorGone(false);
    }

    @Override
    public void onCompleted() {
        outbound.closedBySupervisor();
        closed.complete(Status.OK);
        dispatcher.supervisorGone(true);
    }
}
