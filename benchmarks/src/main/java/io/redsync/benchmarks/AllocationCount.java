package io.redsync.benchmarks;

import io.redsync.Mutex;
import io.redsync.Redsync;
import io.redsync.testkit.RedisNodes;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Exactly what one uncontended lock+unlock allocates, per class: a class histogram before and after N cycles on
 * Epsilon GC (which never collects, so the heap holds every object allocated) with TLABs off (so sizes are the
 * objects' own). The suite's "B/op" counts every thread's allocation while the workload runs, timer ticks and
 * idle I/O threads included, so it moves with the time an operation takes; this does not, which makes it the
 * figure to compare two versions of the engine with. It runs the blocking API on 1 and 3 nodes started by the
 * testkit.
 *
 * <pre>
 * mvn -q -pl benchmarks -am test-compile exec:exec -Dexec.executable=java \
 *   -Dexec.args="-XX:+UnlockExperimentalVMOptions -XX:+UseEpsilonGC -XX:-UseTLAB -Xms4g -Xmx4g -cp %classpath io.redsync.benchmarks.AllocationCount"
 * </pre>
 *
 * {@code -Dalloc.cycles=N} (default 20,000) inside {@code exec.args} sets the measured cycles; {@code -Dalloc.top=K}
 * how many classes are listed (default 30).
 */
public final class AllocationCount {
    private static final Pattern ROW = Pattern.compile("\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+).*");

    private AllocationCount() {
    }

    public static void main(String[] args) throws Exception {
        boolean epsilon = ManagementFactory.getGarbageCollectorMXBeans().stream().anyMatch(gc -> gc.getName().startsWith("Epsilon"));
        if (!epsilon) {
            System.err.println("AllocationCount needs -XX:+UnlockExperimentalVMOptions -XX:+UseEpsilonGC -XX:-UseTLAB"
                    + " (see its Javadoc for the command): with a collecting GC the histogram shows live objects only");
            System.exit(2);
        }
        int cycles = Integer.getInteger("alloc.cycles", 20_000);
        int top = Integer.getInteger("alloc.top", 30);
        try (RedisNodes nodes = RedisNodes.start(3)) {
            for (int count : new int[] {1, 3}) {
                measure(nodes.uris().subList(0, count), cycles, top);
            }
        }
    }

    private static void measure(List<String> uris, int cycles, int top) throws Exception {
        try (Redsync redsync = Redsync.builder().uris(uris).build()) {
            Mutex mutex = redsync.mutex("allocation-count-" + uris.size());
            for (int i = 0; i < 2_000; i++) {
                mutex.lock().close();
            }
            Map<String, long[]> before = histogram();
            for (int i = 0; i < cycles; i++) {
                mutex.lock().close();
            }
            Map<String, long[]> after = histogram();
            List<Map.Entry<String, long[]>> grown = new ArrayList<>();
            long total = 0;
            for (Map.Entry<String, long[]> e : after.entrySet()) {
                long[] was = before.getOrDefault(e.getKey(), new long[2]);
                long[] delta = {e.getValue()[0] - was[0], e.getValue()[1] - was[1]};
                if (delta[1] > 0) {
                    grown.add(Map.entry(e.getKey(), delta));
                    total += delta[1];
                }
            }
            grown.sort((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]));
            System.out.printf(Locale.ROOT, "%d node(s), %,d uncontended lock+unlock (blocking): %,.0f B per cycle in all%n",
                    uris.size(), cycles, (double) total / cycles);
            for (Map.Entry<String, long[]> e : grown.subList(0, Math.min(top, grown.size()))) {
                System.out.printf(Locale.ROOT, "  %8.1f B  %6.2f objects  %s%n", (double) e.getValue()[1] / cycles,
                        (double) e.getValue()[0] / cycles, e.getKey());
            }
        }
    }

    /** Class name to {instances, bytes}, from the DiagnosticCommand MBean (as {@code jcmd GC.class_histogram}). */
    private static Map<String, long[]> histogram() throws Exception {
        String text = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        Map<String, long[]> rows = new HashMap<>();
        for (String line : text.split("\n")) {
            Matcher m = ROW.matcher(line);
            if (m.matches()) {
                rows.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
            }
        }
        return rows;
    }
}
