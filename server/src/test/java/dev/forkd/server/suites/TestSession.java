package dev.forkd.server.suites;

import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import dev.forkd.v1.SessionServiceGrpc;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A client session: its Open stream kept, and a channel whose calls act as the session. */
public final class TestSession implements AutoCloseable {

    public static final Metadata.Key<String> HEADER = Metadata.Key.of("forkd-session", Metadata.ASCII_STRING_MARSHALLER);

    /** The session's public id, as lock holders and process info show it. */
    public final String id;
    public final Channel channel;
    private final StreamObserver<OpenSessionRequest> stream;
    private final Context.CancellableContext context;
    private final java.util.concurrent.ScheduledExecutorService renewer;

    private TestSession(String id, Channel channel, StreamObserver<OpenSessionRequest> stream,
            Context.CancellableContext context) {
        this.id = id;
        this.channel = channel;
        this.stream = stream;
        this.context = context;
        // The lease lasts 10 s unless renewed by a message on the stream, as a real client does.
        this.renewer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("session-renew").factory());
        renewer.scheduleWithFixedDelay(this::renew, 2, 2, TimeUnit.SECONDS);
    }

    private synchronized void renew() {
        try {
            stream.onNext(OpenSessionRequest.getDefaultInstance());
        } catch (RuntimeException e) {
            renewer.shutdown();
        }
    }

    public static TestSession open(Channel base, String name) throws Exception {
        CompletableFuture<OpenSessionResponse> opened = new CompletableFuture<>();
        Context.CancellableContext ctx = Context.current().withCancellation();
        StreamObserver<OpenSessionRequest>[] holder = new StreamObserver[1];
        ctx.run(() -> holder[0] = SessionServiceGrpc.newStub(base).open(new StreamObserver<>() {
            @Override
            public void onNext(OpenSessionResponse r) {
                opened.complete(r); // the first answer: the only one that carries the credential
            }

            @Override
            public void onError(Throwable t) {
                opened.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                opened.completeExceptionally(new IllegalStateException("session stream ended"));
            }
        }));
        holder[0].onNext(OpenSessionRequest.newBuilder().setName(name).build());
        OpenSessionResponse first = opened.get(30, TimeUnit.SECONDS);
        // The credential acts as the session; the public id only names it.
        Metadata h = new Metadata();
        h.put(HEADER, first.getCredential());
        return new TestSession(first.getSessionId(), ClientInterceptors.intercept(base, MetadataUtils.newAttachHeadersInterceptor(h)),
                holder[0], ctx);
    }

    /** Whether it has been neither closed nor cancelled. */
    public boolean isAlive() {
        return !context.isCancelled() && !renewer.isShutdown();
    }

    /** Ends the session abruptly, as a client that died would: the stream is reset, not closed. */
    public void cancel() {
        renewer.shutdownNow();
        context.cancel(null);
    }

    @Override
    public synchronized void close() {
        renewer.shutdownNow();
        try {
            stream.onCompleted();
        } catch (RuntimeException e) {
            // already cancelled
        }
    }
}
