package io.redsync.benchmarks;

import io.lettuce.core.api.StatefulRedisConnection;
import org.HdrHistogram.Histogram;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Small pieces the benchmark programs share: how they were started, formatting, statistics. */
final class BenchSupport {
    private BenchSupport() {
    }

    /** The URI as printed: a password is replaced by {@code ***}, since the output is meant to be shared. */
    static String shown(String uri) {
        return uri.replaceFirst("(?<=://)([^/@]*?):[^/@]*@", "$1:***@");
    }

    /**
     * How this JVM was started: Maven's launcher arguments when run by exec:java (the JVM is Maven's),
     * else the java command line (class path elided).
     */
    static String command() {
        String javaCommand = System.getProperty("sun.java.command", "");
        String launcher = "org.codehaus.plexus.classworlds.launcher.Launcher";
        if (javaCommand.startsWith(launcher)) {
            String mavenOpts = System.getenv("MAVEN_OPTS");
            return (mavenOpts == null || mavenOpts.isBlank() ? "" : "MAVEN_OPTS='" + mavenOpts + "' ")
                    + "mvn" + javaCommand.substring(launcher.length());
        }
        return ProcessHandle.current().info().commandLine()
                .map(line -> line.replaceAll("(-cp|-classpath|--class-path) \\S+", "$1 <classpath>"))
                .orElse("java " + javaCommand);
    }

    /** {@code redis_version} from INFO server. */
    static String redisVersion(StatefulRedisConnection<String, String> c) {
        return c.sync().info("server").lines().filter(l -> l.startsWith("redis_version:"))
                .map(l -> l.substring("redis_version:".length()).trim()).findFirst().orElse("?");
    }

    /** The 1-minute load average of the machine (the nodes and other builds share it); NaN where unknown. */
    static double loadAverage() {
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return load < 0 ? Double.NaN : load;
    }

    static String jdk() {
        return System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                + " (" + System.getProperty("java.vm.vendor") + ")";
    }

    static String os() {
        return System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch");
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int mid = v.length / 2;
        return v.length == 0 ? Double.NaN : v.length % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
    }

    static String f1(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.1f", v);
    }

    static String f2(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "–" : String.format(Locale.ROOT, "%.2f", v);
    }

    static String f0(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.0f", v);
    }

    /** Microseconds at a percentile of a nanosecond histogram; NaN when empty. */
    static double micros(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
    }

    /** A histogram of nanoseconds up to one hour, 3 significant digits. */
    static Histogram histogram() {
        return new Histogram(3_600_000_000_000L, 3);
    }

    /**
     * Bytes allocated so far by every live thread of this JVM (HotSpot's per-thread TLAB accounting), so
     * allocations on Netty/Lettuce/Redisson I/O threads count as well as the caller's. Threads that ended
     * since the previous reading are missed.
     */
    static long allocatedBytesAllThreads() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long[] ids = mx.getAllThreadIds();
        long sum = 0;
        for (long b : mx.getThreadAllocatedBytes(ids)) {
            if (b > 0) {
                sum += b;
            }
        }
        return sum;
    }

    /** A markdown table with aligned columns; column 0..{@code leftColumns-1} left-aligned, the rest right. */
    static String table(List<String[]> rows, int leftColumns) {
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (int r = 0; r < rows.size(); r++) {
            appendRow(out, rows.get(r), widths, r == 0, leftColumns);
            if (r == 0) {
                String[] rule = new String[widths.length];
                for (int i = 0; i < rule.length; i++) {
                    rule[i] = i < leftColumns ? "-".repeat(Math.max(3, widths[i])) : "-".repeat(Math.max(2, widths[i] - 1)) + ":";
                }
                appendRow(out, rule, widths, false, leftColumns);
            }
        }
        return out.toString();
    }

    private static void appendRow(StringBuilder out, String[] row, int[] widths, boolean header, int leftColumns) {
        out.append('|');
        for (int i = 0; i < row.length; i++) {
            boolean left = header || i < leftColumns;
            String pad = " ".repeat(Math.max(0, widths[i] - row[i].length()));
            out.append(' ').append(left ? row[i] + pad : pad + row[i]).append(" |");
        }
        out.append('\n');
    }

    /** Rows builder: {@code rows.add(cells(...))}. */
    static List<String[]> rows(String... header) {
        List<String[]> rows = new ArrayList<>();
        rows.add(header);
        return rows;
    }

    /** Busy-waits {@code nanos} on this thread (a short critical section that keeps the CPU, as real work does). */
    static void busyWait(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }
}
