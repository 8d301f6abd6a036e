package io.redsync.benchmarks;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.redsync.Lease;
import io.redsync.Redsync;
import io.redsync.RedsyncException;
import io.redsync.testkit.RedisNodes;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

/**
 * Uncontended lock+unlock latency: one caller thread, sequential, for 1 and 3 nodes, comparing redsync
 * (blocking and async API) with the floor, plain Lettuce doing the least Redis work a Redlock needs.
 *
 * <p>Run from the repository root: {@code mvn -q -pl benchmarks -am compile exec:java}, with
 * {@code -Dbench.iterations=20000 -Dbench.rounds=2 -Dbench.warmup=20000 -Dbench.block=1000} (the defaults) or
 * {@code -Dbench.quick=true}.
 * Nodes: {@code REDSYNC_NODES} (comma-separated {@code redis://} URIs, at least 3; the first serves the
 * 1-node case), else 3 fresh {@code redis-server} processes from the testkit.
 *
 * <p>Exits 1 when a contender failed a cycle or left keys behind, as both make its timings meaningless.
 */
public final class UncontendedLatency {
    /** Uncontended by construction (one thread, sequential), so every contender may reuse one name. */
    private static final String LOCK_NAME = "bench:uncontended";
    private static final String[] KEYS = {LOCK_NAME};
    private static final String COMPARE_AND_DELETE =
            "if redis.call('get',KEYS[1]) == ARGV[1] then return redis.call('del',KEYS[1]) else return 0 end";
    /** redsync's default expiry, so both sides ask Redis for the same TTL. */
    private static final SetArgs SET_NX_PX = SetArgs.Builder.nx().px(8000);
    /** One shared generator, as redsync's default value generator has, so the floor pays the same. */
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String FLOOR = "floor (Lettuce)";
    private static final int[] NODE_COUNTS = {1, 3};

    private UncontendedLatency() {
    }

    public static void main(String[] args) throws Exception {
        Settings settings = Settings.fromSystemProperties();
        long began = System.nanoTime();
        String env = System.getenv("REDSYNC_NODES");
        boolean problems;
        // Closed in reverse: our client, then the nodes it talks to. A null resource is skipped.
        try (RedisNodes started = env == null ? RedisNodes.start(3) : null;
             RedisClient client = RedisClient.create()) {
            List<String> uris = env == null ? started.uris() : parseNodes(env);
            List<StatefulRedisConnection<String, String>> connections = new ArrayList<>();
            for (String uri : uris) {
                // The codec redsync's nodes use, so both sides encode alike.
                connections.add(client.connect(StringCodec.UTF8, RedisURI.create(uri)));
            }
            Bench bench = new Bench(settings, uris, connections);
            bench.printEnvironment(env == null ? "3 redis-server processes started by redsync-testkit" : "REDSYNC_NODES");
            for (int n : NODE_COUNTS) {
                bench.run(n);
            }
            String table = bench.table();
            System.out.println();
            System.out.println(table);
            Path out = Bench.writeMarkdown(bench.environment, table);
            System.out.println("markdown: " + out);
            problems = bench.problems();
        }
        System.out.printf(Locale.ROOT, "total time: %.1f s%n", (System.nanoTime() - began) / 1e9);
        if (problems) {
            System.out.println("FAILED: a contender failed cycles or left keys on a node (see WARNING lines); the numbers are not comparable");
            // After every resource above is closed; exec:java and plain java both report the status.
            System.exit(1);
        }
    }

    private static List<String> parseNodes(String env) {
        List<String> uris = Arrays.stream(env.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        if (uris.size() < 3) {
            throw new IllegalArgumentException("REDSYNC_NODES must list at least 3 comma-separated redis:// URIs, was '" + env + "'");
        }
        // The 3-node case uses no more than three.
        return uris.subList(0, 3);
    }

    /** The URI as printed: a password is replaced by {@code ***}, since the output is meant to be shared. */
    static String shown(String uri) {
        return BenchSupport.shown(uri);
    }

    /** Options from system properties; quick mode only changes the defaults, explicit values win. */
    record Settings(int iterations, int rounds, int warmup, int block, boolean quick) {
        static Settings fromSystemProperties() {
            boolean quick = Boolean.getBoolean("bench.quick");
            Settings s = new Settings(Integer.getInteger("bench.iterations", quick ? 3_000 : 20_000),
                    Integer.getInteger("bench.rounds", 2),
                    Integer.getInteger("bench.warmup", quick ? 1_000 : 20_000),
                    Integer.getInteger("bench.block", quick ? 500 : 1_000), quick);
            if (s.iterations < 1 || s.rounds < 1 || s.warmup < 0 || s.block < 1) {
                throw new IllegalArgumentException("need bench.iterations >= 1, bench.rounds >= 1, bench.warmup >= 0, bench.block >= 1, was " + s);
            }
            return s;
        }
    }

    /** One lock+unlock cycle; returns false when Redis did not answer as an uncontended lock must. */
    interface Contender {
        String name();

        boolean cycle() throws Exception;
    }

    /**
     * The floor: SET NX PX on every node in parallel, await all, then compare-and-delete by EVALSHA on
     * every node in parallel, await all. With one node this is simply sequential.
     */
    record Floor(List<RedisAsyncCommands<String, String>> nodes, String sha) implements Contender {
        @Override
        public String name() {
            return FLOOR;
        }

        @Override
        public boolean cycle() throws Exception {
            String value = newValue();
            int n = nodes.size();
            RedisFuture<?>[] replies = new RedisFuture<?>[n];
            for (int i = 0; i < n; i++) {
                replies[i] = nodes.get(i).set(LOCK_NAME, value, SET_NX_PX);
            }
            boolean ok = true;
            for (RedisFuture<?> reply : replies) {
                ok &= "OK".equals(reply.get());
            }
            for (int i = 0; i < n; i++) {
                replies[i] = nodes.get(i).evalsha(sha, ScriptOutputType.INTEGER, KEYS, value);
            }
            for (RedisFuture<?> reply : replies) {
                ok &= Long.valueOf(1).equals(reply.get());
            }
            return ok;
        }

        private static String newValue() {
            byte[] bytes = new byte[16];
            RANDOM.nextBytes(bytes);
            return Base64.getEncoder().encodeToString(bytes);
        }
    }

    record Blocking(Redsync redsync) implements Contender {
        @Override
        public String name() {
            return "redsync blocking";
        }

        @Override
        public boolean cycle() throws InterruptedException {
            try {
                Lease lease = redsync.mutex(LOCK_NAME).lock();
                lease.release();
                return true;
            } catch (RedsyncException e) {
                return false;
            }
        }
    }

    record Async(Redsync redsync) implements Contender {
        @Override
        public String name() {
            return "redsync async";
        }

        @Override
        public boolean cycle() throws InterruptedException {
            try {
                Lease lease = redsync.mutex(LOCK_NAME).lockAsync().get();
                lease.releaseAsync().get();
                return true;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RedsyncException) {
                    return false;
                }
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            }
        }
    }

    /** One contender's run: latencies in nanoseconds. */
    record Run(Histogram latency, long iterations, long elapsedNanos, long failures) {
        double micros(double percentile) {
            return latency.getValueAtPercentile(percentile) / 1000.0;
        }

        double opsPerSecond() {
            return iterations * 1e9 / elapsedNanos;
        }

        /** This run and {@code next} as one. */
        Run plus(Run next) {
            Histogram sum = latency.copy();
            sum.add(next.latency);
            return new Run(sum, iterations + next.iterations, elapsedNanos + next.elapsedNanos, failures + next.failures);
        }
    }

    static final class Bench {
        private final Settings settings;
        private final List<String> uris;
        private final List<StatefulRedisConnection<String, String>> connections;
        private final String sha;
        /** Per node: the key count every contender must leave behind. */
        private final long[] baselineKeys;
        /** Node count → contender → measured rounds, in contender order. */
        private final Map<Integer, Map<String, List<Run>>> results = new LinkedHashMap<>();
        private final Map<String, String> environment = new LinkedHashMap<>();
        private boolean problems;

        Bench(Settings settings, List<String> uris, List<StatefulRedisConnection<String, String>> connections) {
            this.settings = settings;
            this.uris = uris;
            this.connections = connections;
            String loaded = null;
            for (StatefulRedisConnection<String, String> c : connections) {
                loaded = c.sync().scriptLoad(COMPARE_AND_DELETE);
            }
            this.sha = loaded;
            // Nodes from REDSYNC_NODES may hold other data; what must not change is their key count.
            this.baselineKeys = connections.stream().mapToLong(c -> c.sync().dbsize()).toArray();
        }

        void printEnvironment(String nodeSource) {
            Set<String> versions = new LinkedHashSet<>();
            for (StatefulRedisConnection<String, String> c : connections) {
                versions.add(c.sync().info("server").lines().filter(l -> l.startsWith("redis_version:"))
                        .map(l -> l.substring("redis_version:".length()).trim()).findFirst().orElse("?"));
            }
            environment.put("date", Instant.now().toString());
            environment.put("command", command());
            environment.put("directory", System.getProperty("user.dir"));
            environment.put("settings", "iterations=" + settings.iterations + " rounds=" + settings.rounds
                    + " warmup=" + settings.warmup + " block=" + settings.block + (settings.quick ? " (quick)" : ""));
            environment.put("nodes", nodeSource + ": " + uris.stream().map(UncontendedLatency::shown).collect(Collectors.joining(", "))
                    + " (1-node case: the first)");
            environment.put("redis-server", String.join(", ", versions));
            environment.put("JDK", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                    + " (" + System.getProperty("java.vm.vendor") + ")");
            environment.put("cores", Runtime.getRuntime().availableProcessors() + " (client, Netty threads and all redis-servers share them)");
            environment.put("OS", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
            environment.put("baseline DBSIZE", Arrays.toString(baselineKeys));
            environment.forEach((k, v) -> System.out.println(k + ": " + v));
            System.out.println();
        }

        /**
         * Warms up, then measures each contender {@code rounds} times. Within a round the contenders take
         * turns in blocks of {@code block} cycles: on a small shared machine latency can shift severalfold
         * for seconds at a time (other processes, idle vCPUs waking slowly), and one contender measured in
         * one long stretch would get a different machine from the next. Each block starts with the next
         * contender, and every other round runs in reverse, so none is always first or last.
         * {@code -Dbench.block=<iterations>} gives one stretch per contender per round.
         */
        void run(int nodeCount) throws Exception {
            List<RedisAsyncCommands<String, String>> floorNodes = new ArrayList<>();
            for (int i = 0; i < nodeCount; i++) {
                floorNodes.add(connections.get(i).async());
            }
            try (Redsync redsync = Redsync.create(uris.subList(0, nodeCount))) {
                List<Contender> contenders = List.of(new Floor(floorNodes, sha), new Blocking(redsync), new Async(redsync));
                Map<String, List<Run>> rounds = new LinkedHashMap<>();
                for (Contender c : contenders) {
                    rounds.put(c.name(), new ArrayList<>());
                }
                results.put(nodeCount, rounds);
                for (Contender c : contenders) {
                    report(nodeCount, "warm-up", c, measure(c, settings.warmup));
                }
                for (int r = 0; r < settings.rounds; r++) {
                    List<Contender> order = new ArrayList<>(contenders);
                    Collections.rotate(order, -(r / 2));
                    if (r % 2 == 1) {
                        Collections.reverse(order);
                    }
                    Map<String, Run> round = new LinkedHashMap<>();
                    for (int done = 0, turn = 0; done < settings.iterations; done += settings.block, turn++) {
                        int cycles = Math.min(settings.block, settings.iterations - done);
                        List<Contender> turnOrder = new ArrayList<>(order);
                        Collections.rotate(turnOrder, -turn);
                        for (Contender c : turnOrder) {
                            round.merge(c.name(), measure(c, cycles), Run::plus);
                        }
                    }
                    for (Contender c : order) {
                        rounds.get(c.name()).add(round.get(c.name()));
                        report(nodeCount, "round " + (r + 1) + "/" + settings.rounds, c, round.get(c.name()));
                    }
                }
            }
        }

        /** Runs {@code iterations} cycles, then checks the nodes for leftover keys (outside the timing). */
        private Run measure(Contender contender, int iterations) throws Exception {
            Histogram latency = new Histogram(3);
            long failures = 0;
            long start = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                long t0 = System.nanoTime();
                boolean ok = contender.cycle();
                long t1 = System.nanoTime();
                latency.recordValue(t1 - t0);
                if (!ok) {
                    failures++;
                }
            }
            long elapsed = System.nanoTime() - start;
            checkNoKeysLeft(contender);
            return new Run(latency, iterations, Math.max(elapsed, 1), failures);
        }

        private void checkNoKeysLeft(Contender contender) {
            for (int i = 0; i < connections.size(); i++) {
                long keys = connections.get(i).sync().dbsize();
                if (keys != baselineKeys[i]) {
                    problems = true;
                    System.out.printf(Locale.ROOT, "WARNING: after %s node %d (%s) has DBSIZE %d, expected %d: a lock key was left behind%n",
                            contender.name(), i, shown(uris.get(i)), keys, baselineKeys[i]);
                    // Blame each leak once, on the contender that ran when it appeared.
                    baselineKeys[i] = keys;
                }
            }
        }

        private void report(int nodeCount, String phase, Contender c, Run run) {
            if (run.failures > 0) {
                problems = true;
                System.out.printf(Locale.ROOT, "WARNING: %s failed %d of %d cycles on %d node(s)%n", c.name(), run.failures, run.iterations, nodeCount);
            }
            if (run.iterations == 0) {
                return;
            }
            System.out.printf(Locale.ROOT, "%d node%s  %-11s %-17s p50 %8.1f µs  p99 %8.1f µs  %8.0f ops/s  (%d cycles, %.1f s)%n",
                    nodeCount, nodeCount == 1 ? " " : "s", phase, c.name(), run.micros(50), run.micros(99), run.opsPerSecond(),
                    run.iterations, run.elapsedNanos / 1e9);
        }

        boolean problems() {
            return problems;
        }

        /** The results as an aligned markdown table: percentiles over all rounds, ratios as medians of per-round ratios. */
        String table() {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"nodes", "contender", "p50 µs", "p90 µs", "p99 µs", "p99.9 µs", "ops/s", "p50 / floor", "p99 / floor", "failures"});
            for (Map.Entry<Integer, Map<String, List<Run>>> byCount : results.entrySet()) {
                List<Run> floor = byCount.getValue().get(FLOOR);
                for (Map.Entry<String, List<Run>> byContender : byCount.getValue().entrySet()) {
                    List<Run> runs = byContender.getValue();
                    Histogram all = new Histogram(3);
                    long iterations = 0;
                    long elapsed = 0;
                    long failures = 0;
                    for (Run run : runs) {
                        all.add(run.latency);
                        iterations += run.iterations;
                        elapsed += run.elapsedNanos;
                        failures += run.failures;
                    }
                    Run merged = new Run(all, iterations, elapsed, failures);
                    boolean isFloor = byContender.getKey().equals(FLOOR);
                    rows.add(new String[] {
                            Integer.toString(byCount.getKey()), byContender.getKey(),
                            fmt(merged.micros(50)), fmt(merged.micros(90)), fmt(merged.micros(99)), fmt(merged.micros(99.9)),
                            String.format(Locale.ROOT, "%.0f", merged.opsPerSecond()),
                            isFloor ? "1" : ratio(runs, floor, 50), isFloor ? "1" : ratio(runs, floor, 99),
                            Long.toString(failures)});
                }
            }
            int[] widths = new int[rows.get(0).length];
            for (String[] row : rows) {
                for (int i = 0; i < row.length; i++) {
                    widths[i] = Math.max(widths[i], row[i].length());
                }
            }
            StringBuilder out = new StringBuilder();
            for (int r = 0; r < rows.size(); r++) {
                appendRow(out, rows.get(r), widths, r == 0);
                if (r == 0) {
                    String[] rule = new String[widths.length];
                    for (int i = 0; i < rule.length; i++) {
                        // A colon on the right makes markdown right-align the numeric columns.
                        rule[i] = i == 1 ? "-".repeat(widths[i]) : "-".repeat(widths[i] - 1) + ":";
                    }
                    appendRow(out, rule, widths, false);
                }
            }
            out.append("\nLatency of one lock+unlock cycle on one thread, percentiles over all ")
                    .append(settings.rounds).append(" rounds of ").append(settings.iterations)
                    .append(" cycles (contenders taking turns in blocks of ").append(settings.block)
                    .append("); ratios: median over rounds of (contender / floor in the same round).\n");
            return out.toString();
        }

        private static void appendRow(StringBuilder out, String[] row, int[] widths, boolean header) {
            out.append('|');
            for (int i = 0; i < row.length; i++) {
                boolean left = header || i == 1;
                String pad = " ".repeat(widths[i] - row[i].length());
                out.append(' ').append(left ? row[i] + pad : pad + row[i]).append(" |");
            }
            out.append('\n');
        }

        private static String fmt(double micros) {
            return String.format(Locale.ROOT, "%.1f", micros);
        }

        private static String ratio(List<Run> runs, List<Run> floor, double percentile) {
            double[] ratios = new double[runs.size()];
            for (int i = 0; i < ratios.length; i++) {
                ratios[i] = runs.get(i).micros(percentile) / floor.get(i).micros(percentile);
            }
            Arrays.sort(ratios);
            int mid = ratios.length / 2;
            double median = ratios.length % 2 == 1 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
            return String.format(Locale.ROOT, "%.2f", median);
        }

        static Path writeMarkdown(Map<String, String> environment, String table) throws IOException, URISyntaxException {
            StringBuilder md = new StringBuilder("# Uncontended lock+unlock latency\n\n");
            environment.forEach((k, v) -> md.append("- ").append(k).append(": ")
                    .append(k.equals("command") ? "`" + v + "`" : v).append('\n'));
            md.append('\n').append(table);
            Path file = outputDir().resolve("uncontended-latency.md");
            Files.createDirectories(file.getParent());
            Files.writeString(file, md, StandardCharsets.UTF_8);
            return file;
        }

        /**
         * {@code benchmarks/target}, found from where this class was loaded ({@code target/classes}), since
         * the working directory is wherever Maven was started.
         */
        private static Path outputDir() throws URISyntaxException {
            String override = System.getProperty("bench.out");
            if (override != null) {
                return Path.of(override);
            }
            Path classes = Path.of(UncontendedLatency.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return classes.toAbsolutePath().getParent();
        }

        /**
         * How this JVM was started: Maven's launcher arguments when run by exec:java (the JVM is Maven's),
         * else the java command line.
         */
        private static String command() {
            return BenchSupport.command();
        }
    }
}
