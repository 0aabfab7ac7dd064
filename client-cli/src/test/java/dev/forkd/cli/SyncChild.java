package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.address.ListenAddress;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AppendListRequest;
import dev.forkd.v1.NotifyConditionRequest;
import dev.forkd.v1.PopListRequest;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.SliceListRequest;
import dev.forkd.v1.WaitConditionRequest;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A child program for the real-process tests: a producer or consumer over a shared list guarded by a
 * forkd Condition, the way a Python program would use {@code multiprocessing.Condition}. It runs as a
 * forkd child and so finds the server and its own session in FORKD_ADDRESS and FORKD_SESSION.
 *
 * <pre>
 * SyncChild produce COND LOCK LIST N      appends 0..N-1, notifying after each
 * SyncChild consume COND LOCK LIST OUT N  pops N items from the front as they come, appends them to OUT;
 *                                         exits 1 at the first item out of order
 * </pre>
 */
public final class SyncChild {

    private SyncChild() {}

    public static void main(String[] args) {
        String address = System.getenv("FORKD_ADDRESS");
        ListenAddress server = new ListenAddress.Unix(Path.of(address.substring("unix:".length())));
        try (ForkdClient client = ForkdClient.connect(server, Optional.empty(),
                Optional.of(System.getenv("FORKD_SESSION")))) {
            var sync = client.sync();
            var shared = client.shared();
            String cond = args[1];
            String lock = args[2];
            String list = args[3];
            var acquire = AcquireRequest.newBuilder().setName(lock).build();
            var release = ReleaseRequest.newBuilder().setName(lock).build();
            if (args[0].equals("produce")) {
                int n = Integer.parseInt(args[4]);
                for (int i = 0; i < n; i++) {
                    sync.acquire(acquire);
                    shared.appendList(AppendListRequest.newBuilder().setName(list)
                            .addItems(Scalar.newBuilder().setInt64Value(i)).build());
                    sync.notifyCondition(NotifyConditionRequest.newBuilder().setName(cond).setLock(lock).build());
                    sync.release(release);
                }
                System.exit(0);
            }
            String out = args[4];
            int n = Integer.parseInt(args[5]);
            for (int i = 0; i < n; i++) {
                sync.acquire(acquire);
                while (!hasItems(shared, list)) {
                    sync.waitCondition(WaitConditionRequest.newBuilder().setName(cond).setLock(lock).build());
                }
                Scalar item = shared.popList(PopListRequest.newBuilder().setName(list).setIndex(0).build()).getItem();
                sync.release(release);
                shared.appendList(AppendListRequest.newBuilder().setName(out).addItems(item).build());
                if (item.getInt64Value() != i) {
                    System.err.println("item " + i + " was " + item.getInt64Value());
                    System.exit(1);
                }
            }
            System.out.println("consumed " + n + " in order");
            System.exit(0);
        }
    }

    private static boolean hasItems(dev.forkd.v1.SharedServiceGrpc.SharedServiceBlockingStub shared, String list) {
        try {
            return shared.sliceList(SliceListRequest.newBuilder().setName(list).setStart(0).setStop(0).build()).getLength() > 0;
        } catch (io.grpc.StatusRuntimeException e) {
            if (e.getStatus().getCode() == io.grpc.Status.Code.NOT_FOUND) {
                return false; // the producer has not made the list yet
            }
            throw e;
        }
    }
}
