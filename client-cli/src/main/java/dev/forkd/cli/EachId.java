package dev.forkd.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;

/**
 * A command given several ids ({@code forkd kill p-1 p-2}) does each, as kill(1) and docker do:
 * one the server refuses is reported on its own line and does not stop the others; the command exits
 * with the highest of their codes, so any failure shows.
 */
final class EachId {

    /** What to do with one id; returns that id's exit code. */
    interface Action {
        int apply(String id);
    }

    private EachId() {}

    static int run(List<String> ids, Invocation inv, Action action) {
        int worst = ExitCodes.OK;
        for (String id : ids) {
            int code;
            try {
                code = action.apply(id);
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.UNAVAILABLE || ids.size() == 1) {
                    throw e; // no server: the next id would fail the same way, and one id fails as before
                }
                inv.err().println("forkd: " + id + ": " + ExitCodes.describe(e));
                code = new ExitCodes().getExitCode(e);
            }
            worst = Math.max(worst, code);
        }
        return worst;
    }
}
