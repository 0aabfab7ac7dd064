package dev.forkd.agent.grpc;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;

/** Builds the channel to the supervisor from {@code unix:/abs/path} or {@code host:port}. */
public final class SupervisorChannel {
    /** Stdin writes arrive as single messages; leave room above gRPC's 4 MiB default. */
    private static final int MAX_INBOUND_BYTES = 64 << 20;

    private SupervisorChannel() {
    }

    public static ManagedChannel open(String address) {
        if (address.startsWith("unix:")) {
            String path = address.substring("unix:".length());
            if (path.startsWith("//")) {
                path = path.substring(2);
            }
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("unix socket path must be absolute: " + address);
            }
            EpollEventLoopGroup group = new EpollEventLoopGroup(1, new DefaultThreadFactory("forkd-agent-io", true));
            return NettyChannelBuilder.forAddress(new DomainSocketAddress(path))
                    .channelType(EpollDomainSocketChannel.class)
                    // grpc-java sets SO_KEEPALIVE on every client socket; a Unix socket has no such
                    // option, and netty would log a warning into the server's log for each dial.
                    .withOption(io.grpc.netty.shaded.io.netty.channel.ChannelOption.SO_KEEPALIVE, null)
                    .eventLoopGroup(group)
                    // Commands are handled where they are read: a spawn, a signal or a hand-off to
                    // the pump, none of which waits on the stream (a full stdin queue waits only for
                    // the pump, which never waits). Saves a thread hand-off per command.
                    .directExecutor()
                    .usePlaintext()
                    .maxInboundMessageSize(MAX_INBOUND_BYTES)
                    .build();
        }
        return NettyChannelBuilder.forTarget(address)
                .directExecutor()
                .usePlaintext()
                .maxInboundMessageSize(MAX_INBOUND_BYTES)
                .build();
    }
}
