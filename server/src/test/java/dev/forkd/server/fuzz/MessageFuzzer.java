package dev.forkd.server.fuzz;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import java.util.List;
import java.util.Random;

/**
 * Random and extreme messages built from a message descriptor alone: min/max integers, negatives,
 * the largest valid Duration and 2^63 ns, huge and NUL-filled strings, unknown enum numbers, empty
 * and giant repeated fields, nested messages. Program fields (argv, initializer) are kept to
 * harmless programs so a fuzzed Spawn runs {@code true}, never something that matters.
 */
final class MessageFuzzer {

    private static final int MAX_DEPTH = 4;
    private static final List<String> SAFE_PROGRAMS = List.of("true", "/bin/true", "sleep", "/nonexistent/fuzz", "");

    /** Fields that name a resource: often given a name that exists, so the call reaches it. */
    private static final java.util.Set<String> NAME_FIELDS =
            java.util.Set.of("name", "queue", "end", "id", "pool_id", "lock", "pipe", "task_id", "key");

    private final Random random;
    private final List<String> knownNames;

    /** @param knownNames names and ids of resources that exist, so calls reach real objects too */
    MessageFuzzer(Random random, List<String> knownNames) {
        this.random = random;
        this.knownNames = knownNames;
    }

    // Half the messages set few fields, so one extreme value in an otherwise valid request gets
    // past validation (a Spawn of `true` whose only oddity is its timeout); half set most fields.
    private boolean sparse;

    DynamicMessage message(Descriptor type) {
        sparse = random.nextBoolean();
        return message(type, 0, false);
    }

    private DynamicMessage message(Descriptor type, int depth, boolean small) {
        DynamicMessage.Builder b = DynamicMessage.newBuilder(type);
        if (type.getFullName().equals("google.protobuf.Duration")) {
            long[] d = duration();
            return b.setField(type.findFieldByName("seconds"), d[0]).setField(type.findFieldByName("nanos"), (int) d[1]).build();
        }
        if (type.getFullName().equals("google.protobuf.Timestamp")) {
            return b.setField(type.findFieldByName("seconds"), anyLong()).setField(type.findFieldByName("nanos"), anyInt()).build();
        }
        for (FieldDescriptor f : type.getFields()) {
            if (random.nextInt(100) < (sparse ? 80 : 40) && !mustSet(f)) {
                continue; // unset: the default
            }
            if (f.isRepeated()) {
                int n = count(f, small);
                for (int i = 0; i < n; i++) {
                    b.addRepeatedField(f, value(f, depth, small || n > 100, i));
                }
            } else {
                b.setField(f, value(f, depth, small, 0));
            }
        }
        return b.build();
    }

    private boolean mustSet(FieldDescriptor f) {
        return f.getFullName().equals("forkd.v1.SpawnRequest.argv");
    }

    private int count(FieldDescriptor f, boolean small) {
        int cap = f.getFullName().equals("forkd.v1.MapRequest.items") ? 20 : 2_000;
        int r = random.nextInt(100);
        int n = r < 35 ? 0 : r < 85 ? 1 + random.nextInt(3) : r < 96 ? 10 + random.nextInt(90) : cap;
        if (mustSet(f)) {
            n = Math.max(1, Math.min(n, 5));
        }
        return small ? Math.min(n, 3) : Math.min(n, cap);
    }

    private Object value(FieldDescriptor f, int depth, boolean small, int index) {
        String name = f.getFullName();
        if ((name.equals("forkd.v1.SpawnRequest.argv") || name.equals("forkd.v1.WorkerSpec.argv")
                || name.equals("forkd.v1.CreatePoolRequest.initializer")) && index == 0) {
            return SAFE_PROGRAMS.get(random.nextInt(SAFE_PROGRAMS.size()));
        }
        if (name.equals("forkd.v1.CreatePoolRequest.processes")) {
            int[] choices = {1, 2, 0, -1, 1025, Integer.MAX_VALUE, Integer.MIN_VALUE};
            return choices[random.nextInt(choices.length)];
        }
        return switch (f.getJavaType()) {
            case INT -> anyInt();
            case LONG -> anyLong();
            case FLOAT -> (float) anyDouble();
            case DOUBLE -> anyDouble();
            case BOOLEAN -> random.nextBoolean();
            case STRING -> NAME_FIELDS.contains(f.getName()) && !knownNames.isEmpty() && random.nextInt(100) < 45
                    ? knownNames.get(random.nextInt(knownNames.size())) : string(small);
            case BYTE_STRING -> bytes(small);
            case ENUM -> enumValue(f.getEnumType());
            case MESSAGE -> depth >= MAX_DEPTH ? DynamicMessage.getDefaultInstance(f.getMessageType())
                    : message(f.getMessageType(), depth + 1, small);
        };
    }

    /** {seconds, nanos}: mostly short, often extreme, sometimes invalid. */
    long[] duration() {
        int r = random.nextInt(100);
        if (r < 30) {
            return new long[] {0, random.nextInt(50_000_000)};
        } else if (r < 40) {
            return new long[] {0, 0};
        } else if (r < 50) {
            return new long[] {-1 - random.nextInt(1000), 0};
        } else if (r < 62) {
            return new long[] {315_576_000_000L, 999_999_999}; // the largest valid Duration
        } else if (r < 74) {
            return new long[] {9_223_372_036L, 854_775_808}; // exactly 2^63 ns
        } else if (r < 80) {
            return new long[] {9_223_372_036L, 854_775_807}; // 2^63 - 1 ns
        } else if (r < 86) {
            long[][] invalid = {{Long.MAX_VALUE, 0}, {Long.MIN_VALUE, 0}, {1, -1}, {0, 1_000_000_000}, {-1, 1}};
            return invalid[random.nextInt(invalid.length)];
        } else {
            return new long[] {0, random.nextInt(500_000_000)};
        }
    }

    private int anyInt() {
        int[] extremes = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE - 1, 1 << 20};
        int r = random.nextInt(10);
        return r < 4 ? extremes[random.nextInt(extremes.length)] : r < 8 ? random.nextInt(10) : random.nextInt();
    }

    private long anyLong() {
        long[] extremes = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, Integer.MAX_VALUE, Integer.MIN_VALUE,
                (long) Integer.MAX_VALUE + 1, Long.MAX_VALUE - 1};
        int r = random.nextInt(10);
        return r < 4 ? extremes[random.nextInt(extremes.length)] : r < 8 ? random.nextInt(10) : random.nextLong();
    }

    private double anyDouble() {
        double[] extremes = {0, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
                Double.MAX_VALUE, Double.MIN_VALUE, -Double.MAX_VALUE, 1e308, 0.5};
        return random.nextBoolean() ? extremes[random.nextInt(extremes.length)] : random.nextGaussian() * 1e6;
    }

    String string(boolean small) {
        int r = random.nextInt(100);
        if (r < 30 && !knownNames.isEmpty()) {
            return knownNames.get(random.nextInt(knownNames.size()));
        } else if (r < 42) {
            return "";
        } else if (r < 62) {
            return randomAscii(1 + random.nextInt(12));
        } else if (r < 70) {
            return "\0".repeat(1 + random.nextInt(small ? 8 : 300));
        } else if (r < 80 && !small) {
            return "x".repeat(4_000 + random.nextInt(70_000));
        } else if (r < 82 && !small) {
            return "y".repeat((1 << 20) + random.nextInt(2));
        } else if (r < 90) {
            String[] odd = {"-1", "9223372036854775808", "../../etc/passwd", "é€😀", "\u202e\u0007\n\r\t",
                    "KILL", "STOP", "SIGCONT", "HUP", "99", "0", "a b", "{}", "{#}", "%s%n", "a\0b"};
            return odd[random.nextInt(odd.length)];
        }
        return randomAscii(1 + random.nextInt(40));
    }

    private String randomAscii(int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append((char) (0x20 + random.nextInt(0x5f)));
        }
        return sb.toString();
    }

    private ByteString bytes(boolean small) {
        int r = random.nextInt(100);
        int n = r < 30 ? 0 : r < 80 || small ? random.nextInt(64) : r < 92 ? 65_536 : r < 96 ? (1 << 20) : (1 << 20) + 1;
        byte[] b = new byte[n];
        if (random.nextBoolean()) {
            random.nextBytes(b);
        }
        return ByteString.copyFrom(b);
    }

    private Object enumValue(EnumDescriptor e) {
        int r = random.nextInt(10);
        if (r < 7) {
            return e.getValues().get(random.nextInt(e.getValues().size()));
        }
        int[] unknown = {e.getValues().size() + random.nextInt(5), -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 1000};
        return e.findValueByNumberCreatingIfUnknown(unknown[random.nextInt(unknown.length)]);
    }

    /** Bytes that are not a valid message of {@code type}: random, truncated, overlong varints, bad UTF-8. */
    byte[] garbage(Descriptor type) {
        for (int attempt = 0; attempt < 50; attempt++) {
            byte[] g = garbageCandidate(type);
            try {
                DynamicMessage.parseFrom(type, g);
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                return g; // the server can't parse it either
            }
        }
        return new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF}; // a truncated varint tag
    }

    private byte[] garbageCandidate(Descriptor type) {
        switch (random.nextInt(5)) {
            case 0 -> {
                byte[] b = new byte[1 + random.nextInt(random.nextBoolean() ? 16 : 4096)];
                random.nextBytes(b);
                return b;
            }
            case 1 -> {
                byte[] valid = message(type, 0, true).toByteArray();
                if (valid.length < 2) {
                    return new byte[] {0x0a, 0x7f}; // field 1, length 127, no bytes
                }
                return java.util.Arrays.copyOf(valid, 1 + random.nextInt(valid.length - 1));
            }
            case 2 -> {
                byte[] b = new byte[12];
                b[0] = 0x10; // field 2, varint
                java.util.Arrays.fill(b, 1, 12, (byte) 0xFF); // an 11-byte varint
                return b;
            }
            case 3 -> {
                // a string field of invalid UTF-8 (proto3 strings must be valid)
                for (FieldDescriptor f : type.getFields()) {
                    if (f.getType() == FieldDescriptor.Type.STRING) {
                        int tag = (f.getNumber() << 3) | 2;
                        return new byte[] {(byte) tag, 3, (byte) 0xC3, (byte) 0x28, (byte) 0xFF};
                    }
                }
                return new byte[] {0x0a, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F};
            }
            default -> {
                // a length-delimited field claiming 2 GB, and a group end tag without a start
                return random.nextBoolean()
                        ? new byte[] {0x0a, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07}
                        : new byte[] {0x0c};
            }
        }
    }
}
