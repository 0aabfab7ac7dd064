package dev.forkd.bench;

import dev.forkd.client.ForkdClient;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Which gRPC services a server offers, by server reflection (what {@code grpcurl list} does). */
final class Services {

    private Services() {}

    /** Why a scenario cannot run on the bench's server: it does not offer {@code service}; empty if it does. */
    static java.util.Optional<String> missing(Bench bench, String service) throws Exception {
        try (ForkdClient c = bench.server().connect()) {
            return served(c).contains(service) ? java.util.Optional.empty()
                    : java.util.Optional.of("the server has no " + service);
        }
    }

    static List<String> served(ForkdClient client) throws Exception {
        CompletableFuture<List<String>> names = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> req = ServerReflectionGrpc.newStub(client.channel())
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse r) {
                        names.complete(r.getListServicesResponse().getServiceList().stream()
                                .map(ServiceResponse::getName).toList());
                    }

                    @Override
                    public void onError(Throwable t) {
                        names.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        names.complete(List.of());
                    }
                });
        req.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        try {
            return names.get(30, TimeUnit.SECONDS);
        } finally {
            req.onCompleted();
        }
    }
}
