package dev.forkd.server.grpc;

import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.StatusProto;
import java.io.InputStream;
import java.util.function.LongSupplier;

/**
 * Answers a request message that does not parse with INVALID_ARGUMENT, and logs it as one bounded
 * line, not a stack trace.
 *
 * <p>grpc-java parses a request in its own code before any handler or interceptor sees it; a
 * failure there closes the call UNKNOWN and logs a 7 KB stack trace per call, so a client sending
 * garbage grew the log without bound. Here every method's request marshaller is wrapped: a message
 * that fails to parse becomes a {@link Malformed} marker, and the handler closes the call on it.
 * The warnings go through one {@link RateLimitedLog}.
 */
public final class MalformedRequests {

    /** What the wrapped marshaller gives for bytes that are not a request. */
    private record Malformed(String why) {}

    private final RateLimitedLog log;

    public MalformedRequests(LongSupplier nanoTime) {
        this.log = new RateLimitedLog(MalformedRequests.class.getName(), nanoTime);
    }

    /** {@code service} with every method guarded. */
    public ServerServiceDefinition guard(ServerServiceDefinition service) {
        ServiceDescriptor old = service.getServiceDescriptor();
        ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(old.getName())
                .setSchemaDescriptor(old.getSchemaDescriptor());
        java.util.List<ServerMethodDefinition<?, ?>> methods = new java.util.ArrayList<>();
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
            ServerMethodDefinition<?, ?> guarded = guard(m);
            descriptor.addMethod(guarded.getMethodDescriptor());
            methods.add(guarded);
        }
        ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(descriptor.build());
        methods.forEach(out::addMethod);
        return out.build();
    }

    private <Q, R> ServerMethodDefinition<Object, R> guard(ServerMethodDefinition<Q, R> definition) {
        MethodDescriptor<Q, R> original = definition.getMethodDescriptor();
        MethodDescriptor.Marshaller<Object> requests = new MethodDescriptor.Marshaller<>() {
            @Override
            @SuppressWarnings("unchecked")
            public InputStream stream(Object value) {
                return original.streamRequest((Q) value);
            }

            @Override
            public Object parse(InputStream stream) {
                try {
                    return original.parseRequest(stream);
                } catch (RuntimeException e) {
                    return new Malformed(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
                }
            }
        };
        MethodDescriptor<Object, R> method = original.toBuilder(requests, original.getResponseMarshaller()).build();
        return ServerMethodDefinition.create(method, new GuardedHandler<>(original, definition.getServerCallHandler()));
    }

    private final class GuardedHandler<Q, R> implements ServerCallHandler<Object, R> {
        private final MethodDescriptor<Q, R> original;
        private final ServerCallHandler<Q, R> next;

        GuardedHandler(MethodDescriptor<Q, R> original, ServerCallHandler<Q, R> next) {
            this.original = original;
            this.next = next;
        }

        @Override
        public ServerCall.Listener<Object> startCall(ServerCall<Object, R> call, Metadata headers) {
            GuardedCall<Q, R> guarded = new GuardedCall<>(call, original);
            ServerCall.Listener<Q> listener = next.startCall(guarded, headers);
            return new ServerCall.Listener<>() {
                private boolean refused;

                @Override
                @SuppressWarnings("unchecked")
                public void onMessage(Object message) {
                    if (refused) {
                        return;
                    }
                    if (message instanceof Malformed m) {
                        refused = true;
                        log.warn("malformed request to " + original.getFullMethodName() + ": " + m.why());
                        guarded.refuse(original.getFullMethodName());
                        return;
                    }
                    listener.onMessage((Q) message);
                }

                @Override
                public void onHalfClose() {
                    if (!refused) {
                        listener.onHalfClose();
                    }
                }

                @Override
                public void onCancel() {
                    listener.onCancel();
                }

                @Override
                public void onComplete() {
                    listener.onComplete();
                }

                @Override
                public void onReady() {
                    if (!refused) {
                        listener.onReady();
                    }
                }
            };
        }
    }

    /** The call as the handler sees it, typed as the original method, closed at most once. */
    private static final class GuardedCall<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
        private final MethodDescriptor<Q, R> original;
        private boolean closed;

        @SuppressWarnings("unchecked")
        GuardedCall(ServerCall<Object, R> call, MethodDescriptor<Q, R> original) {
            // Only the request type differs, and this call never carries a request: a safe view.
            super((ServerCall<Q, R>) (ServerCall<?, R>) call);
            this.original = original;
        }

        @Override
        public MethodDescriptor<Q, R> getMethodDescriptor() {
            return original;
        }

        @Override
        public synchronized void close(io.grpc.Status status, Metadata trailers) {
            if (closed) {
                return; // the call was refused as malformed; the handler's own close comes too late
            }
            closed = true;
            super.close(status, trailers);
        }

        synchronized void refuse(String method) {
            if (closed) {
                return;
            }
            closed = true;
            var status = StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                    .setCode(Code.INVALID_ARGUMENT_VALUE)
                    .setMessage("the request is not a valid " + method + " request message (malformed protobuf bytes)")
                    .addDetails(com.google.protobuf.Any.pack(ErrorInfo.newBuilder().setDomain(ErrorMapper.DOMAIN)
                            .setReason("MALFORMED_REQUEST").build()))
                    .build());
            super.close(status.getStatus(), status.getTrailers());
        }
    }
}
