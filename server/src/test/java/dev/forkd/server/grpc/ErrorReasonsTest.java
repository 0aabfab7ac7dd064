package dev.forkd.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import dev.forkd.server.agent.AgentCredentials;
import dev.forkd.server.error.ForkdException;
import dev.forkd.server.sync.SyncKind;
import dev.forkd.v1.ErrorReason;
import io.grpc.protobuf.StatusProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * forkd.v1.ErrorReason is the one closed list clients branch on: every reason the server can put in
 * an ErrorInfo must be one of its values. Reasons are literals at the places errors are made, or are
 * derived from a resource kind (NOT_FOUND / ALREADY_EXISTS); this test reads both from the sources.
 */
class ErrorReasonsTest {

    private static final Pattern LITERAL_REASON = Pattern.compile(
            "(?:FailedPrecondition|ResourceExhausted|Unavailable|Unauthenticated|PermissionDenied|NotFound)"
                    + "\\(\\s*\"([A-Z][A-Z0-9_]*)\"|setReason\\(\"([A-Z][A-Z0-9_]*)\"\\)"
                    + "|refuse\\(call, \"([A-Z][A-Z0-9_]*)\"|String REASON = \"([A-Z][A-Z0-9_]*)\"");
    private static final Pattern KIND = Pattern.compile("(NotFound|AlreadyExists)\\(\\s*\"([a-z ]+)\"");

    @Test
    void everyReasonTheServerMakesIsAnErrorReasonValue() throws IOException {
        TreeSet<String> reasons = new TreeSet<>();
        int files = 0;
        try (Stream<Path> sources = Files.walk(Path.of("src/main/java"))) {
            for (Path p : sources.filter(f -> f.toString().endsWith(".java")).toList()) {
                files++;
                String text = Files.readString(p);
                Matcher m = LITERAL_REASON.matcher(text);
                while (m.find()) {
                    for (int g = 1; g <= m.groupCount(); g++) {
                        if (m.group(g) != null) {
                            reasons.add(m.group(g));
                        }
                    }
                }
                Matcher k = KIND.matcher(text);
                while (k.find()) {
                    reasons.add(kindReason(k.group(2), k.group(1).equals("NotFound") ? "_NOT_FOUND" : "_ALREADY_EXISTS"));
                }
            }
        }
        for (SyncKind kind : SyncKind.values()) { // SyncTable: ALREADY_EXISTS names the taken name's kind
            reasons.add(kindReason(kind.words(), "_ALREADY_EXISTS"));
        }
        for (AgentCredentials.Refusal r : AgentCredentials.Refusal.values()) { // AgentServiceAdapter
            reasons.add("AGENT_" + r.name());
        }
        assertTrue(files > 50 && reasons.size() > 60, files + " files, reasons " + reasons);
        List<String> unknown = new ArrayList<>();
        for (String r : reasons) {
            if (ErrorReason.getDescriptor().findValueByName(r) == null) {
                unknown.add(r);
            }
        }
        assertEquals(List.of(), unknown, "reasons missing from forkd.v1.ErrorReason (errors.proto)");
    }

    @Test
    void anInvalidFieldIsFieldInvalidWithThePathInBadRequestAndTheDomainIsDnsStyle() throws Exception {
        var e = ErrorMapper.toStatus(new ForkdException.InvalidArgument("items[0].data", "is too large"));
        var status = StatusProto.fromThrowable(e);
        ErrorInfo info = status.getDetails(0).unpack(ErrorInfo.class);
        assertEquals(ErrorReason.FIELD_INVALID.name(), info.getReason());
        assertEquals("forkd.dev", info.getDomain());
        BadRequest bad = status.getDetails(1).unpack(BadRequest.class);
        assertEquals("items[0].data", bad.getFieldViolations(0).getField());
    }

    private static String kindReason(String kind, String suffix) {
        return kind.toUpperCase().replace(' ', '_') + suffix;
    }
}
