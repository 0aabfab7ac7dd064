package dev.forkd.server.programs;

import java.util.List;
import java.util.Map;

/** What one reload did, by program name. {@code failed} holds programs that could not start, and why. */
public record ReloadResult(List<String> started, List<String> stopped, List<String> restarted,
        List<String> unchanged, Map<String, String> failed) {

    public ReloadResult {
        started = List.copyOf(started);
        stopped = List.copyOf(stopped);
        restarted = List.copyOf(restarted);
        unchanged = List.copyOf(unchanged);
        failed = Map.copyOf(failed);
    }
}
