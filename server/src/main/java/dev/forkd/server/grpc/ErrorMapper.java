package dev.forkd.server.grpc;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import dev.forkd.server.error.ForkdException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * The one place domain errors become gRPC statuses (AIP-193): a code, the message, an ErrorInfo
 * with an UPPER_SNAKE reason, and a BadRequest field violation for invalid arguments. Anything
 * unexpected becomes INTERNAL with its message — never UNKNOWN.
 *
 * <p>Every text that goes out is bounded here, whatever the request held: an error travels in
 * trailers, and a client refuses trailers over 8 KiB (default), failing the call and, while such
 * errors flow, others on the same channel. A word (a name, an id) longer than {@link #MAX_WORD}
 * characters is cut with an ellipsis, a message at {@link #MAX_MESSAGE}, a metadata value or a field
 * violation at {@link #MAX_WORD}; so a whole error stays under about 4 KiB.
 */
public final class ErrorMapper {

    private static final Logger LOG = Logger.getLogger(ErrorMapper.class.getName());
    /** ErrorInfo.domain: DNS-style, as AIP-193 asks. */
    static final String DOMAIN = "forkd.dev";
    /** The longest word (a name echoed from the request) and the longest metadata value. */
    static final int MAX_WORD = 100;
    /** The longest message. */
    static final int MAX_MESSAGE = 1000;
    /** The most metadata entries. */
    private static final int MAX_METADATA = 8;
    private static final Pattern LONG_WORD = Pattern.compile("\\S{" + (MAX_WORD + 1) + ",}");

    private ErrorMapper() {}

    public static StatusRuntimeException toStatus(Throwable t) {
        if (t instanceof StatusRuntimeException s) {
            return bounded(s);
        }
        if (t instanceof ForkdException f) {
            return toStatus(f);
        }
        LOG.log(Level.WARNING, "internal error", t);
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(Code.INTERNAL_VALUE)
                .setMessage(message("internal error: " + t))
                .addDetails(Any.pack(ErrorInfo.newBuilder().setDomain(DOMAIN).setReason("INTERNAL").build()))
                .build());
    }

    public static StatusRuntimeException toStatus(ForkdException f) {
        Code code = switch (f) {
            case ForkdException.InvalidArgument i -> Code.INVALID_ARGUMENT;
            case ForkdException.NotFound n -> Code.NOT_FOUND;
            case ForkdException.AlreadyExists a -> Code.ALREADY_EXISTS;
            case ForkdException.FailedPrecondition p -> Code.FAILED_PRECONDITION;
            case ForkdException.ResourceExhausted r -> Code.RESOURCE_EXHAUSTED;
            case ForkdException.Unavailable u -> Code.UNAVAILABLE;
            case ForkdException.Unauthenticated u -> Code.UNAUTHENTICATED;
            case ForkdException.PermissionDenied d -> Code.PERMISSION_DENIED;
        };
        com.google.rpc.Status.Builder status = com.google.rpc.Status.newBuilder()
                .setCode(code.getNumber())
                .setMessage(message(f.getMessage()))
                .addDetails(Any.pack(ErrorInfo.newBuilder()
                        .setDomain(DOMAIN)
                        .setReason(reason(f))
                        .putAllMetadata(metadata(f.metadata()))
                        .build()));
        if (f instanceof ForkdException.InvalidArgument i) {
            status.addDetails(Any.pack(BadRequest.newBuilder()
                    .addFieldViolations(BadRequest.FieldViolation.newBuilder()
                            .setField(cut(i.field(), MAX_WORD))
                            .setDescription(message(i.rule())))
                    .build()));
        }
        return StatusProto.toStatusRuntimeException(status.build());
    }

    /**
     * The reason, which must be a forkd.v1.ErrorReason value's name: clients branch on that closed
     * list. A reason outside it is a server bug (ErrorReasonsTest looks for them); it still goes out,
     * since a wrong reason is better than a hidden one, but it is logged.
     */
    private static String reason(ForkdException f) {
        String reason = f.reason();
        if (dev.forkd.v1.ErrorReason.getDescriptor().findValueByName(reason) == null) {
            LOG.warning(() -> "error reason " + cut(reason, MAX_WORD) + " is not in forkd.v1.ErrorReason");
        }
        return cut(reason, MAX_WORD);
    }

    /** A status made elsewhere (an interceptor's, a library's), with its description bounded. */
    private static StatusRuntimeException bounded(StatusRuntimeException s) {
        String d = s.getStatus().getDescription();
        if (d == null || d.equals(message(d))) {
            return s;
        }
        Status status = s.getStatus().withDescription(message(d));
        // Details, if any, were built by this class and are bounded already.
        return s.getTrailers() == null ? status.asRuntimeException() : status.asRuntimeException(s.getTrailers());
    }

    /** {@code text} with every overlong word cut with an ellipsis, and at most {@link #MAX_MESSAGE} long. */
    static String message(String text) {
        if (text == null) {
            return "";
        }
        String words = LONG_WORD.matcher(text).replaceAll(m -> java.util.regex.Matcher.quoteReplacement(
                cutWord(m.group())));
        return cut(words, MAX_MESSAGE);
    }

    /** A long word cut with an ellipsis, keeping the quote or punctuation that closed it. */
    private static String cutWord(String word) {
        int end = word.length();
        while (end > word.length() - 3 && "\"')]},.;:".indexOf(word.charAt(end - 1)) >= 0) {
            end--;
        }
        return cut(word.substring(0, end), MAX_WORD) + word.substring(end);
    }

    private static Map<String, String> metadata(Map<String, String> in) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : in.entrySet()) {
            if (out.size() == MAX_METADATA) {
                break;
            }
            out.put(cut(e.getKey(), MAX_WORD), cut(e.getValue(), MAX_WORD));
        }
        return out;
    }

    /** The first {@code max} characters and an ellipsis, if longer (never splitting a surrogate pair). */
    static String cut(String s, int max) {
        if (s.length() <= max) {
            return s;
        }
        int end = Character.isHighSurrogate(s.charAt(max - 1)) ? max - 1 : max;
        return s.substring(0, end) + "…";
    }
}
