package dev.forkd.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** The harness's setup step: peer tools from Debian packages, installed when missing and allowed. */
final class Setup {

    private Setup() {}

    /** Empty when GNU parallel is (now) on the PATH; else why it is not. */
    static Optional<String> ensureGnuParallel(Consumer<String> log) {
        if (isGnuParallel()) {
            return Optional.empty();
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return Optional.of("GNU parallel is not installed (apt-get install parallel, as root)");
        }
        log.accept("setup: installing GNU parallel (apt-get install -y parallel)...");
        try {
            int rc = run(List.of("apt-get", "install", "-y", "-q", "parallel"));
            if (rc != 0) {
                run(List.of("apt-get", "update", "-q"));
                rc = run(List.of("apt-get", "install", "-y", "-q", "parallel"));
            }
            if (rc == 0 && isGnuParallel()) {
                return Optional.empty();
            }
            return Optional.of("apt-get install parallel failed (exit " + rc + ")");
        } catch (IOException e) {
            return Optional.of("cannot run apt-get: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted");
        }
    }

    private static boolean isGnuParallel() {
        try {
            Process p = new ProcessBuilder("parallel", "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor() == 0 && out.contains("GNU parallel");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static int run(List<String> cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        return pb.start().waitFor();
    }
}
