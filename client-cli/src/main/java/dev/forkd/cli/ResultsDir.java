package dev.forkd.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * GNU parallel's {@code --results DIR}: each job's stdout, stderr and sequence number in files of a
 * directory named after its arguments, {@code DIR/1/<value 1>/2/<value 2>/...} with the files
 * {@code stdout}, {@code stderr} and {@code seq}. In a value, {@code \} becomes {@code \\} and
 * {@code /} becomes {@code \_}, as GNU parallel writes them; a value that is empty, {@code .} or
 * {@code ..} gets a leading {@code \} (GNU parallel would write such a job into its parent's
 * directory).
 */
final class ResultsDir {

    private final Path root;

    ResultsDir(Path root) {
        this.root = root;
    }

    /** The directory of a job with these arguments, one per input source. */
    Path of(List<String> values) {
        Path dir = root;
        for (int i = 0; i < values.size(); i++) {
            dir = dir.resolve(Integer.toString(i + 1)).resolve(escape(values.get(i)));
        }
        return dir;
    }

    static String escape(String value) {
        String s = value.replace("\\", "\\\\").replace("/", "\\_");
        return s.isEmpty() || s.equals(".") || s.equals("..") ? "\\" + s : s;
    }

    void write(MapJob job, byte[] stdout, byte[] stderr) throws IOException {
        Path dir = of(job.values());
        Files.createDirectories(dir);
        Files.write(dir.resolve("stdout"), stdout);
        Files.write(dir.resolve("stderr"), stderr);
        Files.writeString(dir.resolve("seq"), Long.toString(job.seq()), StandardCharsets.UTF_8);
    }
}
