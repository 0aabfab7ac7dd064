package dev.forkd.server.grpc;

import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;

/**
 * Hides an internal service (the agent protocol) from server reflection: reflection lists only the
 * services whose descriptor carries its proto schema, so the same service without it still serves
 * its calls but is absent from `grpcurl list` and from what a client can describe. Public clients
 * see only the public API.
 */
public final class Unlisted {

    private Unlisted() {}

    public static ServerServiceDefinition of(ServerServiceDefinition service) {
        ServiceDescriptor listed = service.getServiceDescriptor();
        ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(listed.getName());
        listed.getMethods().forEach(descriptor::addMethod);
        ServerServiceDefinition.Builder unlisted = ServerServiceDefinition.builder(descriptor.build());
        for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
            unlisted.addMethod(method);
        }
        return unlisted.build();
    }
}
