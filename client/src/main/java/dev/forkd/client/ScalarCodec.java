package dev.forkd.client;

import com.google.protobuf.ByteString;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.ScalarType;
import java.util.function.Function;

/**
 * The element types of shared lists and arrays, as Python's {@code Value} and {@code Array} type codes
 * are: a 64-bit integer, a double, a boolean, text or bytes. A list read with the wrong codec fails
 * with {@link IllegalStateException} naming the type found.
 */
public final class ScalarCodec<T> {

    public static final ScalarCodec<Long> INT64 = new ScalarCodec<>("int64", ScalarType.SCALAR_TYPE_INT64,
            v -> Scalar.newBuilder().setInt64Value(v).build(), Scalar.KindCase.INT64_VALUE, Scalar::getInt64Value);
    public static final ScalarCodec<Double> DOUBLE = new ScalarCodec<>("double", ScalarType.SCALAR_TYPE_DOUBLE,
            v -> Scalar.newBuilder().setDoubleValue(v).build(), Scalar.KindCase.DOUBLE_VALUE, Scalar::getDoubleValue);
    public static final ScalarCodec<Boolean> BOOL = new ScalarCodec<>("bool", ScalarType.SCALAR_TYPE_BOOL,
            v -> Scalar.newBuilder().setBoolValue(v).build(), Scalar.KindCase.BOOL_VALUE, Scalar::getBoolValue);
    public static final ScalarCodec<String> STRING = new ScalarCodec<>("string", ScalarType.SCALAR_TYPE_STRING,
            v -> Scalar.newBuilder().setStringValue(v).build(), Scalar.KindCase.STRING_VALUE, Scalar::getStringValue);
    public static final ScalarCodec<byte[]> BYTES = new ScalarCodec<>("bytes", ScalarType.SCALAR_TYPE_BYTES,
            v -> Scalar.newBuilder().setBytesValue(ByteString.copyFrom(v)).build(), Scalar.KindCase.BYTES_VALUE,
            s -> s.getBytesValue().toByteArray());

    private final String name;
    private final ScalarType type;
    private final Function<T, Scalar> encode;
    private final Scalar.KindCase kind;
    private final Function<Scalar, T> decode;

    private ScalarCodec(String name, ScalarType type, Function<T, Scalar> encode, Scalar.KindCase kind,
            Function<Scalar, T> decode) {
        this.name = name;
        this.type = type;
        this.encode = encode;
        this.kind = kind;
        this.decode = decode;
    }

    ScalarType type() {
        return type;
    }

    Scalar encode(T value) {
        return encode.apply(java.util.Objects.requireNonNull(value));
    }

    T decode(Scalar s) {
        if (s.getKindCase() != kind) {
            throw new IllegalStateException("expected a " + name + " but the server holds a "
                    + s.getKindCase().name().toLowerCase(java.util.Locale.ROOT).replace("_value", ""));
        }
        return decode.apply(s);
    }

    @Override
    public String toString() {
        return name;
    }
}
