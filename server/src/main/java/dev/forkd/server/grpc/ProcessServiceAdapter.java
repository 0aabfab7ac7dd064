package dev.forkd.server.grpc;

import dev.forkd.server.auth.Caller;
import dev.forkd.server.auth.Lineage;
import dev.forkd.server.auth.Rights;
import dev.forkd.server.auth.Rights.ProcessAction;
import dev.forkd.server.error.ForkdException;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.process.ProcessSnapshot;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.watch.WatchAdmission;
import dev.forkd.server.process.ProcessTable.SignalAction;
import dev.forkd.posix.Signals;
import dev.forkd.v1.DeleteProcessRequest;
import dev.forkd.v1.DeleteProcessResponse;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.GetProcessResponse;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.JoinProcessResponse;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ListProcessesResponse;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.RestartProcessRequest;
import dev.forkd.v1.RestartProcessResponse;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SignalResponse;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.SpawnResponse;
import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import dev.forkd.v1.WriteStdinRequest;
import dev.forkd.v1.WriteStdinResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import dev.forkd.server.limits.ProcessCgroups;

/** ProcessService: decode, call the {@link ProcessTable}, encode. */
public final class ProcessServiceAdapter extends ProcessServiceGrpc.ProcessServiceImplBase {

    private static final int MAX_PAGE = 1000;

    private final ProcessTable table;
    private final SpawnRequests spawnRequests;
    private final Executor executor;
    private final WatchAdmission watches;
    private final ExitCauses causes;

    /** Without caps on watches: for tests of other things. */
    public ProcessServiceAdapter(ProcessTable table, java.util.Map<String, String> baseEnv,
            java.util.Map<String, String> forkdEnv, long defaultOutputLimit, long maxOutputLimit,
            Executor executor) {
        this(table, baseEnv, forkdEnv, defaultOutputLimit, maxOutputLimit, executor, WatchAdmission.unlimited());
    }

    public ProcessServiceAdapter(ProcessTable table, java.util.Map<String, String> baseEnv,
            java.util.Map<String, String> forkdEnv, long defaultOutputLimit, long maxOutputLimit,
            Executor executor, WatchAdmission watches) {
        this(table, baseEnv, forkdEnv, defaultOutputLimit, maxOutputLimit, executor, watches,
                ProcessCgroups.none("this server makes no cgroups"));
    }

    /** @param cgroups whether cgroup limits can be honoured */
    public ProcessServiceAdapter(ProcessTable table, java.util.Map<String, String> baseEnv,
            java.util.Map<String, String> forkdEnv, long defaultOutputLimit, long maxOutputLimit,
            Executor executor, WatchAdmission watches, ProcessCgroups cgroups) {
        this.table = table;
        this.causes = new ExitCauses();
        this.spawnRequests = new SpawnRequests(baseEnv, forkdEnv, defaultOutputLimit, maxOutputLimit, cgroups);
        this.executor = executor;
        this.watches = watches;
    }

    @Override
    public void spawn(SpawnRequest request, StreamObserver<SpawnResponse> out) {
        try {
            var spec = spawnRequests.toSpec(request, Optional.ofNullable(Metadata.SESSION_ID.get()));
            // A child's spawn is its descendant, which it may then signal and delete.
            Optional<String> parent = SessionInterceptor.caller() instanceof Caller.Child c
                    ? Optional.of(c.processId()) : Optional.empty();
            table.spawn(spec, parent,
                    p -> {
                        out.onNext(SpawnResponse.newBuilder().setProcess(ProcessMessages.info(p, causes)).build());
                        out.onCompleted();
                    },
                    e -> out.onError(ErrorMapper.toStatus(e)));
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public void get(GetProcessRequest request, StreamObserver<GetProcessResponse> out) {
        Calls.unary(out, () -> GetProcessResponse.newBuilder()
                .setProcess(ProcessMessages.info(table.get(requireId(request.getName())), causes)).build());
    }

    @Override
    public void list(ListProcessesRequest request, StreamObserver<ListProcessesResponse> out) {
        Calls.unary(out, () -> {
            int size = request.getPageSize();
            if (size < 0 || size > MAX_PAGE) {
                throw new InvalidArgument("page_size", "must be between 0 (default " + MAX_PAGE + ") and " + MAX_PAGE);
            }
            if (size == 0) {
                size = MAX_PAGE;
            }
            Set<dev.forkd.v1.ProcessState> states = new HashSet<>(request.getStatesList());
            var labels = request.getLabelsMap();
            String name = request.getName();
            String filter = "processes|" + new java.util.TreeSet<>(states) + "|" + name + "|" + new java.util.TreeMap<>(labels);
            long after = PageTokens.afterSeq(request.getPageToken(), filter);
            var found = table.list(s -> (states.isEmpty() || states.contains(ProcessMessages.state(s.state())))
                    && (name.isEmpty() || name.equals(s.spec().name().orElse("")))
                    && labels.entrySet().stream().allMatch(e -> e.getValue().equals(s.spec().labels().get(e.getKey()))),
                    after, size);
            var b = ListProcessesResponse.newBuilder();
            for (int i = 0; i < Math.min(size, found.size()); i++) {
                b.addProcesses(ProcessMessages.info(found.get(i), causes));
            }
            if (found.size() > size) {
                b.setNextPageToken(PageTokens.next(filter, Long.toString(table.seqOf(found.get(size - 1).id()))));
            }
            return b.build();
        });
    }

    @Override
    public void join(JoinProcessRequest request, StreamObserver<JoinProcessResponse> out) {
        try {
            String id = requireId(request.getName());
            Optional<Duration> timeout = Protos.timeout("timeout", request.hasTimeout(), request.getTimeout());
            var serverOut = (ServerCallStreamObserver<JoinProcessResponse>) out;
            var pending = table.join(id, timeout, (p, timedOut) -> {
                if (!serverOut.isCancelled()) {
                    out.onNext(JoinProcessResponse.newBuilder().setProcess(ProcessMessages.info(p, causes))
                            .setTimedOut(timedOut).build());
                    out.onCompleted();
                }
            });
            serverOut.setOnCancelHandler(pending::cancel);
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public void signal(SignalRequest request, StreamObserver<SignalResponse> out) {
        Calls.unary(out, () -> {
            String id = requireId(request.getName());
            SignalAction action = switch (request.getKind()) {
                case SIGNAL_KIND_TERMINATE -> new SignalAction.Terminate(request.hasGrace()
                        ? Optional.of(Protos.duration("grace", request.getGrace())) : Optional.empty());
                case SIGNAL_KIND_KILL -> new SignalAction.Kill();
                case SIGNAL_KIND_NAMED -> {
                    int sig = Signals.byName(request.getSignal()).orElseThrow(() -> new InvalidArgument(
                            "signal", "unknown signal \"" + request.getSignal() + "\" (use a name like TERM, HUP, USR1 or a number 1-64)"));
                    yield new SignalAction.Send(sig);
                }
                case SIGNAL_KIND_UNSPECIFIED, UNRECOGNIZED -> throw new InvalidArgument("kind",
                        "must be TERMINATE, KILL or NAMED");
            };
            ProcessSnapshot s = table.signal(controlled(id, ProcessAction.SIGNAL), action);
            return SignalResponse.newBuilder().setProcess(ProcessMessages.info(s, causes)).build();
        });
    }

    @Override
    public void restart(RestartProcessRequest request, StreamObserver<RestartProcessResponse> out) {
        try {
            String id = requireId(request.getName());
            Optional<Duration> grace = request.hasGrace()
                    ? Optional.of(Protos.duration("grace", request.getGrace())) : Optional.empty();
            table.restart(controlled(id, ProcessAction.RESTART), grace,
                    p -> {
                        out.onNext(RestartProcessResponse.newBuilder().setProcess(ProcessMessages.info(p, causes)).build());
                        out.onCompleted();
                    },
                    e -> out.onError(ErrorMapper.toStatus(e)));
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public void delete(DeleteProcessRequest request, StreamObserver<DeleteProcessResponse> out) {
        Calls.unary(out, () -> {
            String id = controlled(requireId(request.getName()), ProcessAction.DELETE);
            table.delete(id);
            return DeleteProcessResponse.newBuilder().setId(id).build();
        });
    }

    @Override
    public void watch(WatchProcessRequest request, StreamObserver<WatchProcessResponse> out) {
        try {
            String id = requireId(request.getName());
            if (request.getFromOffset() < 0) {
                throw new InvalidArgument("from_offset", "must not be negative");
            }
            String target = controlled(id, ProcessAction.WATCH);
            long from = request.getFromOffset();
            if (request.hasSince()) {
                from = Math.max(from, table.outputOffsetSince(target, Protos.timestamp("since", request.getSince())));
            }
            WatchAdmission.Ticket ticket = watches.admit(Optional.ofNullable(Metadata.SESSION_ID.get()),
                    OutputWatcher.BUFFER_BYTES, "process " + target);
            try {
                new OutputWatcher((ServerCallStreamObserver<WatchProcessResponse>) out, executor,
                        from, request.getFollow(), request.getNoOutput(), request.getHoldOutput(),
                        ticket, causes).start(table, target);
            } catch (RuntimeException e) {
                ticket.close();
                throw e;
            }
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public StreamObserver<WriteStdinRequest> writeStdin(StreamObserver<WriteStdinResponse> out) {
        Caller caller = SessionInterceptor.caller();
        return new StdinForwarder(table, (ServerCallStreamObserver<WriteStdinResponse>) out,
                id -> controlled(caller, id, ProcessAction.WRITE_STDIN));
    }

    /**
     * The id of the process {@code idOrName} names, if the caller may do {@code action} to it
     * (PERMISSION_DENIED, reason NOT_YOUR_PROCESS, if not). Ids are never reused, so acting on the
     * id is acting on the process checked.
     */
    private String controlled(String idOrName, ProcessAction action) {
        return controlled(SessionInterceptor.caller(), idOrName, action);
    }

    private String controlled(Caller caller, String idOrName, ProcessAction action) {
        Lineage target = table.lineageOf(idOrName);
        Rights.requireControl(caller, action, target);
        return target.processId();
    }

    private static String requireId(String id) {
        if (id.isEmpty()) {
            throw new InvalidArgument("name", "is required (a process id or name)");
        }
        return id;
    }

    static ForkdException invalid(String field, String rule) {
        return new InvalidArgument(field, rule);
    }
}
