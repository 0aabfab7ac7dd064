package dev.forkd.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * The one place where failures become exit codes and one line on stderr:
 * 0 ok; 1 the server said no (NOT_FOUND, FAILED_PRECONDITION, ...) or a queue/pipe has ended; 2 usage;
 * 3 no server to talk to; 124 timed out; {@code run} 126/127 when its program cannot be executed / is missing;
 * {@code run} and {@code wait} exit with the child's status instead; {@code map} with the number of
 * failed tasks (capped at 101, as GNU parallel).
 */
public final class ExitCodes implements CommandLine.IExitCodeExceptionMapper,
        CommandLine.IExecutionExceptionHandler, CommandLine.IParameterExceptionHandler {

    public static final int OK = 0;
    public static final int ERROR = 1;
    public static final int USAGE = 2;
    public static final int UNREACHABLE = 3;
    /** Nothing came, went or ended in time (a wait, a lock, a queue get/put, a pipe recv/send/poll), like timeout(1). */
    public static final int TIMED_OUT = 124;
    /** The server said no (not found, wrong state, closed): the same 1 for every command group. */
    public static final int REFUSED = ERROR;
    /** A wait that timed out with the process still running, like timeout(1). */
    public static final int STILL_RUNNING = 124;
    /** A process that could not be started, like a shell's "command not found". */
    public static final int FAILED_TO_START = 127;
    /** {@code run} of a program that is there but cannot be executed, like a shell's "permission denied". */
    public static final int NOT_EXECUTABLE = 126;

    /**
     * What {@code run} exits with when the server refused to start its program: 127 not found and
     * 126 not executable, as a shell does; otherwise what any refusal exits with.
     */
    static int ofStartRefusal(StatusRuntimeException e) {
        return switch (reason(e)) {
            case "PROGRAM_NOT_FOUND" -> FAILED_TO_START;
            case "PROGRAM_NOT_EXECUTABLE" -> NOT_EXECUTABLE;
            default -> new ExitCodes().getExitCode(e);
        };
    }

    /** The {@code ErrorInfo} reason forkd attaches to a refusal; "" if there is none. */
    static String reason(StatusRuntimeException e) {
        var status = io.grpc.protobuf.StatusProto.fromThrowable(e);
        if (status == null) {
            return "";
        }
        for (var any : status.getDetailsList()) {
            if (any.is(com.google.rpc.ErrorInfo.class)) {
                try {
                    return any.unpack(com.google.rpc.ErrorInfo.class).getReason();
                } catch (com.google.protobuf.InvalidProtocolBufferException malformed) {
                    return "";
                }
            }
        }
        return "";
    }

    @Override
    public int getExitCode(Throwable exception) {
        return switch (exception) {
            case CliFailure f -> f.exitCode();
            case CommandLine.ParameterException p -> USAGE;
            case StatusRuntimeException s -> s.getStatus().getCode() == Status.Code.UNAVAILABLE ? UNREACHABLE : ERROR;
            default -> ERROR;
        };
    }

    /** One line per failure: no stack traces for things a user can act on. */
    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parseResult) {
        PrintWriter err = cmd.getErr();
        err.println("forkd: " + describe(ex));
        err.flush();
        return getExitCode(ex);
    }

    /** A usage error: what is wrong and where to read more, on one line, exit 2. */
    @Override
    public int handleParseException(CommandLine.ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        String message = ex.getMessage();
        String suggestion = "";
        if (ex instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getSuggestions().isEmpty()) {
            // A mistyped command or option: name the likely one, as git does.
            suggestion = "; did you mean " + String.join(" or ",
                    unmatched.getSuggestions().stream().limit(3).map(s -> "'" + s + "'").toList()) + "?";
        }
        err.println("forkd: " + lowerFirst(message) + suggestion
                + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
        err.flush();
        return USAGE;
    }

    static String describe(Throwable ex) {
        return switch (ex) {
            case CliFailure f -> f.getMessage();
            case StatusRuntimeException s -> describe(s.getStatus());
            default -> ex.getMessage() == null ? ex.getClass().getSimpleName()
                    : ex.getClass().getSimpleName() + ": " + ex.getMessage();
        };
    }

    static String describe(Status status) {
        String description = status.getDescription();
        String text = description == null || description.isBlank()
                ? status.getCode().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                : description;
        if (status.getCause() != null && status.getCause().getMessage() != null
                && (description == null || description.equals("io exception"))) {
            // grpc's "io exception" says nothing; the cause says what (connection refused, no such file).
            text = status.getCause().getMessage();
        }
        return switch (status.getCode()) {
            // A session credential that names nothing is not fixed by a token.
            case UNAUTHENTICATED -> text.contains("forkd-session") || text.startsWith("credential:") ? text
                    : text + " (pass --token-file or set FORKD_TOKEN)";
            case DEADLINE_EXCEEDED -> "no answer in time: " + text;
            default -> text;
        };
    }

    private static String lowerFirst(String s) {
        if (s == null || s.isEmpty()) {
            return "bad usage";
        }
        // picocli's messages start with a capital ("Missing required parameter"); ours follow "forkd: ".
        return Character.isUpperCase(s.charAt(0)) && (s.length() < 2 || !Character.isUpperCase(s.charAt(1)))
                ? Character.toLowerCase(s.charAt(0)) + s.substring(1) : s;
    }
}
