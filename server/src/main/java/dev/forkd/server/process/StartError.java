package dev.forkd.server.process;

import dev.forkd.server.error.ForkdException;
import java.util.Map;

/** Why an agent could not start a child, as the agent reported it. */
public record StartError(Kind kind, String message) {

    public enum Kind { NOT_FOUND, NOT_EXECUTABLE, BAD_CWD, RESOURCES, OTHER }

    /** The refusal a Spawn of {@code program} answers with. */
    ForkdException toException(String program) {
        Map<String, String> meta = Map.of("program", program, "detail", message);
        return switch (kind) {
            case NOT_FOUND -> new ForkdException.NotFound("PROGRAM_NOT_FOUND", message, meta);
            case NOT_EXECUTABLE -> new ForkdException.FailedPrecondition("PROGRAM_NOT_EXECUTABLE", message, meta);
            case BAD_CWD -> new ForkdException.FailedPrecondition("BAD_CWD", message, meta);
            case RESOURCES -> new ForkdException.ResourceExhausted("AGENT_RESOURCES", message);
            case OTHER -> new ForkdException.FailedPrecondition("START_FAILED", message, meta);
        };
    }
}
