package dev.forkd.agent.grpc;

import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;

import dev.forkd.agent.CommandDispatcher;
import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.AgentServiceGrpc;
import dev.forkd.agent.v1.SupervisorMessage;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;

/**
 * One Connect call: commands in go to the dispatcher, events out go through {@link Outbound}. The
 * agent opens a new one each time it dials the supervisor (again); {@link Redialer} decides when.
 */
public final class AgentConnection implements ClientResponseObserver<AgentMessage, SupervisorMessage> {
    public static final Metadata.Key<String> TOKEN_HEADER =
            Metadata.Key.of("forkd-agent-token", Metadata.ASCII_STRING_MARSHALLER);
    /** More than one output chunk may be in flight before the stream reports not ready. */
    private static final int ON_READY_THRESHOLD = 1 << 20;

    private final System.Logger log = System.getLogger("forkd.agent");
    private final CommandDispatcher dispatcher;
    private final Outbound outbound;
    private final Supplier<AgentMessage> register;
    private final Runnable onAccepted;
    private final Consumer<Status> onEnded;
    private final CompletableFuture<Status> closed = new CompletableFuture<>();
    private volatile ClientCallStreamObserver<AgentMessage> requestStream;
    /** Whether the register was sent: once the call's transport is up, so that it is not lost with a failed dial. */
    private boolean registered;

    /**
     * @param register the AgentRegister to open the stream with, built when it is sent
     * @param onAccepted the supervisor admitted the registration
     * @param onEnded the call ended, with its status
     */
    public AgentConnection(CommandDispatcher dispatcher, Outbound outbound, Supplier<AgentMessage> register,
            Runnable onAccepted, Consumer<Status> onEnded) {
        this.dispatcher = dispatcher;
        this.outbound = outbound;
        this.register = register;
        this.onAccepted = onAccepted;
        this.onEnded = onEnded;
    }

    /** Opens the stream; it registers once connected, and held events follow once admitted. */
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
        this.requestStream = requestStream;
        requestStream.setOnReadyHandler(() -> {
            // The first ready: the stream exists on a connected transport (a call still waiting
            // for one is never ready), so the register and what follows it reach a supervisor.
            synchronized (this) {
                if (!registered && requestStream.isReady()) {
                    registered = outbound.register(requestStream, register, closed::isDone);
                }
            }
            outbound.wakeOnReady();
        });
    }

    @Override
    public void onNext(SupervisorMessage message) {
        if (message.hasAccepted()) {
            outbound.attach(requestStream, closed::isDone);
            onAccepted.run();
            return;
        }
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
        ended(status);
    }

    @Override
    public void onCompleted() {
        ended(Status.OK);
    }

    private void ended(Status status) {
        closed.complete(status); // before the detach: an attach that has not happened yet sees it
        outbound.detach(requestStream);
        onEnded.accept(status);
    }
}
