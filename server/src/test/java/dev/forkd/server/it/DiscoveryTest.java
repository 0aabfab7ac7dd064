package dev.forkd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a generic gRPC tool needs from a real server: the standard health service answers SERVING,
 * and server reflection lists forkd's services and hands out their descriptors, which is how
 * {@code grpcurl list} and {@code grpcurl ... forkd.v1.ProcessService/Spawn} work with no .proto files.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DiscoveryTest {

    private static RealServer forkd;

    @BeforeAll
    static void start() throws Exception {
        forkd = new RealServer(1);
    }

    @AfterAll
    static void stop() throws Exception {
        forkd.closeLeavingNothing();
    }

    @Test
    void healthIsServing() {
        HealthCheckResponse r = HealthGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, r.getStatus());
    }

    @Test
    void reflectionListsTheServicesAndDescribesThem() throws Exception {
        List<String> services = reflect(ServerReflectionRequest.newBuilder().setListServices("").build())
                .getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName).toList();
        for (String s : List.of("forkd.v1.ProcessService", "forkd.v1.SessionService", "forkd.v1.QueueService",
                "forkd.v1.PipeService", "forkd.v1.SyncService", "forkd.v1.SharedService", "grpc.health.v1.Health")) {
            assertTrue(services.contains(s), () -> s + " missing from " + services);
        }
        // The agent protocol is internal: it serves agents but is not listed to clients.
        assertTrue(services.stream().noneMatch(s -> s.contains("Agent")), services::toString);

        ServerReflectionResponse files = reflect(ServerReflectionRequest.newBuilder()
                .setFileContainingSymbol("forkd.v1.ProcessService").build());
        List<String> methods = new ArrayList<>();
        for (var bytes : files.getFileDescriptorResponse().getFileDescriptorProtoList()) {
            FileDescriptorProto file = FileDescriptorProto.parseFrom(bytes);
            file.getServiceList().stream().filter(s -> s.getName().equals("ProcessService"))
                    .forEach(s -> s.getMethodList().forEach(m -> methods.add(m.getName())));
        }
        assertTrue(methods.containsAll(List.of("Spawn", "Join", "Watch", "Signal")), methods::toString);
    }

    private static ServerReflectionResponse reflect(ServerReflectionRequest request) throws Exception {
        CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> out = ServerReflectionGrpc.newStub(forkd.channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse r) {
                        answer.complete(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        answer.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        answer.completeExceptionally(new IllegalStateException("no answer"));
                    }
                });
        out.onNext(request);
        try {
            return answer.get(30, TimeUnit.SECONDS);
        } finally {
            out.onCompleted();
        }
    }
}
