package dev.forkd.server.programs;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Programs in an order where each comes after everything it depends on (stop in the reverse). */
final class StartOrder {

    private StartOrder() {}

    /** A dependency cycle through program {@code at}. */
    static final class Cycle extends Exception {
        private final String at;

        Cycle(String at, String path) {
            super(path, null, false, false);
            this.at = at;
        }

        String at() {
            return at;
        }
    }

    static List<String> of(Map<String, Program> programs) throws Cycle {
        List<String> order = new ArrayList<>();
        Map<String, Integer> mark = new HashMap<>(); // 1: on the path, 2: placed
        for (String name : programs.keySet()) {
            visit(name, programs, mark, order, new ArrayList<>());
        }
        return order;
    }

    private static void visit(String name, Map<String, Program> programs, Map<String, Integer> mark,
            List<String> order, List<String> path) throws Cycle {
        Integer m = mark.get(name);
        if (m != null && m == 2) {
            return;
        }
        path.add(name);
        if (m != null) {
            throw new Cycle(name, String.join(" -> ", path.subList(path.indexOf(name), path.size())));
        }
        mark.put(name, 1);
        Program p = programs.get(name);
        if (p != null) {
            for (String dep : p.dependsOn()) {
                visit(dep, programs, mark, order, path);
            }
        }
        mark.put(name, 2);
        path.remove(path.size() - 1);
        order.add(name);
    }
}
