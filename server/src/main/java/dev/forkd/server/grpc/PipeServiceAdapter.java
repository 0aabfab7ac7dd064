package dev.forkd.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.pipe.Pipe;
import dev.forkd.server.pipe.PipeOutcomes;
import dev.forkd.server.pipe.PipeRegistry;
import dev.forkd.v1.CloseEndRequest;
import dev.forkd.v1.CloseEndResponse;
import dev.forkd.v1.CreatePipeRequest;
import dev.forkd.v1.CreatePipeResponse;
import dev.forkd.v1.DeletePipeRequest;
import dev.forkd.v1.DeletePipeResponse;
import dev.forkd.v1.GetPipeRequest;
import dev.forkd.v1.ListPipesRequest;
import dev.forkd.v1.ListPipesResponse;
import dev.forkd.v1.GetPipeResponse;
import dev.forkd.v1.PipeEnd;
import dev.forkd.v1.PipeInfo;
import dev.forkd.v1.PipeServiceGrpc;
import dev.forkd.v1.PollRequest;
import dev.forkd.v1.PollResponse;
import dev.forkd.v1.RecvRequest;
import dev.forkd.v1.RecvResponse;
import dev.forkd.v1.RecvStreamRequest;
import dev.forkd.v1.RecvStreamResponse;
import dev.forkd.v1.SendRequest;
import dev.forkd.v1.SendResponse;
import dev.forkd.v1.SendStreamRequest;
import dev.forkd.v1.SendStreamResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;

/** PipeService: decode, call the {@link PipeRegistry} and its pipes, encode. */
public final class PipeServiceAdapter extends PipeServiceGrpc.PipeServiceImplBase {

    private static final int MAX_PAGE = 1000;

    private static final int STREAM_BATCH = 1024;

    private final PipeRegistry pipes;
    private final Executor executor;

    public PipeServiceAdapter(PipeRegistry pipes, Executor executor) {
        this.pipes = pipes;
        this.executor = executor;
    }

    @Override
    public void create(CreatePipeRequest r, StreamObserver<CreatePipeResponse> out) {
        Calls.unary(out, () -> CreatePipeResponse.newBuilder().setPipe(info(pipes.create(
                r.getName().isEmpty() ? Optional.empty() : Optional.of(r.getName()), r.getDuplex()))).build());
    }

    @Override
    public void get(GetPipeRequest r, StreamObserver<GetPipeResponse> out) {
        Calls.unary(out, () -> GetPipeResponse.newBuilder().setPipe(info(pipes.get(r.getName(), "pipe"))).build());
    }

    @Override
    public void list(ListPipesRequest r, StreamObserver<ListPipesResponse> out) {
        Calls.unary(out, () -> {
            // Ordered by id as a number would be nicer; by id as text is stable, which paging needs.
            var page = PageTokens.page(pipes.all(), Pipe::id, r.getPageSize(), MAX_PAGE, r.getPageToken(), "pipes");
            var b = ListPipesResponse.newBuilder();
            page.items().forEach(p -> b.addPipes(info(p)));
            page.nextPageToken().ifPresent(b::setNextPageToken);
            return b.build();
        });
    }

    @Override
    public void delete(DeletePipeRequest r, StreamObserver<DeletePipeResponse> out) {
        Calls.unary(out, () -> DeletePipeResponse.newBuilder().setId(pipes.delete(r.getName())).build());
    }

    @Override
    public void closeEnd(CloseEndRequest r, StreamObserver<CloseEndResponse> out) {
        Calls.unary(out, () -> {
            PipeRegistry.End e = pipes.end(r.getName());
            e.pipe().closeEnd(e.end());
            return CloseEndResponse.newBuilder().setPipe(info(e.pipe())).build();
        });
    }

    @Override
    public void send(SendRequest r, StreamObserver<SendResponse> out) {
        var call = (ServerCallStreamObserver<SendResponse>) out;
        try {
            PipeRegistry.End e = pipes.end(r.getName());
            var pending = e.pipe().send(e.end(), messages(r.getMessagesList()), false,
                    QueueServiceAdapter.timeout(r.hasTimeout(), r.getTimeout()), outcome -> {
                        if (call.isCancelled()) {
                            return;
                        }
                        switch (outcome) {
                            case PipeOutcomes.Send.Done d -> {
                                out.onNext(SendResponse.newBuilder().setSent(d.sent()).build());
                                out.onCompleted();
                            }
                            case PipeOutcomes.Send.TimedOut t -> {
                                out.onNext(SendResponse.newBuilder().setTimedOut(true).build());
                                out.onCompleted();
                            }
                            case PipeOutcomes.Send.Failed f -> out.onError(ErrorMapper.toStatus(f.error()));
                        }
                    });
            call.setOnCancelHandler(pending::cancel);
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public void recv(RecvRequest r, StreamObserver<RecvResponse> out) {
        var call = (ServerCallStreamObserver<RecvResponse>) out;
        try {
            if (r.getMaxMessages() < 0) {
                throw new InvalidArgument("max_messages", "must not be negative (0 means 1)");
            }
            PipeRegistry.End e = pipes.end(r.getName());
            var pending = e.pipe().recv(e.end(), r.getMaxMessages() == 0 ? 1 : r.getMaxMessages(),
                    QueueServiceAdapter.timeout(r.hasTimeout(), r.getTimeout()), outcome -> {
                        if (call.isCancelled()) {
                            return;
                        }
                        switch (outcome) {
                            case PipeOutcomes.Recv.Messages m -> {
                                var b = RecvResponse.newBuilder();
                                m.messages().forEach(x -> b.addMessages(UnsafeByteOperations.unsafeWrap(x)));
                                out.onNext(b.build());
                                out.onCompleted();
                            }
                            case PipeOutcomes.Recv.TimedOut t -> {
                                out.onNext(RecvResponse.newBuilder().setTimedOut(true).build());
                                out.onCompleted();
                            }
                            case PipeOutcomes.Recv.Eof eof -> {
                                out.onNext(RecvResponse.newBuilder().setEof(true).build());
                                out.onCompleted();
                            }
                            case PipeOutcomes.Recv.Failed f -> out.onError(ErrorMapper.toStatus(f.error()));
                        }
                    }, call::isCancelled);
            call.setOnCancelHandler(pending::cancel);
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public void poll(PollRequest r, StreamObserver<PollResponse> out) {
        var call = (ServerCallStreamObserver<PollResponse>) out;
        try {
            PipeRegistry.End e = pipes.end(r.getName());
            Duration timeout = r.hasTimeout() ? Protos.duration("timeout", r.getTimeout()) : Duration.ZERO;
            var pending = e.pipe().poll(e.end(), timeout, p -> {
                if (!call.isCancelled()) {
                    out.onNext(PollResponse.newBuilder().setReady(p.ready()).setEof(p.eof()).build());
                    out.onCompleted();
                }
            });
            call.setOnCancelHandler(pending::cancel);
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    /**
     * Streams what arrives at an end: one receive at a time, asked for only while the client's
     * stream is ready, and the next one scheduled on the executor (no thread waits, no recursion).
     */
    @Override
    public void recvStream(RecvStreamRequest r, StreamObserver<RecvStreamResponse> out) {
        var call = (ServerCallStreamObserver<RecvStreamResponse>) out;
        try {
            PipeRegistry.End e = pipes.end(r.getName());
            new Object() {
                Pipe.Pending pending = () -> {};
                boolean waiting;
                boolean done;

                void start() {
                    call.setOnCancelHandler(this::cancel);
                    call.setOnReadyHandler(() -> executor.execute(this::next));
                    next();
                }

                synchronized void cancel() {
                    done = true;
                    pending.cancel();
                }

                synchronized void next() {
                    if (done || waiting || !call.isReady()) {
                        return;
                    }
                    waiting = true;
                    try {
                        pending = e.pipe().recv(e.end(), STREAM_BATCH, Optional.empty(), this::got, call::isCancelled);
                    } catch (RuntimeException ex) {
                        done = true;
                        call.onError(ErrorMapper.toStatus(ex));
                    }
                }

                synchronized void got(PipeOutcomes.Recv outcome) {
                    waiting = false;
                    if (done || call.isCancelled()) {
                        return;
                    }
                    switch (outcome) {
                        case PipeOutcomes.Recv.Messages m -> {
                            var b = RecvStreamResponse.newBuilder();
                            m.messages().forEach(x -> b.addMessages(UnsafeByteOperations.unsafeWrap(x)));
                            call.onNext(b.build());
                            executor.execute(this::next);
                        }
                        case PipeOutcomes.Recv.Eof eof -> {
                            done = true;
                            call.onNext(RecvStreamResponse.newBuilder().setEof(true).build());
                            call.onCompleted();
                        }
                        case PipeOutcomes.Recv.Failed f -> {
                            done = true;
                            call.onError(ErrorMapper.toStatus(f.error()));
                        }
                        case PipeOutcomes.Recv.TimedOut t -> executor.execute(this::next);
                    }
                }
            }.start();
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    /** Sends each batch from an end; reads the next request only once the batch is buffered. */
    @Override
    public StreamObserver<SendStreamRequest> sendStream(StreamObserver<SendStreamResponse> out) {
        var call = (ServerCallStreamObserver<SendStreamResponse>) out;
        call.disableAutoRequest();
        call.request(1);
        return new StreamObserver<SendStreamRequest>() {
            PipeRegistry.End end;
            Pipe.Pending pending = () -> {};
            long sent;
            boolean closed;
            boolean inFlight;
            boolean clientDone;
            boolean done;

            {
                call.setOnCancelHandler(this::cancel);
            }

            synchronized void cancel() {
                done = true;
                pending.cancel();
            }

            @Override
            public synchronized void onNext(SendStreamRequest r) {
                if (done) {
                    return;
                }
                try {
                    if (end == null) {
                        end = pipes.end(r.getName());
                    }
                    if (r.getMessagesCount() == 0) {
                        after(r.getClose());
                        return;
                    }
                    inFlight = true;
                    pending = end.pipe().send(end.end(), messages(r.getMessagesList()), true, Optional.empty(),
                            outcome -> sentBatch(outcome, r.getClose()));
                } catch (RuntimeException e) {
                    fail(e);
                }
            }

            synchronized void sentBatch(PipeOutcomes.Send outcome, boolean close) {
                inFlight = false;
                if (done) {
                    return;
                }
                switch (outcome) {
                    case PipeOutcomes.Send.Done d -> {
                        sent += d.sent();
                        after(close);
                    }
                    case PipeOutcomes.Send.Failed f -> fail(f.error());
                    case PipeOutcomes.Send.TimedOut t -> fail(new IllegalStateException("a stream send timed out"));
                }
            }

            private void after(boolean close) {
                if (close) {
                    end.pipe().closeEnd(end.end());
                    closed = true;
                }
                if (clientDone) {
                    complete();
                } else {
                    call.request(1);
                }
            }

            @Override
            public synchronized void onError(Throwable t) {
                cancel();
            }

            @Override
            public synchronized void onCompleted() {
                clientDone = true;
                if (!inFlight && !done) {
                    complete();
                }
            }

            private void complete() {
                done = true;
                call.onNext(SendStreamResponse.newBuilder().setSent(sent).setClosed(closed).build());
                call.onCompleted();
            }

            private void fail(RuntimeException e) {
                done = true;
                call.onError(ErrorMapper.toStatus(e));
            }
        };
    }

    private static List<byte[]> messages(List<ByteString> in) {
        List<byte[]> out = new ArrayList<>(in.size());
        for (ByteString b : in) {
            out.add(b.toByteArray());
        }
        return out;
    }

    static PipeInfo info(Pipe p) {
        var b = PipeInfo.newBuilder().setId(p.id()).setName(p.name().orElse("")).setDuplex(p.duplex());
        for (Pipe.EndState e : p.ends()) {
            b.addEnds(PipeEnd.newBuilder().setId(e.id()).setReadable(e.readable()).setWritable(e.writable())
                    .setClosed(e.closed()).setBuffered(e.buffered()));
        }
        return b.build();
    }
}
