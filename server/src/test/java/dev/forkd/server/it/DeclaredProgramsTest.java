package dev.forkd.server.it;

import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.Timestamps;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.ProgramServiceGrpc;
import dev.forkd.v1.ReloadRequest;
import dev.forkd.v1.ReloadResponse;
import dev.forkd.v1.StopRequest;
import dev.forkd.v1.StartRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Programs declared in a config file, applied and reloaded on a real server with real children. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DeclaredProgramsTest {

    private RealServer forkd;
    private Path config;

    @BeforeEach
    void start() throws Exception {
        forkd = new RealServer(1);
        config = forkd.dir.resolve("forkd.toml");
    }

    @AfterEach
    void stop() throws Exception {
        forkd.closeLeavingNothing();
    }

    private ProgramServiceGrpc.ProgramServiceBlockingStub programs() {
        return ProgramServiceGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(90, TimeUnit.SECONDS);
    }

    private void load(String toml) throws Exception {
        Files.writeString(config, toml);
        forkd.server.programs().load(config).get(90, TimeUnit.SECONDS);
    }

    private ReloadResponse reload(String toml) throws Exception {
        Files.writeString(config, toml);
        return programs().reload(ReloadRequest.getDefaultInstance());
    }

    private ProcessInfo process(String name) {
        return forkd.processes().get(GetProcessRequest.newBuilder().setName(name).build()).getProcess();
    }

    private java.util.Optional<String> idOf(String name) {
        try {
            return java.util.Optional.of(process(name).getId());
        } catch (StatusRuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    private boolean exists(String name) {
        try {
            process(name);
            return true;
        } catch (StatusRuntimeException e) {
            return false;
        }
    }

    private static String program(String name, String script, String... more) {
        return "[program." + name + "]\nargv = [\"sh\", \"-c\", \"" + script + "\"]\n" + String.join("\n", more) + "\n";
    }

    @Test
    void reloadLeavesAnUnchangedProgramsPidAloneAndAppliesTheRest() throws Exception {
        load(program("keep", "exec sleep 300") + program("change", "exec sleep 301") + program("gone", "exec sleep 302"));
        ProcessInfo keep = process("keep");
        ProcessInfo change = process("change");
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, keep.getState());
        assertEquals("keep", keep.getLabelsOrThrow("forkd.program"));

        ReloadResponse r = reload(program("keep", "exec sleep 300") + program("change", "exec sleep 303")
                + program("added", "exec sleep 304"));

        assertEquals(List.of("keep"), r.getUnchangedList());
        assertEquals(List.of("change"), r.getRestartedList());
        assertEquals(List.of("gone"), r.getStoppedList());
        assertEquals(List.of("added"), r.getStartedList());
        ProcessInfo keptAfter = process("keep");
        assertEquals(keep.getId(), keptAfter.getId(), "the unchanged program's process was not touched");
        assertEquals(keep.getPid(), keptAfter.getPid(), "same pid");
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, keptAfter.getState());
        ProcessInfo changed = process("change");
        assertNotEquals(change.getPid(), changed.getPid());
        assertEquals(List.of("sh", "-c", "exec sleep 303"), changed.getArgvList());
        assertFalse(exists("gone"), "a removed program's process is stopped and forgotten");
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, process("added").getState());
    }

    @Test
    void dependantsStartOnceTheirDependenciesRunAndStopBeforeThem() throws Exception {
        Path log = forkd.dir.resolve("stops.log");
        String stopping = "trap 'echo %s >> " + log + "; exit 0' TERM; while :; do sleep 1 & wait $!; done";
        // Declared in the reverse of their start order, so the file's order proves nothing.
        load(program("web", stopping.formatted("web"), "depends_on = [\"app\"]")
                + program("app", stopping.formatted("app"), "depends_on = [\"db\"]")
                + program("db", stopping.formatted("db")));
        ProcessInfo db = process("db");
        ProcessInfo app = process("app");
        ProcessInfo web = process("web");
        assertTrue(Timestamps.compare(app.getCreatedAt(), db.getStartedAt()) >= 0, "app created once db ran: " + app + db);
        assertTrue(Timestamps.compare(web.getCreatedAt(), app.getStartedAt()) >= 0, "web created once app ran");

        ReloadResponse r = reload("");

        assertEquals(3, r.getStoppedCount());
        assertEquals(List.of("web", "app", "db"), Files.readAllLines(log), "dependants stop before what they depend on");
    }

    @Test
    void programPastItsMaxRssIsRestarted() throws Exception {
        // The shell holds 50 MB in a variable: past a max_rss of 20 MB.
        load("[server]\nrss_check_interval = \"200ms\"\n"
                + program("hog", "x=$(head -c 50000000 /dev/zero | tr '\\\\0' a); sleep 300", "max_rss = \"20M\""));
        ProcessInfo first = process("hog");

        // The name is briefly free between the stop and the new start: look without failing then.
        Eventually.await(Duration.ofSeconds(60), () -> idOf("hog").filter(id -> !id.equals(first.getId())
                && forkd.server.programs().instancesOf("hog").equals(List.of(id))).isPresent(),
                () -> "still the first run: " + forkd.server.programs().instancesOf("hog"));

        assertNotEquals(first.getPid(), process("hog").getPid());
        assertFalse(exists(first.getId()), "the first run was stopped and forgotten");
    }

    @Test
    void programsCgroupLimitsPutItInACgroupOfItsOwn() throws Exception {
        Optional<String> missing = dev.forkd.server.limits.Cgroups.host("probe").missing(
                new dev.forkd.server.limits.ResourceLimits(java.util.OptionalLong.empty(), java.util.OptionalLong.empty(),
                        java.util.OptionalLong.empty(), java.util.OptionalLong.empty(), java.util.OptionalLong.empty(),
                        java.util.OptionalLong.empty(), java.util.OptionalDouble.empty(), java.util.OptionalLong.of(5)));
        String declared = program("capped", "exec sleep 300") + "[program.capped.limits]\npids_max = 5\n";
        if (missing.isPresent()) {
            System.out.println("cgroup branch: no usable cgroups here (" + missing.get() + "); expecting a failed start");
            try {
                load(declared);
            } catch (java.util.concurrent.ExecutionException refused) {
                // The start's failure is what the process record below says.
            }
            ProcessInfo p = process("capped");
            assertNotEquals(ProcessState.PROCESS_STATE_RUNNING, p.getState(), p.toString());
            assertTrue(p.getFailure().contains(missing.get()), p.toString());
            return;
        }
        System.out.println("cgroup branch: this host has cgroups forkd can use; checking the program's cgroup");
        load(declared);
        ProcessInfo p = process("capped");
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, p.getState());
        // RUNNING once spawned: the cgroup shim may still be joining; the program runs once it has.
        Path comm = Path.of("/proc/" + p.getPid() + "/comm");
        Eventually.await(Duration.ofSeconds(20), () -> {
            try {
                return Files.readString(comm).strip().equals("sleep");
            } catch (java.io.IOException e) {
                return false;
            }
        }, () -> "the program never ran: " + comm);

        String pidsLine = Files.readAllLines(Path.of("/proc/" + p.getPid() + "/cgroup")).stream()
                .filter(l -> l.split(":", 3)[1].equals("pids") || l.startsWith("0::/") && !l.equals("0::/"))
                .findFirst().orElseThrow();
        String cgroup = pidsLine.split(":", 3)[2];
        Path dir = Path.of(Files.isDirectory(Path.of("/sys/fs/cgroup/pids")) ? "/sys/fs/cgroup/pids" + cgroup
                : "/sys/fs/cgroup" + cgroup);

        assertTrue(cgroup.endsWith("/" + p.getId()) && cgroup.contains("/forkd-"), pidsLine);
        assertEquals("5", Files.readString(dir.resolve("pids.max")).strip());
    }

    @Test
    void configErrorIsRefusedWithItsLineAndNothingChanges() throws Exception {
        load(program("keep", "exec sleep 300"));
        ProcessInfo keep = process("keep");

        var e = assertThrows(StatusRuntimeException.class, () -> reload(program("keep", "exec sleep 300")
                + program("other", "exec sleep 305", "numprocs = \"two\"")));

        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertEquals("PROGRAM_CONFIG_INVALID", reason(e));
        assertTrue(e.getStatus().getDescription().contains("line 6: program.other.numprocs"), e.getStatus().getDescription());
        assertEquals(keep.getPid(), process("keep").getPid());
        assertFalse(exists("other"));
        assertEquals(1, forkd.processes().list(ListProcessesRequest.getDefaultInstance()).getProcessesCount());
    }

    @Test
    void startByNameRefusesWhileADependencyIsStopped() throws Exception {
        load(program("db", "exec sleep 300") + program("app", "exec sleep 301", "depends_on = [\"db\"]"));
        programs().stop(StopRequest.newBuilder().setName("app").build());
        programs().stop(StopRequest.newBuilder().setName("db").build());

        var e = assertThrows(StatusRuntimeException.class,
                () -> programs().start(StartRequest.newBuilder().setName("app").build()));

        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("dependency \"db\" is not running"), e.getStatus().getDescription());
        assertFalse(exists("app"));
        programs().start(StartRequest.newBuilder().setName("db").build());
        assertEquals(ProcessState.PROCESS_STATE_RUNNING,
                programs().start(StartRequest.newBuilder().setName("app").build()).getProcesses(0).getState());
    }

    @Test
    void stopAndStartByName() throws Exception {
        load(program("one", "exec sleep 300", "numprocs = 2"));
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, process("one.1").getState());

        assertEquals(2, programs().stop(StopRequest.newBuilder().setName("one").build()).getStopped());
        assertFalse(exists("one.0"));
        var started = programs().start(StartRequest.newBuilder().setName("one").build());

        assertEquals(2, started.getProcessesCount());
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, process("one.0").getState());
        var missing = assertThrows(StatusRuntimeException.class,
                () -> programs().start(StartRequest.newBuilder().setName("nope").build()));
        assertEquals("DECLARED_PROGRAM_NOT_FOUND", reason(missing));
    }
}
