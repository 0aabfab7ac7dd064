package dev.forkd.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.io.PrintStream;

/** Prints messages in protobuf's JSON mapping, with every field (a 0 exit code is still an answer). */
final class Json {

    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().alwaysPrintFieldsWithNoPresence();

    private Json() {}

    /** {@code text} as a JSON string literal, quoted and escaped. */
    static String string(String text) {
        try {
            return JsonFormat.printer().print(com.google.protobuf.Value.newBuilder().setStringValue(text));
        } catch (InvalidProtocolBufferException e) {
            throw new CliFailure("cannot print as JSON: " + e.getMessage(), ExitCodes.ERROR, e);
        }
    }

    static void print(PrintStream out, MessageOrBuilder message) {
        try {
            out.println(PRINTER.print(message));
        } catch (InvalidProtocolBufferException e) {
            throw new CliFailure("cannot print as JSON: " + e.getMessage(), ExitCodes.ERROR, e);
        }
    }
}
