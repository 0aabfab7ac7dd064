package dev.forkd.server.fuzz;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.DynamicMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * For every method with a Duration field (at the top or one message down), requests that reach a
 * real object and differ from a plain valid call only in that duration: the largest valid Duration,
 * exactly 2^63 ns, and 2^63 - 1 ns. Random messages rarely get both right at once.
 */
final class ExtremeDurations {

    record Planned(MethodDescriptor method, DynamicMessage request) {}

    private static final long[][] EXTREMES = {{315_576_000_000L, 999_999_999}, {9_223_372_036L, 854_775_808},
            {9_223_372_036L, 854_775_807}};

    private ExtremeDurations() {}

    /**
     * @param names the resource each method should reach, by "Service/Method" or "Service/*", and
     *     for fields by "Service/Method.field"; "argv" for program fields
     */
    static List<Planned> plan(List<MethodDescriptor> methods, Map<String, String> names) {
        List<Planned> out = new ArrayList<>();
        for (MethodDescriptor m : methods) {
            Descriptor in = m.getInputType();
            for (FieldDescriptor f : in.getFields()) {
                if (f.isRepeated() || f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                    continue;
                }
                if (isDuration(f)) {
                    for (long[] d : EXTREMES) {
                        DynamicMessage.Builder b = base(m, in, names);
                        b.setField(f, duration(f.getMessageType(), d));
                        out.add(new Planned(m, b.build()));
                    }
                } else {
                    for (FieldDescriptor g : f.getMessageType().getFields()) {
                        if (!g.isRepeated() && isDuration(g)) {
                            for (long[] d : EXTREMES) {
                                DynamicMessage.Builder b = base(m, in, names);
                                DynamicMessage.Builder inner = DynamicMessage.newBuilder(f.getMessageType());
                                inner.setField(g, duration(g.getMessageType(), d));
                                b.setField(f, inner.build());
                                out.add(new Planned(m, b.build()));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    private static boolean isDuration(FieldDescriptor f) {
        return f.getJavaType() == FieldDescriptor.JavaType.MESSAGE
                && f.getMessageType().getFullName().equals("google.protobuf.Duration");
    }

    private static DynamicMessage duration(Descriptor type, long[] d) {
        return DynamicMessage.newBuilder(type).setField(type.findFieldByName("seconds"), d[0])
                .setField(type.findFieldByName("nanos"), (int) d[1]).build();
    }

    /** A plain valid request: the name fields filled with the object this method should reach. */
    private static DynamicMessage.Builder base(MethodDescriptor m, Descriptor in, Map<String, String> names) {
        DynamicMessage.Builder b = DynamicMessage.newBuilder(in);
        String key = m.getService().getName() + "/" + m.getName();
        for (FieldDescriptor f : in.getFields()) {
            String name = names.getOrDefault(key + "." + f.getName(), null);
            if (name == null && f.getJavaType() == FieldDescriptor.JavaType.STRING && !f.isRepeated()
                    && List.of("name", "queue", "end", "id", "pool_id", "pipe").contains(f.getName())) {
                name = names.getOrDefault(key, names.get(m.getService().getName() + "/*"));
            }
            if (name != null) {
                b.setField(f, name);
            }
            if (f.getName().equals("worker") && f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                // a per-task worker running `true {}`: the smallest pool that passes validation
                Descriptor w = f.getMessageType();
                FieldDescriptor kind = w.findFieldByName("kind");
                b.setField(f, DynamicMessage.newBuilder(w)
                        .setField(kind, kind.getEnumType().findValueByName("WORKER_KIND_PER_TASK"))
                        .addRepeatedField(w.findFieldByName("argv"), "true")
                        .addRepeatedField(w.findFieldByName("argv"), "{}").build());
            }
            if (f.getName().equals("argv") && f.isRepeated()) {
                for (String a : names.get("argv").split(" ")) {
                    b.addRepeatedField(f, a);
                }
            }
        }
        return b;
    }

}
