package dev.forkd.client;

import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import dev.forkd.v1.SessionServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A session held open by this client: the {@code Open} stream stays up and a renewal goes out every
 * third of the lease. Closing ends the stream, which ends the session and terminates its daemon
 * processes.
 */
public final class ClientSession implements AutoCloseable {

    private final String publicId;
    private final String credential;
    private final ClientCallStreamObserver<OpenSessionRequest> requests;
    private final ScheduledExecutorService renewals;
    private boolean closed; // guarded by requests

    private ClientSession(String publicId, String credential,
            ClientCallStreamObserver<OpenSessionRequest> requests, ScheduledExecutorService renewals) {
        this.publicId = publicId;
        this.credential = credential;
        this.requests = requests;
        this.renewals = renewals;
    }

    static ClientSession open(
            SessionServiceGrpc.SessionServiceStub stub, String name, Duration ttl, Duration openTimeout) {
        CompletableFuture<OpenSessionResponse> first = new CompletableFuture<>();
        CompletableFuture<ClientCallStreamObserver<OpenSessionRequest>> stream = new CompletableFuture<>();
        stub.open(new ClientResponseObserver<OpenSessionRequest, OpenSessionResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<OpenSessionRequest> requestStream) {
                stream.complete(requestStream);
            }

            @Override
            public void onNext(OpenSessionResponse value) {
                first.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                first.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                first.completeExceptionally(Status.UNAVAILABLE
                        .withDescription("the server ended the session stream before naming the session")
                        .asRuntimeException());
            }
        });
        ClientCallStreamObserver<OpenSessionRequest> requests = stream.join();
        requests.onNext(OpenSessionRequest.newBuilder()
                .setTtl(ProtoTime.of(ttl))
                .setName(name)
                .build());
        OpenSessionResponse opened;
        try {
            opened = first.get(openTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            requests.cancel("open failed", e.getCause());
            if (e.getCause() instanceof StatusRuntimeException sre) {
                throw sre;
            }
            throw Status.INTERNAL.withCause(e.getCause()).asRuntimeException();
        } catch (TimeoutException e) {
            requests.cancel("open timed out", null);
            throw Status.DEADLINE_EXCEEDED
                    .withDescription("the server did not open a session within " + openTimeout.toMillis() + " ms")
                    .asRuntimeException();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            requests.cancel("interrupted", e);
            throw Status.CANCELLED.withCause(e).asRuntimeException();
        }
        long ttlMillis = opened.hasTtl() ? ProtoTime.of(opened.getTtl()).toMillis() : ttl.toMillis();
        long every = Math.max(100, ttlMillis / 3);
        ScheduledExecutorService renewals = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "forkd-session-renewal");
            t.setDaemon(true);
            return t;
        });
        ClientSession session = new ClientSession(opened.getSessionId(), opened.getCredential(), requests, renewals);
        renewals.scheduleAtFixedRate(session::renew, every, every, TimeUnit.MILLISECONDS);
        return session;
    }

    /** The session's public id, as lock holders and process info show it; it acts as nothing. */
    public String publicId() {
        return publicId;
    }

    /**
     * The secret to send as the {@code forkd-session} header: whoever has it acts as this session,
     * so it goes nowhere else (not into output, logs or other processes' arguments).
     */
    public String credential() {
        return credential;
    }

    private void renew() {
        synchronized (requests) {
            if (!closed) {
                requests.onNext(OpenSessionRequest.getDefaultInstance());
            }
        }
    }

    @Override
    public void close() {
        renewals.shutdownNow();
        synchronized (requests) {
            if (!closed) {
                closed = true;
                requests.onCompleted();
            }
        }
    }
}
