package dev.forkd.server.grpc;

import dev.forkd.server.auth.Caller;
import dev.forkd.server.error.ForkdException;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.programs.DeclaredPrograms;
import dev.forkd.server.programs.Program;
import dev.forkd.v1.ListProgramsRequest;
import dev.forkd.v1.ListProgramsResponse;
import dev.forkd.v1.ProgramInfo;
import dev.forkd.v1.ProgramServiceGrpc;
import dev.forkd.v1.ReloadRequest;
import dev.forkd.v1.ReloadResponse;
import dev.forkd.v1.RestartRequest;
import dev.forkd.v1.RestartResponse;
import dev.forkd.v1.StartRequest;
import dev.forkd.v1.StartResponse;
import dev.forkd.v1.StopRequest;
import dev.forkd.v1.StopResponse;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/** ProgramService over {@link DeclaredPrograms}: decode, call, encode. Admin only. */
public final class ProgramServiceAdapter extends ProgramServiceGrpc.ProgramServiceImplBase {

    private static final int MAX_PAGE = 1000;

    private final DeclaredPrograms programs;
    private final ProcessTable table;
    private final ExitCauses causes;

    public ProgramServiceAdapter(DeclaredPrograms programs, ProcessTable table) {
        this.causes = new ExitCauses();
        this.programs = programs;
        this.table = table;
    }

    @Override
    public void reload(ReloadRequest request, StreamObserver<ReloadResponse> out) {
        answer(out, programs::reload, r -> ReloadResponse.newBuilder().addAllStarted(r.started())
                .addAllStopped(r.stopped()).addAllRestarted(r.restarted()).addAllUnchanged(r.unchanged())
                .putAllFailed(r.failed()).build());
    }

    @Override
    public void list(ListProgramsRequest request, StreamObserver<ListProgramsResponse> out) {
        Calls.unary(out, () -> {
            adminOnly();
            var page = PageTokens.page(programs.declared().programs().values(), Program::name, request.getPageSize(),
                    MAX_PAGE, request.getPageToken(), "programs");
            var b = ListProgramsResponse.newBuilder();
            for (Program p : page.items()) {
                b.addPrograms(ProgramInfo.newBuilder().setName(p.name()).addAllProcessIds(programs.instancesOf(p.name()))
                        .setNumprocs(p.numprocs()).setAutostart(p.autostart()).addAllDependsOn(p.dependsOn()));
            }
            page.nextPageToken().ifPresent(b::setNextPageToken);
            return b.build();
        });
    }

    @Override
    public void start(StartRequest request, StreamObserver<StartResponse> out) {
        answer(out, () -> programs.start(name(request.getName())),
                ids -> StartResponse.newBuilder().addAllProcesses(infos(ids)).build());
    }

    @Override
    public void stop(StopRequest request, StreamObserver<StopResponse> out) {
        answer(out, () -> programs.stop(name(request.getName())), n -> StopResponse.newBuilder().setStopped(n).build());
    }

    @Override
    public void restart(RestartRequest request, StreamObserver<RestartResponse> out) {
        answer(out, () -> programs.restart(name(request.getName())),
                ids -> RestartResponse.newBuilder().addAllProcesses(infos(ids)).build());
    }

    private List<dev.forkd.v1.ProcessInfo> infos(List<String> ids) {
        return ids.stream().map(id -> {
            try {
                return ProcessMessages.info(table.get(id), causes);
            } catch (ForkdException.NotFound e) {
                return dev.forkd.v1.ProcessInfo.newBuilder().setId(id).build(); // ended and forgotten meanwhile
            }
        }).toList();
    }

    private static String name(String name) {
        if (name.isEmpty()) {
            throw new InvalidArgument("name", "is required (a declared program's name)");
        }
        return name;
    }

    private static void adminOnly() {
        if (SessionInterceptor.caller() instanceof Caller.Child c) {
            throw new ForkdException.PermissionDenied("NOT_YOUR_PROCESS",
                    "declared programs are the admin's; a child process may not manage them",
                    Map.of("process", c.processId()));
        }
    }

    /** Runs an operation that answers later; a refusal, sync or not, is its mapped status. */
    private static <T, R> void answer(StreamObserver<R> out, Supplier<CompletableFuture<T>> op, Function<T, R> encode) {
        CompletableFuture<T> f;
        try {
            adminOnly();
            f = op.get();
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
            return;
        }
        f.whenComplete((value, e) -> {
            if (e != null) {
                Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                        ? e.getCause() : e;
                out.onError(ErrorMapper.toStatus(cause instanceof RuntimeException r ? r
                        : new ForkdException.FailedPrecondition("START_FAILED", cause.getMessage())));
                return;
            }
            R reply;
            try {
                reply = encode.apply(value);
            } catch (RuntimeException x) {
                out.onError(ErrorMapper.toStatus(x));
                return;
            }
            out.onNext(reply);
            out.onCompleted();
        });
    }
}
