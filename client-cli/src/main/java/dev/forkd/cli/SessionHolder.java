package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.address.ListenAddress;
import dev.forkd.client.ServerLauncher;
import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code forkd session hold}, started by {@code forkd session}: opens a session, writes one line to
 * its stdout (a pipe to the command that started it, closed right after), and keeps the session's
 * stream open, renewing it every third of its lease, until the session is closed (the server then
 * refuses the next renewal), the watched process exits (it ends the stream, which ends the
 * session), or it is killed (the connection drops, which ends the session). The credential travels
 * only over that pipe: never in this process's arguments.
 */
@Command(name = "hold", hidden = true, description = "Hold a session open for 'forkd session' (not for direct use).")
final class SessionHolder extends ClientCommand {

    /** The first word of the line the holder writes when the session is open: then its id and credential. */
    static final String OPENED = "opened";
    /** The first word of the line the holder writes when it could not open one: then an exit code and why. */
    static final String FAILED = "failed";

    @Override
    boolean printsJson() {
        return false;
    }

    @Override
    boolean autostarts() {
        return false; // the command that started it found the server already
    }

    @Option(names = "--parent", paramLabel = "PID", required = true)
    long parent;

    @Option(names = "--ttl", paramLabel = "DURATION", converter = DurationConverter.class, required = true)
    Duration ttl;

    @Option(names = "--name", paramLabel = "NAME", defaultValue = "forkd session")
    String name;

    /**
     * The holder's command line: the {@code forkd} launcher this CLI was started by (as autostart
     * does), else this JVM's java and class path; under setsid, so a Ctrl-C in the terminal does not
     * reach it. Everything it needs but the credential it makes itself goes in arguments; secrets
     * (FORKD_TOKEN) stay in the environment.
     */
    static List<String> command(Invocation inv, ListenAddress address, ClientOptions options, long parent,
            Duration ttl, String name) {
        List<String> command = new ArrayList<>();
        Path setsid = Path.of("/usr/bin/setsid");
        if (Files.isExecutable(setsid)) {
            command.add(setsid.toString());
        }
        var launcher = ServerLauncher.launcher(inv.env());
        if (launcher.isPresent()) {
            command.add(launcher.get().toString());
        } else {
            command.add(ProcessHandle.current().info().command()
                    .orElseGet(() -> Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            command.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                    "-Xmx64m", "-cp", absoluteClassPath(), Main.class.getName()));
        }
        command.addAll(List.of("session", "hold", "--parent", Long.toString(parent), "--ttl", ttl.toMillis() + "ms",
                "--name", name, "--address", address.toString(), "--no-autostart"));
        addFile(command, "--token-file", inv, options.tokenFile);
        addFile(command, "--tls-ca", inv, options.tlsCa);
        addFile(command, "--tls-cert", inv, options.tlsCert);
        addFile(command, "--tls-key", inv, options.tlsKey);
        return command;
    }

    private static void addFile(List<String> command, String flag, Invocation inv, Path file) {
        if (file != null) {
            command.addAll(List.of(flag, inv.cwd().resolve(file).toAbsolutePath().toString()));
        }
    }

    /** The holder runs from "/", so the class path's entries must not be relative. */
    private static String absoluteClassPath() {
        return String.join(File.pathSeparator, Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(s -> !s.isEmpty())
                .map(s -> Path.of(s).toAbsolutePath().toString())
                .toList());
    }

    @Override
    int run(ForkdClient client, Invocation inv) throws Exception {
        CompletableFuture<OpenSessionResponse> opened = new CompletableFuture<>();
        CompletableFuture<String> ended = new CompletableFuture<>();
        CompletableFuture<ClientCallStreamObserver<OpenSessionRequest>> stream = new CompletableFuture<>();
        client.sessionsAsync().open(new ClientResponseObserver<OpenSessionRequest, OpenSessionResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<OpenSessionRequest> requests) {
                stream.complete(requests);
            }

            @Override
            public void onNext(OpenSessionResponse r) {
                opened.complete(r);
            }

            @Override
            public void onError(Throwable t) {
                opened.completeExceptionally(t);
                ended.complete("the session stream ended: " + Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                opened.completeExceptionally(Status.UNAVAILABLE.withDescription("the server ended the session stream")
                        .asRuntimeException());
                ended.complete("the server ended the session");
            }
        });
        ClientCallStreamObserver<OpenSessionRequest> requests = stream.join();
        requests.onNext(OpenSessionRequest.newBuilder().setTtl(com.google.protobuf.Duration.newBuilder()
                .setSeconds(ttl.getSeconds()).setNanos(ttl.getNano())).setName(name).build());
        OpenSessionResponse session;
        try {
            session = opened.get(CALL_DEADLINE.toSeconds(), TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            int code = new ExitCodes().getExitCode(e.getCause());
            inv.out().println(FAILED + "\t" + code + "\tcannot open a session: " + ExitCodes.describe(e.getCause()));
            inv.out().close();
            return ExitCodes.ERROR;
        } catch (java.util.concurrent.TimeoutException e) {
            requests.cancel("no answer", null);
            inv.out().println(FAILED + "\t" + ExitCodes.ERROR + "\tthe server did not open a session within "
                    + CALL_DEADLINE.toSeconds() + " s");
            inv.out().close();
            return ExitCodes.ERROR;
        }
        ProcessExitWatch.onExit(parent).thenRun(() -> ended.complete("process " + parent + " exited"));
        inv.out().println(OPENED + "\t" + session.getSessionId() + "\t" + session.getCredential());
        inv.out().close(); // the end of the pipe: the starting command reads to it and returns
        ScheduledExecutorService renewals = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "forkd-session-renewal");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(50, ttl.toMillis() / 3);
        renewals.scheduleAtFixedRate(() -> {
            synchronized (requests) {
                if (!ended.isDone()) {
                    requests.onNext(OpenSessionRequest.getDefaultInstance());
                }
            }
        }, every, every, TimeUnit.MILLISECONDS);
        ended.join();
        renewals.shutdownNow();
        synchronized (requests) {
            try {
                requests.onCompleted(); // ends the session, if the server has not already
            } catch (IllegalStateException | StatusRuntimeException e) {
                // the stream is over already
            }
        }
        return ExitCodes.OK;
    }
}
