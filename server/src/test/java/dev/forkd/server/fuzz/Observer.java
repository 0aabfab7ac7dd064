package dev.forkd.server.fuzz;

import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.ListPoolsRequest;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ListProcessesResponse;
import dev.forkd.v1.ListQueuesRequest;
import dev.forkd.v1.ListSharedRequest;
import dev.forkd.v1.ListSyncRequest;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.SizeRequest;
import dev.forkd.v1.SharedServiceGrpc;
import dev.forkd.v1.SyncServiceGrpc;
import io.grpc.Channel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Another client, watching: whether the server answers, whether its sentinel process, queue item
 * and lock are untouched, and a cheap snapshot of what exists, to tell whether a refused call
 * changed anything.
 */
final class Observer {

    /** What exists: process ids, queues (size, total put, closed), sync primitives, shared objects, pools. */
    record Snapshot(TreeSet<String> processes, TreeMap<String, String> queues, TreeMap<String, String> sync,
            TreeMap<String, String> shared, TreeMap<String, String> pools) {

        String diff(Snapshot o) {
            StringBuilder sb = new StringBuilder();
            if (!processes.equals(o.processes)) {
                sb.append("processes ").append(setDiff(processes, o.processes)).append("; ");
            }
            appendMap(sb, "queues", queues, o.queues);
            appendMap(sb, "sync", sync, o.sync);
            appendMap(sb, "shared", shared, o.shared);
            appendMap(sb, "pools", pools, o.pools);
            return sb.toString();
        }

        private static String setDiff(TreeSet<String> a, TreeSet<String> b) {
            TreeSet<String> gone = new TreeSet<>(a);
            gone.removeAll(b);
            TreeSet<String> added = new TreeSet<>(b);
            added.removeAll(a);
            return "-" + gone + " +" + added;
        }

        private static void appendMap(StringBuilder sb, String what, TreeMap<String, String> a, TreeMap<String, String> b) {
            if (!a.equals(b)) {
                TreeMap<String, String> changed = new TreeMap<>();
                b.forEach((k, v) -> {
                    if (!v.equals(a.get(k))) {
                        changed.put(k, a.getOrDefault(k, "(none)") + " -> " + v);
                    }
                });
                a.keySet().stream().filter(k -> !b.containsKey(k)).forEach(k -> changed.put(k, a.get(k) + " -> (gone)"));
                sb.append(what).append(' ').append(changed).append("; ");
            }
        }
    }

    private final Channel channel;

    Observer(Channel channel) {
        this.channel = channel;
    }

    boolean answers() {
        try {
            return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus() == HealthCheckResponse.ServingStatus.SERVING;
        } catch (RuntimeException e) {
            return false;
        }
    }

    Snapshot snapshot() {
        var procs = ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
        TreeSet<String> ids = new TreeSet<>();
        String token = "";
        do {
            ListProcessesResponse r = procs.list(ListProcessesRequest.newBuilder().setPageToken(token).build());
            // Pool workers come and go with their pool's tasks: the pools' own snapshot covers them.
            r.getProcessesList().stream().filter(p -> !p.getLabelsMap().containsKey("forkd.pool"))
                    .forEach(p -> ids.add(p.getId()));
            token = r.getNextPageToken();
        } while (!token.isEmpty());
        TreeMap<String, String> queues = new TreeMap<>();
        QueueServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                .list(ListQueuesRequest.newBuilder().setPageSize(1000).build()).getQueuesList()
                .forEach(q -> queues.put(q.getId() + "/" + q.getName(),
                        "size=" + q.getSize() + " put=" + q.getTotalPut() + " closed=" + q.getClosed()));
        TreeMap<String, String> sync = new TreeMap<>();
        SyncServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                .list(ListSyncRequest.getDefaultInstance()).getPrimitivesList()
                .forEach(s -> sync.put(s.getName(), s.getKind() + " holder=" + s.getHolderSession() + " depth=" + s.getDepth()
                        + " value=" + s.getValue() + " set=" + s.getIsSet() + " arrived=" + s.getArrived()
                        + " broken=" + s.getBroken() + " token=" + s.getFencingToken()));
        TreeMap<String, String> shared = new TreeMap<>();
        SharedServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                .list(ListSharedRequest.getDefaultInstance()).getObjectsList()
                .forEach(o -> shared.put(o.getName(), o.getKind() + " v" + o.getVersion() + " size=" + o.getSize()));
        TreeMap<String, String> pools = new TreeMap<>();
        PoolServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                .list(ListPoolsRequest.newBuilder().setPageSize(1000).build()).getPoolsList().stream()
                .filter(p -> !p.getEphemeral())
                .forEach(p -> pools.put(p.getId() + "/" + p.getName(), p.getState().toString()));
        return new Snapshot(ids, queues, sync, shared, pools);
    }

    /** What is wrong with the sentinels, if anything. */
    Optional<String> sentinelsBroken(String processId, String queue, String lock, String holder) {
        try {
            ProcessInfo p = ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                    .get(GetProcessRequest.newBuilder().setName(processId).build()).getProcess();
            if (p.getState() != ProcessState.PROCESS_STATE_RUNNING) {
                return Optional.of("sentinel process " + processId + " is " + p.getState() + " " + p.getFailure());
            }
            long size = QueueServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                    .size(SizeRequest.newBuilder().setName(queue).build()).getSize();
            if (size != 1) {
                return Optional.of("sentinel queue " + queue + " holds " + size + " items, not 1");
            }
            String h = SyncServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                    .get(GetSyncRequest.newBuilder().setName(lock).build()).getInfo().getHolderSession();
            if (!h.equals(holder)) {
                return Optional.of("sentinel lock " + lock + " is held by '" + h + "', not '" + holder + "'");
            }
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.of("sentinel check failed: " + e);
        }
    }
}
