package dev.forkd.client;

import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import dev.forkd.v1.SessionServiceGrpc;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.CompletableFuture;

/**
 * One {@code SessionService.Open} stream: its first answer (the session it opened or resumed), and how
 * it ended. A session lives on one stream at a time; after a server restart it moves to a new one.
 */
final class SessionStream implements ClientResponseObserver<OpenSessionRequest, OpenSessionResponse> {

    /** The first answer: the session's public id (and, on a first open, its credential). */
    final CompletableFuture<OpenSessionResponse> first = new CompletableFuture<>();
    /** How the stream ended: OK when the server completed it, else the error's status. */
    final CompletableFuture<Status> ended = new CompletableFuture<>();
    private final CompletableFuture<ClientCallStreamObserver<OpenSessionRequest>> requests = new CompletableFuture<>();

    private SessionStream() {
    }

    /** Starts a stream and sends {@code opening} on it. */
    static SessionStream start(SessionServiceGrpc.SessionServiceStub stub, OpenSessionRequest opening) {
        SessionStream s = new SessionStream();
        stub.open(s);
        s.send(opening);
        return s;
    }

    /** Sends a renewal (or the opening). Callers serialise their sends. */
    void send(OpenSessionRequest request) {
        requests.join().onNext(request);
    }

    /** Ends the stream as the client's choice: the server ends the session. */
    void finish() {
        requests.join().onCompleted();
    }

    /** Drops the stream without ending the session on purpose (a resume that is not wanted, a timeout). */
    void cancel(String why) {
        requests.join().cancel(why, null);
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<OpenSessionRequest> requestStream) {
        requests.complete(requestStream);
    }

    @Override
    public void onNext(OpenSessionResponse value) {
        first.complete(value);
    }

    @Override
    public void onError(Throwable t) {
        first.completeExceptionally(t); // as it came, with the trailers that carry the error's details
        ended.complete(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
        first.completeExceptionally(Status.UNAVAILABLE
                .withDescription("the server ended the session stream before naming the session")
                .asRuntimeException());
        ended.complete(Status.OK);
    }
}
