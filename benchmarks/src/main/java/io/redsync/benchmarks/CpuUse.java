package io.redsync.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * CPU time this JVM's threads used between two moments, by thread group (a thread's name without its trailing
 * number: "lettuce-nioEventLoop-4-1" and "-4-2" are one group), and the Redis nodes' CPU from INFO cpu. Used to
 * say where a crowd's hand-off spends its CPU, per hand-off. Threads that ended in between are not counted.
 */
final class CpuUse {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final Map<Long, Long> byThread = new HashMap<>();
    private final Map<Long, String> names = new HashMap<>();
    private final long allocated = BenchSupport.allocatedBytesAllThreads();
    private final long processNanos;
    private final double redisSeconds;

    private CpuUse(double redisSeconds) {
        for (long id : THREADS.getAllThreadIds()) {
            long cpu = THREADS.getThreadCpuTime(id);
            var info = THREADS.getThreadInfo(id);
            if (cpu >= 0 && info != null) {
                byThread.put(id, cpu);
                names.put(id, info.getThreadName());
            }
        }
        processNanos = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
        this.redisSeconds = redisSeconds;
    }

    /** Now; {@code redisSeconds} is the nodes' used_cpu_sys + used_cpu_user summed, in seconds. */
    static CpuUse now(double redisSeconds) {
        return new CpuUse(redisSeconds);
    }

    /** Whether this JVM can measure threads' CPU time. */
    static boolean supported() {
        return THREADS.isThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled();
    }

    /**
     * What was used from {@code before} to this sample, in µs per {@code events}: "JVM 140 (group 60, group 30, ...,
     * others 5), Redis 25", the four largest groups named, then the heap allocated per event
     * ({@link BenchSupport#allocatedBytesAllThreads}).
     */
    String perEvent(CpuUse before, long events) {
        if (events <= 0) {
            return "no events";
        }
        Map<String, Long> groups = new HashMap<>();
        byThread.forEach((id, cpu) -> {
            long was = before.byThread.getOrDefault(id, 0L);
            if (cpu > was) {
                groups.merge(group(names.get(id)), cpu - was, Long::sum);
            }
        });
        long threadsTotal = groups.values().stream().mapToLong(Long::longValue).sum();
        long jvm = processNanos >= 0 && before.processNanos >= 0 ? processNanos - before.processNanos : threadsTotal;
        var top = groups.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(4).toList();
        long named = top.stream().mapToLong(Map.Entry::getValue).sum();
        String parts = top.stream().map(e -> e.getKey() + " " + micros(e.getValue(), events)).collect(Collectors.joining(", "));
        // The JVM's own (GC, JIT) time is in the process's and in no named thread: it goes to "others".
        long bytes = allocated - before.allocated;
        return "JVM " + micros(jvm, events) + " (" + parts + ", others " + micros(Math.max(0, jvm - named), events) + "), Redis "
                + String.format(Locale.ROOT, "%.0f; allocated %.1f KB per hand-off", (redisSeconds - before.redisSeconds) * 1e6 / events,
                bytes / 1024.0 / events);
    }

    private static String micros(long nanos, long events) {
        return String.format(Locale.ROOT, "%.0f", nanos / 1000.0 / events);
    }

    /** "lettuce-nioEventLoop-4-1" -> "lettuce-nioEventLoop"; "DefaultDispatcher-worker-2" -> "DefaultDispatcher-worker". */
    static String group(String name) {
        return name == null ? "?" : name.replaceAll("([-_ #]?\\d+)+$", "");
    }
}
