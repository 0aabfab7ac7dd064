package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.AddValueRequest;
import dev.forkd.v1.DictItem;
import dev.forkd.v1.GetValueRequest;
import dev.forkd.v1.ListDictItemsRequest;
import dev.forkd.v1.ListDictItemsResponse;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.SetDictItemsRequest;
import dev.forkd.v1.SharedServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A shared counter that only grows by acknowledged (and in-doubt) adds, and a dict whose keys are
 * rewritten in turn. After a restart the counter is at least the sum of the acknowledged adds and at
 * most that plus the adds whose answer the kill cut off (which the server may or may not have kept);
 * each key holds its last acknowledged value, or a later one whose answer was cut off.
 */
final class SharedWorkload implements RestartWorkload {

    private static final String COUNTER = "chaos-counter";
    private static final String MAP = "chaos-map";
    private static final int KEYS = 40;

    private final ForkdClient client;
    private long ackedAdds;
    private long doubtfulAdds;
    private long seq;
    /** Per key: the last acknowledged value, and values written after it whose answer never came. */
    private final Map<String, Long> lastAcked = new HashMap<>();
    private final Map<String, Set<Long>> doubtful = new HashMap<>();
    private long counterChecks;
    private long keyChecks;

    SharedWorkload(ForkdClient client) {
        this.client = client;
    }

    @Override
    public String name() {
        return "shared";
    }

    private SharedServiceGrpc.SharedServiceBlockingStub stub() {
        return client.shared().withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @Override
    public void step() {
        synchronized (this) {
            doubtfulAdds++;
        }
        stub().addValue(AddValueRequest.newBuilder().setName(COUNTER)
                .setDelta(Scalar.newBuilder().setInt64Value(1)).build());
        synchronized (this) {
            doubtfulAdds--;
            ackedAdds++;
        }
        long value;
        String key;
        synchronized (this) {
            value = ++seq;
            key = "k" + (value % KEYS);
            doubtful.computeIfAbsent(key, k -> new HashSet<>()).add(value);
        }
        stub().setDictItems(SetDictItemsRequest.newBuilder().setName(MAP).addItems(DictItem.newBuilder()
                .setKey(key).setValue(Scalar.newBuilder().setInt64Value(value))).build());
        synchronized (this) {
            lastAcked.put(key, value);
            doubtful.get(key).clear(); // a later acknowledged write supersedes every earlier one
        }
    }

    @Override
    public synchronized List<String> verify(int restart, boolean checked) {
        List<String> problems = new ArrayList<>();
        long counter = counter();
        counterChecks++;
        if (counter < ackedAdds || counter > ackedAdds + doubtfulAdds) {
            problems.add("restart " + restart + ": counter " + counter + ", but " + ackedAdds
                    + " adds were acknowledged and " + doubtfulAdds + " more were cut off");
        }
        Map<String, Long> actual = dict();
        for (var e : lastAcked.entrySet()) {
            keyChecks++;
            Long now = actual.get(e.getKey());
            Set<Long> maybe = doubtful.getOrDefault(e.getKey(), Set.of());
            if (now == null || (!now.equals(e.getValue()) && !maybe.contains(now))) {
                problems.add("restart " + restart + ": " + MAP + "[" + e.getKey() + "] is " + now
                        + ", but " + e.getValue() + " was acknowledged last (cut off after it: " + maybe + ")");
            }
        }
        // Start the next round from what the server holds now: later checks judge later changes.
        ackedAdds = counter;
        doubtfulAdds = 0;
        lastAcked.clear();
        doubtful.clear();
        lastAcked.putAll(actual);
        return checked ? problems : List.of();
    }

    private long counter() {
        try {
            return stub().getValue(GetValueRequest.newBuilder().setName(COUNTER).build()).getValue().getInt64Value();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return 0;
            }
            throw e;
        }
    }

    private Map<String, Long> dict() {
        Map<String, Long> out = new HashMap<>();
        String page = "";
        try {
            do {
                ListDictItemsResponse r = stub().listDictItems(ListDictItemsRequest.newBuilder().setName(MAP)
                        .setPageToken(page).setPageSize(1000).build());
                r.getItemsList().forEach(i -> out.put(i.getKey(), i.getValue().getInt64Value()));
                page = r.getNextPageToken();
            } while (!page.isEmpty());
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
                throw e;
            }
        }
        return out;
    }

    @Override
    public synchronized String figures() {
        return "adds acknowledged " + ackedAdds + ", counter checks " + counterChecks + ", keys checked " + keyChecks;
    }
}
