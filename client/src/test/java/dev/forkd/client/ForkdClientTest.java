package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.address.ListenAddress;
import dev.forkd.v1.ListProgramsRequest;
import dev.forkd.v1.StartRequest;
import dev.forkd.v1.WatchEventsRequest;
import dev.forkd.v1.WatchEventsResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The services the CLI reaches through {@link ForkdClient} besides the resource ones (health for
 * {@code forkd status}, events for {@code forkd events}, programs for {@code forkd start/stop/reload}),
 * against a real server.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ForkdClientTest {

    static TestServer server;
    static ForkdClient client;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
        client = ForkdClient.connect(ListenAddress.parse(server.address()), Optional.empty(), Optional.empty());
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        server.close();
    }

    @Test
    void healthSaysTheServerIsServing() {
        HealthCheckResponse r = client.health().withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, r.getStatus());
    }

    @Test
    void eventsStreamBeginsWithStarted() {
        Iterator<WatchEventsResponse> stream = client.events().withDeadlineAfter(10, TimeUnit.SECONDS)
                .watch(WatchEventsRequest.getDefaultInstance());
        assertTrue(stream.next().hasStarted());
    }

    @Test
    void programsListsNoneAndRefusesAnUndeclaredName() {
        assertEquals(0, client.programs().withDeadlineAfter(10, TimeUnit.SECONDS)
                .list(ListProgramsRequest.getDefaultInstance()).getProgramsCount());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> client.programs()
                .withDeadlineAfter(10, TimeUnit.SECONDS).start(StartRequest.newBuilder().setName("nope").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    }
}
