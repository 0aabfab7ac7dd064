package dev.forkd.cli;

import com.google.protobuf.ByteString;
import dev.forkd.v1.Scalar;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/** Typed values as a user types and reads them on a command line. */
final class Scalars {

    private static final Pattern INTEGER = Pattern.compile("[-+]?\\d+");
    private static final Pattern DECIMAL = Pattern.compile("[-+]?(\\d+\\.\\d*|\\.\\d+|\\d+)([eE][-+]?\\d+)?");

    /** The types {@code --type} accepts. */
    enum Type { AUTO, INT64, DOUBLE, BOOL, STRING, BYTES }

    private Scalars() {}

    /**
     * Reads {@code text} as {@code type}. AUTO: an integer is int64, a decimal number double,
     * true/false bool, anything else a string.
     */
    static Scalar parse(String text, Type type) {
        Scalar.Builder b = Scalar.newBuilder();
        try {
            return switch (type) {
                case AUTO -> {
                    if (INTEGER.matcher(text).matches()) {
                        try {
                            yield b.setInt64Value(Long.parseLong(text)).build();
                        } catch (NumberFormatException e) {
                            yield b.setStringValue(text).build();
                        }
                    }
                    if (DECIMAL.matcher(text).matches()) {
                        yield b.setDoubleValue(Double.parseDouble(text)).build();
                    }
                    if (text.equals("true") || text.equals("false")) {
                        yield b.setBoolValue(Boolean.parseBoolean(text)).build();
                    }
                    yield b.setStringValue(text).build();
                }
                case INT64 -> b.setInt64Value(Long.parseLong(text)).build();
                case DOUBLE -> b.setDoubleValue(Double.parseDouble(text)).build();
                case BOOL -> switch (text.toLowerCase(Locale.ROOT)) {
                    case "true", "1", "yes" -> b.setBoolValue(true).build();
                    case "false", "0", "no" -> b.setBoolValue(false).build();
                    default -> throw new NumberFormatException();
                };
                case STRING -> b.setStringValue(text).build();
                case BYTES -> b.setBytesValue(ByteString.copyFrom(HexFormat.of().parseHex(text))).build();
            };
        } catch (IllegalArgumentException e) {
            throw new CliFailure("\"" + text + "\" is not " + switch (type) {
                case INT64 -> "an int64";
                case DOUBLE -> "a double";
                case BOOL -> "a bool (true or false)";
                case BYTES -> "hex bytes";
                default -> "a value";
            }, ExitCodes.USAGE, e);
        }
    }

    /** How a value prints: numbers and bools plainly, strings as they are, bytes in hex. */
    static String format(Scalar s) {
        return switch (s.getKindCase()) {
            case INT64_VALUE -> Long.toString(s.getInt64Value());
            case DOUBLE_VALUE -> Double.toString(s.getDoubleValue());
            case BOOL_VALUE -> Boolean.toString(s.getBoolValue());
            case STRING_VALUE -> s.getStringValue();
            case BYTES_VALUE -> HexFormat.of().formatHex(s.getBytesValue().toByteArray());
            case KIND_NOT_SET -> "";
        };
    }
}
