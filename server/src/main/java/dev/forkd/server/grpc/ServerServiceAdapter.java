package dev.forkd.server.grpc;

import dev.forkd.server.ServerLife;
import dev.forkd.server.auth.Caller;
import dev.forkd.server.error.ForkdException;
import dev.forkd.v1.ServerServiceGrpc;
import dev.forkd.v1.ShutdownRequest;
import dev.forkd.v1.ShutdownResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.function.IntSupplier;

/** ServerService over {@link ServerLife}. Admin only. */
public final class ServerServiceAdapter extends ServerServiceGrpc.ServerServiceImplBase {

    private final ServerLife life;
    private final IntSupplier running;

    /** @param running how many processes are starting or running now */
    public ServerServiceAdapter(ServerLife life, IntSupplier running) {
        this.life = life;
        this.running = running;
    }

    @Override
    public void shutdown(ShutdownRequest request, StreamObserver<ShutdownResponse> out) {
        ServerLife.Stop how = request.getKeepChildren() ? ServerLife.Stop.KEEP_CHILDREN : ServerLife.Stop.EVERYTHING;
        ShutdownResponse reply;
        try {
            if (SessionInterceptor.caller() instanceof Caller.Child c) {
                throw new ForkdException.PermissionDenied("NOT_YOUR_PROCESS",
                        "the server's life is the admin's; a child process may not stop it",
                        Map.of("process", c.processId()));
            }
            life.check(how);
            reply = ShutdownResponse.newBuilder().setPid(ProcessHandle.current().pid())
                    .setKeepChildren(request.getKeepChildren()).setRunning(running.getAsInt()).build();
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
            return;
        }
        // The stop starts once the answer is sent (it closes the connection this call came on), or
        // when the caller went away without waiting for it: asked is asked.
        if (out instanceof ServerCallStreamObserver<ShutdownResponse> call) {
            call.setOnCloseHandler(() -> life.stop(how));
            call.setOnCancelHandler(() -> life.stop(how));
            out.onNext(reply);
            out.onCompleted();
        } else {
            out.onNext(reply);
            out.onCompleted();
            life.stop(how);
        }
    }
}
