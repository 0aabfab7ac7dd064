package dev.forkd.server.security;

import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/** What the security tests share: channels with given credentials, a private token file, a child's output. */
final class Servers {

    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private Servers() {}

    /** A TCP channel to localhost (a name the test server certificate holds). */
    static ManagedChannel tcp(int port, ChannelCredentials credentials) {
        return Grpc.newChannelBuilderForAddress("localhost", port, credentials).build();
    }

    static ProcessServiceGrpc.ProcessServiceBlockingStub processes(Channel channel) {
        return ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    static ProcessServiceGrpc.ProcessServiceBlockingStub processes(Channel channel, String authorization) {
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, authorization);
        return processes(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /** A token file only its owner may read, as the server requires. */
    static Path tokenFile(Path dir, String token) throws Exception {
        Path file = dir.resolve("token-" + System.nanoTime());
        Files.writeString(file, token + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    /** Runs {@code spawn} and returns everything it wrote to stdout by the time it ended. */
    static String outputOf(ProcessServiceGrpc.ProcessServiceBlockingStub stub, SpawnRequest spawn) {
        String id = stub.spawn(spawn.toBuilder().setHoldOutput(true).build()).getProcess().getId();
        Iterator<WatchProcessResponse> it = stub.watch(WatchProcessRequest.newBuilder().setName(id).setFollow(true)
                .setHoldOutput(true).build());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (it.hasNext()) {
            WatchProcessResponse w = it.next();
            if (w.hasOutput() && w.getOutput().getStream() == dev.forkd.v1.OutputStream.OUTPUT_STREAM_STDOUT) {
                out.writeBytes(w.getOutput().getData().toByteArray());
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
