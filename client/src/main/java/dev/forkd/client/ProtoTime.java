package dev.forkd.client;

import java.time.Duration;

/** Between {@link Duration} and protobuf's Duration, without protobuf-java-util. */
final class ProtoTime {

    private ProtoTime() {}

    static com.google.protobuf.Duration of(Duration d) {
        return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
    }

    static Duration of(com.google.protobuf.Duration d) {
        return Duration.ofSeconds(d.getSeconds(), d.getNanos());
    }
}
