package dev.forkd.server.fuzz;

import com.google.protobuf.Descriptors.MethodDescriptor;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One call of any method, unary or streaming, as bytes: built from the service descriptor's method
 * name, so the fuzzer can send what no generated stub would (garbage, too few or too many messages)
 * and end the stream its own way.
 */
final class RawCall {

    /** How the client ends its side after sending its messages. */
    enum Ending { HALF_CLOSE, CANCEL, STALL }

    record Outcome(Status status, int responses) {}

    private static final io.grpc.MethodDescriptor.Marshaller<byte[]> BYTES = new io.grpc.MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private RawCall() {}

    static io.grpc.MethodDescriptor<byte[], byte[]> method(MethodDescriptor m) {
        io.grpc.MethodDescriptor.MethodType type = m.isClientStreaming()
                ? (m.isServerStreaming() ? io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING
                        : io.grpc.MethodDescriptor.MethodType.CLIENT_STREAMING)
                : (m.isServerStreaming() ? io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING
                        : io.grpc.MethodDescriptor.MethodType.UNARY);
        return io.grpc.MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(type)
                .setFullMethodName(io.grpc.MethodDescriptor.generateFullMethodName(
                        m.getService().getFullName(), m.getName()))
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
    }

    /**
     * Sends {@code messages}, then ends as told. A stalled call stops sending and reading and is
     * ended by its deadline.
     */
    static Outcome run(Channel channel, MethodDescriptor m, List<byte[]> messages, Ending ending, long deadlineMillis) {
        ClientCall<byte[], byte[]> call = channel.newCall(method(m),
                CallOptions.DEFAULT.withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS));
        CompletableFuture<Status> closed = new CompletableFuture<>();
        int[] responses = {0};
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(byte[] message) {
                synchronized (responses) {
                    responses[0]++;
                }
                if (ending != Ending.STALL) {
                    call.request(1);
                }
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                closed.complete(status);
            }
        }, new Metadata());
        call.request(1);
        for (byte[] msg : messages) {
            call.sendMessage(msg);
        }
        switch (ending) {
            case HALF_CLOSE -> call.halfClose();
            case CANCEL -> call.cancel("fuzz: client cancels", null);
            case STALL -> {
                // neither more messages nor reads: the deadline ends it (a unary or server-streaming
                // call cannot start before its half-close, so it stalls on reading only)
                if (!m.isClientStreaming()) {
                    call.halfClose();
                }
            }
        }
        Status status;
        try {
            status = closed.get(deadlineMillis + 10_000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            call.cancel("fuzz: no status 10 s past the deadline", null);
            status = Status.DEADLINE_EXCEEDED.withDescription("HUNG: no status 10 s past the client deadline");
        } catch (Exception e) {
            status = Status.fromThrowable(e);
        }
        synchronized (responses) {
            return new Outcome(status, responses[0]);
        }
    }
}
