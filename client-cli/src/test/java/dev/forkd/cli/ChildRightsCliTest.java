package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.client.ForkdClient;
import dev.forkd.address.ListenAddress;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A child over TCP, as a user would see it: forkd gives it its own credential, not the server's admin
 * token, and the forkd CLI run inside it can use the data plane and spawn, but not kill a process of
 * another session.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ChildRightsCliTest {

    @Test
    void overTcpAChildsForkdCliHasItsOwnCredentialAndMayNotKillAnotherSessionsProcess() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "fkr-");
        Path tokenFile = dir.resolve("token");
        String adminToken = "admin-" + System.nanoTime() + "-0123456789";
        Files.writeString(tokenFile, adminToken + "\n");
        Files.setPosixFilePermissions(tokenFile, PosixFilePermissions.fromString("rw-------"));
        String forkd = String.join(" ", RunningServer.javaCommand()) + " " + Main.class.getName();
        try (RunningServer tcp = RunningServer.startTcp(tokenFile)) {
            String[] hostPort = tcp.address().split(":");
            try (ForkdClient admin = ForkdClient.connect(new ListenAddress.Tcp(hostPort[0], Integer.parseInt(hostPort[1])),
                    Optional.of(adminToken), Optional.empty())) {
                var processes = admin.processes().withDeadlineAfter(120, TimeUnit.SECONDS);
                ProcessInfo victim = processes.spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("1000").build())
                        .getProcess();
                String script = "case \"$FORKD_TOKEN\" in fksc_*) echo token=own;; *) echo token=other;; esac; "
                        + "test \"$FORKD_TOKEN\" = \"$FORKD_SESSION\" && echo same=yes; "
                        + forkd + " kill " + victim.getId() + " 2>&1; echo kill=$?; "
                        + forkd + " queue create child-q && " + forkd + " queue put child-q hello; echo put=$?; "
                        + forkd + " run -- true; echo run=$?";
                ProcessInfo child = processes.spawn(SpawnRequest.newBuilder().addArgv("sh").addArgv("-c").addArgv(script)
                        .build()).getProcess();
                assertEquals(0, processes.join(JoinProcessRequest.newBuilder().setName(child.getId()).build()).getProcess()
                        .getExitCode());
                String out = output(admin, child.getId());
                assertFalse(out.contains(adminToken), "the admin token reached a child: " + out);
                assertTrue(out.contains("token=own\n") && out.contains("same=yes\n"), out);
                assertTrue(out.contains("kill=1\n") && out.contains("may not signal process " + victim.getId()), out);
                assertTrue(out.contains("put=0\n") && out.contains("run=0\n"), out);
                assertTrue(processes.get(GetProcessRequest.newBuilder().setName(victim.getId()).build()).getProcess()
                        .getIsAlive(), "the child's kill was refused, so the victim lives");
                processes.signal(SignalRequest.newBuilder().setName(victim.getId()).setKind(SignalKind.SIGNAL_KIND_KILL).build());
            }
        } finally {
            RunningServer.deleteTree(dir);
        }
    }

    private static String output(ForkdClient client, String id) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Iterator<WatchProcessResponse> it = client.processes().withDeadlineAfter(60, TimeUnit.SECONDS)
                .watch(WatchProcessRequest.newBuilder().setName(id).build());
        while (it.hasNext()) {
            WatchProcessResponse w = it.next();
            if (w.hasOutput()) {
                b.writeBytes(w.getOutput().getData().toByteArray());
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }
}
