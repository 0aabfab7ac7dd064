package dev.forkd.bench;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SignalResponse;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Memory and CPU of a fresh server (2 agents): supervisor and agent RSS idle and with 1,000 live
 * {@code sleep} processes, and the CPU time the supervisor and the agents spend per 1,000 spawns.
 * Judged against DESIGN.md's limits; there is no peer.
 */
final class Footprint implements Scenario {

    static final int LIVE = 1_000;

    @Override
    public String name() {
        return "footprint";
    }

    @Override
    public String title() {
        return "RSS idle and with " + LIVE + " live processes; CPU per 1,000 spawns";
    }

    @Override
    public List<Row> run(Bench bench) throws Exception {
        bench.log(name() + ": starting a fresh forkd serve (2 agents)...");
        try (ServerUnderTest server = bench.freshServer(2); ForkdClient client = server.connect()) {
            Spawns.spawnAndJoin(client, Spawns.TRUE); // the agents are up and have run something
            Thread.sleep(2_000); // let start-up work (JIT, class loading) settle
            Map<String, Double> idle = rss(server, "idle");
            List<Runs.Side> sides = List.of(Runs.Side.of("forkd", () -> {
                Map<String, Double> f = new HashMap<>(idle);
                f.putAll(live(server, client));
                return f;
            }));
            Runs runs = Runs.measure(name(), 0, bench.size(1, 3), java.time.Duration.ZERO, sides, bench::log);
            String s = name();
            String live = LIVE + " live";
            return List.of(
                    runs.alone(s, "supervisor RSS idle", "MB", Better.LOWER, "idle_supervisor_mb", Target.none()),
                    runs.alone(s, "agent RSS idle (largest)", "MB", Better.LOWER, "idle_agent_mb", Target.none()),
                    runs.alone(s, "supervisor RSS " + live, "MB", Better.LOWER, "live_supervisor_mb", Target.limit(256)),
                    runs.alone(s, "agent RSS " + live + " (largest)", "MB", Better.LOWER, "live_agent_mb", Target.limit(128)),
                    runs.alone(s, "supervisor CPU per 1,000 spawns", "ms", Better.LOWER, "supervisor_cpu_ms_per_1000", Target.none()),
                    runs.alone(s, "agents' CPU per 1,000 spawns", "ms", Better.LOWER, "agents_cpu_ms_per_1000", Target.none()));
        }
    }

    static Map<String, Double> rss(ServerUnderTest server, String prefix) throws Exception {
        double agent = 0;
        for (long pid : server.agentPids()) {
            agent = Math.max(agent, ProcStat.rssMb(pid));
        }
        return Map.of(prefix + "_supervisor_mb", ProcStat.rssMb(server.pid()), prefix + "_agent_mb", agent);
    }

    /** Spawns {@link #LIVE} sleeps (64 requests in flight), measures, then kills and forgets them. */
    static Map<String, Double> live(ServerUnderTest server, ForkdClient client) throws Exception {
        List<Long> agents = server.agentPids();
        double supervisorCpu0 = ProcStat.cpuMs(server.pid());
        double agentsCpu0 = 0;
        for (long pid : agents) {
            agentsCpu0 += ProcStat.cpuMs(pid);
        }
        Semaphore inFlight = new Semaphore(64);
        List<CompletableFuture<ProcessInfo>> started = new ArrayList<>(LIVE);
        for (int i = 0; i < LIVE; i++) {
            inFlight.acquire();
            started.add(Spawns.spawnAsync(client, Spawns.request(List.of("sleep", "3600")))
                    .whenComplete((p, t) -> inFlight.release()));
        }
        CompletableFuture.allOf(started.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
        Map<String, Double> f = new HashMap<>();
        f.put("supervisor_cpu_ms_per_1000", (ProcStat.cpuMs(server.pid()) - supervisorCpu0) * 1000 / LIVE);
        double agentsCpu = 0;
        for (long pid : agents) {
            agentsCpu += ProcStat.cpuMs(pid);
        }
        f.put("agents_cpu_ms_per_1000", (agentsCpu - agentsCpu0) * 1000 / LIVE);
        f.putAll(rss(server, "live"));
        List<String> ids = new ArrayList<>(LIVE);
        List<CompletableFuture<ProcessInfo>> ended = new ArrayList<>(LIVE);
        for (CompletableFuture<ProcessInfo> s : started) {
            String id = s.get().getId();
            ids.add(id);
            inFlight.acquire();
            CompletableFuture<ProcessInfo> k = new CompletableFuture<>();
            client.processesAsync().signal(SignalRequest.newBuilder().setName(id).setKind(SignalKind.SIGNAL_KIND_KILL).build(),
                    new StreamObserver<SignalResponse>() {
                        @Override
                        public void onNext(SignalResponse r) {
                            k.complete(r.getProcess());
                        }

                        @Override
                        public void onError(Throwable t) {
                            k.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {}
                    });
            ended.add(k.thenCompose(p -> Spawns.joinAsync(client, id)).whenComplete((p, t) -> inFlight.release()));
        }
        CompletableFuture.allOf(ended.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
        Spawns.deleteAll(client, ids);
        return f;
    }
}
