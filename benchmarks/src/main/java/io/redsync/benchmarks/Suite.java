package io.redsync.benchmarks;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.redsync.LockOptions;
import io.redsync.Redsync;
import io.redsync.benchmarks.Contenders.Concurrent;
import io.redsync.benchmarks.Contenders.Kind;
import io.redsync.benchmarks.Contenders.Sequential;
import io.redsync.benchmarks.Contenders.Tput;
import io.redsync.testkit.RedisNodes;
import org.HdrHistogram.Histogram;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The benchmark suite (issue 8): redsync (blocking, async, coroutines) against the raw floor (plain Lettuce)
 * and Redisson, all on the same Redis nodes in one run.
 *
 * <pre>
 * mvn -q -pl benchmarks -am test-compile exec:java -Dexec.mainClass=io.redsync.benchmarks.Suite -Dbench.mode=quick   (~4 min)
 * mvn -q -pl benchmarks -am test-compile exec:java -Dexec.mainClass=io.redsync.benchmarks.Suite -Dbench.mode=full    (~12 min)
 * </pre>
 *
 * <p>Workloads: (1) uncontended lock+unlock latency on one caller, 1/3/5 nodes, with (5) the bytes allocated
 * per cycle by all threads over the same cycles; (2) throughput of 64 callers on 64 names, 1 and 3 nodes;
 * (3) 8 workers contending for one name; (4) 10,000 coroutines waiting for one held name; (6) crowds of 1,000 to
 * 10,000 waiters on 20 names, each holding a few ms (hand-off); (7) bursts of 2,000 and 10,000 simultaneous lock
 * calls in a 256 MB child JVM.
 *
 * <p>Nodes: {@code REDSYNC_NODES} (comma-separated {@code redis://} URIs, at least 3; 5 for the 5-node
 * latency case; the first serves the 1-node cases), else 5 fresh {@code redis-server} processes from the
 * testkit. The full mode writes {@code docs/benchmarks.md} and {@code docs/benchmarks.png}; the quick mode
 * (and any partial run) writes under {@code benchmarks/target/bench-results/}; {@code -Dbench.out=DIR}
 * overrides. {@code -Dbench.only=latency,throughput,contention,crowd,handoff,burst} runs a subset (for profiling);
 * {@code -Dbench.handoffCrowds=5000} and {@code -Dbench.handoffHoldMs=6} change the hand-off crowds' sizes and
 * hold (a run with either is a partial run: it does not write {@code docs/}).
 *
 * <p>Exits 1 when a contender failed cycles, broke mutual exclusion or left keys behind.
 */
public final class Suite {
    static final Set<String> WORKLOADS = Set.of("latency", "throughput", "contention", "crowd", "handoff", "burst");
    static final String FLOOR = "floor (Lettuce)";
    static final String FLOOR_ASYNC = "floor (Lettuce) async";
    static final String FLOOR_COROUTINES = "floor (Lettuce) coroutines";

    /** Everything the two modes set. */
    record Mode(String name, int latWarmup, int latCycles, int latRounds, int latBlock,
                long tputWarmupMs, long tputMs, int tputRounds, int callers,
                long contWarmupMs, long contMs, int contRounds, int workers, long holdMicros,
                int crowdWaiters, List<Integer> handoffCrowds, long handoffWarmupMs, long handoffMs, long probeMs,
                List<Integer> bursts) {
        /** The mode, with -Dbench.handoffCrowds=5000[,...] replacing its hand-off crowd sizes (partial runs). */
        static Mode of(String name) {
            Mode mode = base(name);
            String crowds = System.getProperty("bench.handoffCrowds", "");
            return crowds.isBlank() ? mode : new Mode(mode.name, mode.latWarmup, mode.latCycles, mode.latRounds, mode.latBlock,
                    mode.tputWarmupMs, mode.tputMs, mode.tputRounds, mode.callers, mode.contWarmupMs, mode.contMs, mode.contRounds,
                    mode.workers, mode.holdMicros, mode.crowdWaiters,
                    Arrays.stream(crowds.split(",")).map(String::trim).map(Integer::valueOf).toList(),
                    mode.handoffWarmupMs, mode.handoffMs, mode.probeMs, mode.bursts);
        }

        private static Mode base(String name) {
            return switch (name) {
                case "quick" -> new Mode("quick", 300, 1000, 2, 250, 800, 2000, 2, 64, 800, 3000, 2, 8, 50, 10_000,
                        List.of(1000), 1000, 3000, 2000, List.of(2000));
                case "full" -> new Mode("full", 3000, 6000, 3, 1000, 2000, 5000, 3, 64, 2000, 10_000, 3, 8, 50, 10_000,
                        List.of(1000, 5000, 10_000), 2000, 8000, 4000, List.of(2000, 10_000));
                default -> throw new IllegalArgumentException("bench.mode must be quick or full, was '" + name + "'");
            };
        }

        String describe() {
            return "latency: " + latWarmup + " warm-up + " + latRounds + " rounds x " + latCycles + " cycles (turns of " + latBlock
                    + "); throughput: " + callers + " callers, " + tputWarmupMs + " ms warm-up + " + tputRounds + " rounds x "
                    + tputMs + " ms; contention: " + workers + " workers, " + holdMicros + " µs held, " + contWarmupMs
                    + " ms warm-up + " + contRounds + " rounds x " + contMs + " ms; crowd: " + crowdWaiters + " coroutines"
                    + "; hand-off crowds: " + handoffCrowds + " waiters on " + HANDOFF_NAMES + " names, " + handoffWarmupMs
                    + " ms warm-up + " + handoffMs + " ms, probe alone " + probeMs + " ms; bursts: " + bursts + " calls";
        }
    }

    final Mode mode;
    final Set<String> only;
    /** -Dbench.contenders=a,b: run only contenders whose name contains one of these (floors always run). */
    final List<String> contenderFilter = Arrays.stream(System.getProperty("bench.contenders", "").split(","))
            .map(String::trim).filter(x -> !x.isEmpty()).toList();
    final List<String> uris;
    final RedisClient client;
    final List<StatefulRedisConnection<String, String>> connections = new ArrayList<>();
    final String sha;
    final long[] baselineKeys;
    final Map<String, String> environment = new LinkedHashMap<>();
    private final Map<Integer, RedissonClient> redissons = new LinkedHashMap<>();
    boolean problems;

    // Results, rendered by Report.
    /** nodes -> contender -> rounds. */
    final Map<Integer, Map<String, List<LatRun>>> latency = new LinkedHashMap<>();
    /**
     * nodes -> contender -> {p50, p99} in µs of each turn, in the same order for every contender: turn i of each
     * contender ran next to turn i of the others, so their ratio is the least disturbed by machine drift. (Only
     * the percentiles: keeping each turn's histogram held 60 MB, which workload 4 then counted in its heap.)
     */
    final Map<Integer, Map<String, List<double[]>>> latencyTurns = new LinkedHashMap<>();
    final Map<String, Kind> kinds = new LinkedHashMap<>();
    /** nodes -> contender -> rounds. */
    final Map<Integer, Map<String, List<Tput>>> throughput = new LinkedHashMap<>();
    final Map<String, String> models = new LinkedHashMap<>();
    /** contender -> rounds. */
    final Map<String, List<Contention.Result>> contention = new LinkedHashMap<>();
    final List<CrowdResult> crowds = new ArrayList<>();
    final List<Handoff.Result> handoffs = new ArrayList<>();
    final List<Burst.Result> bursts = new ArrayList<>();
    String virtualThreads;

    /** One contender's latency measurements in one round (blocks merged). */
    record LatRun(Histogram latency, long cycles, long elapsedNanos, long failures, long allocatedBytes, long redisCommands,
                  long redisCpuMicros) {
        LatRun plus(LatRun o) {
            Histogram sum = latency.copy();
            sum.add(o.latency);
            return new LatRun(sum, cycles + o.cycles, elapsedNanos + o.elapsedNanos, failures + o.failures,
                    allocatedBytes + o.allocatedBytes, redisCommands + o.redisCommands, redisCpuMicros + o.redisCpuMicros);
        }

        double p(double percentile) {
            return BenchSupport.micros(latency, percentile);
        }
    }

    Suite(Mode mode, Set<String> only, List<String> uris, RedisClient client) {
        this.mode = mode;
        this.only = only;
        this.uris = uris;
        this.client = client;
        for (String uri : uris) {
            connections.add(client.connect(StringCodec.UTF8, RedisURI.create(uri)));
        }
        String loaded = null;
        for (StatefulRedisConnection<String, String> c : connections) {
            loaded = c.sync().scriptLoad(Contenders.COMPARE_AND_DELETE);
        }
        this.sha = loaded;
        this.baselineKeys = connections.stream().mapToLong(c -> c.sync().dbsize()).toArray();
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        Mode mode = Mode.of(System.getProperty("bench.mode", "quick"));
        Set<String> only = parseOnly(System.getProperty("bench.only"));
        long began = System.nanoTime();
        String env = System.getenv("REDSYNC_NODES");
        boolean problems;
        try (RedisNodes started = env == null ? RedisNodes.start(5) : null;
             AutoCloseableClient owned = new AutoCloseableClient(RedisClient.create())) {
            List<String> uris = env == null ? started.uris() : parseNodes(env);
            Suite suite = new Suite(mode, only, uris, owned.client);
            try {
                suite.describeEnvironment(env == null ? "5 redis-server processes started by redsync-testkit" : "REDSYNC_NODES");
                suite.runAll();
                Path out = Report.write(suite, outputDir(mode, only));
                System.out.println();
                System.out.println("results: " + out);
            } finally {
                suite.close();
            }
            problems = suite.problems;
        }
        System.out.printf(Locale.ROOT, "total time: %.1f s%n", (System.nanoTime() - began) / 1e9);
        if (problems) {
            System.out.println("FAILED: a contender failed cycles, broke mutual exclusion or left keys (see WARNING lines)");
            System.exit(1);
        }
        // Redisson and coroutine dispatcher threads are not all daemons.
        System.exit(0);
    }

    /** RedisClient is not AutoCloseable. */
    record AutoCloseableClient(RedisClient client) implements AutoCloseable {
        @Override
        public void close() {
            client.shutdown();
        }
    }

    private static Set<String> parseOnly(String value) {
        if (value == null || value.isBlank()) {
            return WORKLOADS;
        }
        Set<String> set = Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .collect(Collectors.toCollection(LinkedHashSet::new));
        for (String s : set) {
            if (!WORKLOADS.contains(s)) {
                throw new IllegalArgumentException("bench.only: unknown workload '" + s + "'; known: " + WORKLOADS);
            }
        }
        return set;
    }

    private static List<String> parseNodes(String env) {
        List<String> uris = Arrays.stream(env.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        if (uris.size() < 3) {
            throw new IllegalArgumentException("REDSYNC_NODES must list at least 3 comma-separated redis:// URIs (5 for "
                    + "the 5-node latency case), was '" + env + "'");
        }
        return uris.subList(0, Math.min(5, uris.size()));
    }

    /** docs/ for a complete full run; benchmarks/target/bench-results/MODE otherwise; -Dbench.out wins. */
    static Path outputDir(Mode mode, Set<String> only) throws Exception {
        String override = System.getProperty("bench.out");
        if (override != null) {
            return Path.of(override);
        }
        Path classes = Path.of(Suite.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
        Path module = classes.getParent().getParent();
        if (mode.name.equals("full") && only.equals(WORKLOADS) && System.getProperty("bench.contenders", "").isBlank()
                && System.getProperty("bench.handoffCrowds") == null && System.getProperty("bench.handoffHoldMs") == null) {
            return module.getParent().resolve("docs");
        }
        return module.resolve("target").resolve("bench-results").resolve(mode.name);
    }

    void describeEnvironment(String nodeSource) {
        Set<String> versions = new LinkedHashSet<>();
        for (StatefulRedisConnection<String, String> c : connections) {
            versions.add(BenchSupport.redisVersion(c));
        }
        environment.put("date", Instant.now().toString());
        environment.put("command", BenchSupport.command());
        environment.put("mode", mode.name + " (" + mode.describe() + ")" + (only.equals(WORKLOADS) ? "" : "; only " + only)
                + (contenderFilter.isEmpty() ? "" : "; contenders " + contenderFilter));
        environment.put("nodes", nodeSource + ": " + uris.stream().map(BenchSupport::shown).collect(Collectors.joining(", "))
                + " (1-node cases: the first; 3-node: the first three)");
        environment.put("redis-server", String.join(", ", versions));
        environment.put("JDK", BenchSupport.jdk());
        environment.put("cores", Runtime.getRuntime().availableProcessors() + " (client, Netty threads and all redis-servers share them)");
        environment.put("OS", BenchSupport.os());
        environment.put("max heap", Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MB");
        environment.put("redsync build", provenance());
        environment.put("libraries", "redsync " + pkgVersion(Redsync.class) + ", Lettuce " + pkgVersion(RedisClient.class)
                + ", Redisson " + pkgVersion(Redisson.class) + ", Netty " + pkgVersion(io.netty.channel.Channel.class));
        environment.put("Redisson config", "one RedissonClient per node, single server, connectionPoolSize=64, "
                + "connectionMinimumIdleSize=16, subscriptionConnectionPoolSize=16, subscriptionConnectionMinimumIdleSize=1, nettyThreads="
                + redissonNettyThreads() + "; locks taken with lock(leaseTime=8 s) (redsync's expiry; no watchdog)");
        environment.put("baseline DBSIZE", Arrays.toString(baselineKeys));
        environment.forEach((k, v) -> System.out.println(k + ": " + v));
        System.out.println();
    }

    /** Which redsync-core was measured: its jar or classes directory, when it was built, and the repository state. */
    private static String provenance() {
        StringBuilder out = new StringBuilder();
        try {
            Path core = Path.of(Redsync.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            out.append(core).append(" (built ").append(java.nio.file.Files.getLastModifiedTime(core).toInstant()).append(")");
            Path classes = Path.of(Suite.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
            Path root = classes.getParent().getParent().getParent();
            String head = git(root, "rev-parse", "--short", "HEAD");
            String dirty = git(root, "status", "--porcelain", "--", "redsync-core/src/main", "redsync-coroutines/src/main");
            if (head != null) {
                out.append("; repository at ").append(head.trim()).append(dirty == null || dirty.isBlank() ? ""
                        : " with uncommitted changes in " + dirty.lines().map(l -> l.substring(3)).collect(Collectors.joining(", ")));
            }
        } catch (Exception e) {
            out.append(" (").append(e).append(")");
        }
        return out.toString();
    }

    private static String git(Path dir, String... args) {
        try {
            List<String> command = new ArrayList<>(List.of("git", "-C", dir.toString()));
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            return p.waitFor() == 0 ? text : null;
        } catch (Exception e) {
            return null;
        }
    }

    private static String pkgVersion(Class<?> c) {
        String v = c.getPackage() == null ? null : c.getPackage().getImplementationVersion();
        if (v == null) {
            String jar = String.valueOf(c.getProtectionDomain().getCodeSource().getLocation());
            v = jar.substring(jar.lastIndexOf('/') + 1).replaceAll("\\.jar$", "");
        }
        return v;
    }

    static int redissonNettyThreads() {
        return Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
    }

    void runAll() throws Exception {
        if (only.contains("latency")) {
            for (int n : new int[] {1, 3, 5}) {
                if (n <= uris.size()) {
                    runLatency(n);
                } else {
                    System.out.println("[latency] " + n + " nodes skipped: REDSYNC_NODES lists only " + uris.size());
                }
            }
        }
        if (only.contains("throughput")) {
            for (int n : new int[] {1, 3}) {
                runThroughput(n);
            }
        }
        if (only.contains("contention")) {
            runContention();
        }
        if (only.contains("crowd")) {
            runCrowd();
        }
        if (only.contains("handoff")) {
            runHandoff();
        }
        if (only.contains("burst")) {
            runBurst();
        }
    }

    // ------------------------------------------------------------------------------------------ nodes

    /** Ours over the floor's own connections (one multiplexed connection per node, shared). */
    Redsync oursOnConnections(int n) {
        Redsync.Builder b = Redsync.builder();
        for (int i = 0; i < n; i++) {
            b.node(connections.get(i));
        }
        return b.build();
    }

    /** As {@link #oursOnConnections}, with redsync-micrometer's meters registered: the listener's cost, side by side. */
    Redsync metered(int n) {
        Redsync.Builder b = Redsync.builder()
                .listener(new io.redsync.micrometer.RedsyncMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry()));
        for (int i = 0; i < n; i++) {
            b.node(connections.get(i));
        }
        return b.build();
    }

    static final String METERED = " + Micrometer";

    /** Ours on the floor's client (its own connection per node plus pub/sub for release notifications). */
    Redsync oursOnClient(int n) {
        Redsync.Builder b = Redsync.builder();
        for (int i = 0; i < n; i++) {
            b.node(client, RedisURI.create(uris.get(i)));
        }
        return b.build();
    }

    List<RedissonClient> redisson(int n) {
        List<RedissonClient> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(redissons.computeIfAbsent(i, this::newRedisson));
        }
        return out;
    }

    private RedissonClient newRedisson(int node) {
        return redissonClient(uris.get(node));
    }

    /** The suite's Redisson configuration for one node (also used by the burst's child JVM). */
    static RedissonClient redissonClient(String uri) {
        RedisURI parsed = RedisURI.create(uri);
        Config config = new Config();
        config.setNettyThreads(redissonNettyThreads());
        config.useSingleServer()
                // Redisson reads user:password from the address itself; the database goes separately.
                .setAddress(uri.replaceFirst("^(rediss?://[^/?#]*).*$", "$1"))
                .setDatabase(parsed.getDatabase())
                .setConnectionPoolSize(64)
                .setConnectionMinimumIdleSize(16)
                .setSubscriptionConnectionPoolSize(16)
                .setSubscriptionConnectionMinimumIdleSize(1);
        return Redisson.create(config);
    }

    /** Nodes must hold exactly the keys they held before: anything else is a lock left behind. */
    void checkKeys(String who) {
        for (int i = 0; i < connections.size(); i++) {
            long keys = connections.get(i).sync().dbsize();
            if (keys != baselineKeys[i]) {
                problems = true;
                System.out.printf(Locale.ROOT, "WARNING: after %s node %d (%s) has DBSIZE %d, expected %d: a lock key was left behind%n",
                        who, i, BenchSupport.shown(uris.get(i)), keys, baselineKeys[i]);
                baselineKeys[i] = keys;
            }
        }
    }

    /**
     * Lock commands (SET, EVALSHA, EVAL: redsync's first attempt is a plain SET NX, later ones and releases are
     * scripts) served so far by the first {@code n} nodes.
     */
    long lockCommands(int n) {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            String stats = connections.get(i).sync().info("commandstats");
            for (String line : stats.split("\r?\n")) {
                if (line.startsWith("cmdstat_set:") || line.startsWith("cmdstat_evalsha:") || line.startsWith("cmdstat_eval:")) {
                    int at = line.indexOf("calls=");
                    int end = line.indexOf(',', at);
                    sum += Long.parseLong(line.substring(at + 6, end));
                }
            }
        }
        return sum;
    }

    /**
     * {commands served, CPU µs used} summed over the first {@code n} nodes, from one {@code INFO commandstats cpu}
     * per node (that INFO is itself counted as one command).
     */
    long[] redisCounters(int n) {
        long commands = 0;
        double cpuSeconds = 0;
        for (int i = 0; i < n; i++) {
            String info = connections.get(i).sync().info("everything");
            for (String line : info.split("\r?\n")) {
                if (line.startsWith("cmdstat_")) {
                    int at = line.indexOf("calls=");
                    commands += Long.parseLong(line.substring(at + 6, line.indexOf(',', at)));
                } else if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) {
                    cpuSeconds += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
                }
            }
        }
        return new long[] {commands, Math.round(cpuSeconds * 1e6)};
    }

    void close() {
        for (RedissonClient r : redissons.values()) {
            try {
                r.shutdown();
            } catch (RuntimeException e) {
                System.out.println("closing a RedissonClient failed: " + e);
            }
        }
        for (StatefulRedisConnection<String, String> c : connections) {
            c.close();
        }
    }

    boolean selected(String contender) {
        return contender.startsWith("floor") || contenderFilter.isEmpty() || contenderFilter.stream().anyMatch(contender::contains);
    }

    /** Rotates the contender order per round, reversing every other round, so none is always first or last. */
    static <T> List<T> orderFor(List<T> contenders, int round) {
        List<T> order = new ArrayList<>(contenders);
        Collections.rotate(order, -(round / 2));
        if (round % 2 == 1) {
            Collections.reverse(order);
        }
        return order;
    }

    // ------------------------------------------------------------------------------------------ (1)+(5) latency

    void runLatency(int n) throws Exception {
        List<RedisAsyncCommands<String, String>> floorNodes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            floorNodes.add(connections.get(i).async());
        }
        String lockName = "bench:uncontended";
        try (Redsync ours = oursOnConnections(n); Redsync metered = metered(n)) {
            List<Sequential> contenders = new ArrayList<>();
            contenders.add(Contenders.sequential(FLOOR, Kind.FLOOR, new Contenders.Floor(floorNodes, sha)));
            contenders.add(Contenders.sequential("redsync blocking", Kind.OURS, Contenders.oursBlocking(ours)));
            contenders.add(Contenders.sequential("redsync blocking" + METERED, Kind.OURS, Contenders.oursBlocking(metered)));
            contenders.add(Contenders.sequential("redsync async", Kind.OURS, Contenders.oursAsyncAwaited(ours)));
            contenders.add(Contenders.sequential("redsync async" + METERED, Kind.OURS, Contenders.oursAsyncAwaited(metered)));
            contenders.add(Contenders.coroutinesSequential(ours));
            contenders.add(n == 1
                    ? Contenders.sequential("Redisson", Kind.REDISSON, Contenders.redissonLock(redisson(1).get(0)))
                    : Contenders.sequential("Redisson", Kind.REDISSON, Contenders.redissonRedLock(redisson(n))));
            contenders.removeIf(c -> !selected(c.name));
            Map<String, List<LatRun>> rounds = new LinkedHashMap<>();
            for (Sequential c : contenders) {
                rounds.put(c.name, new ArrayList<>());
                kinds.put(c.name, c.kind);
            }
            latency.put(n, rounds);
            Map<String, List<double[]>> turns = new LinkedHashMap<>();
            contenders.forEach(c -> turns.put(c.name, new ArrayList<>()));
            latencyTurns.put(n, turns);
            long overhead = allocationProbeOverhead();
            for (Sequential c : contenders) {
                LatRun warm = measureLatency(c, lockName, mode.latWarmup, overhead, n);
                progress("latency", n, "warm-up", c.name, warm);
            }
            for (int r = 0; r < mode.latRounds; r++) {
                List<Sequential> order = orderFor(contenders, r);
                Map<String, LatRun> round = new LinkedHashMap<>();
                for (int done = 0, turn = 0; done < mode.latCycles; done += mode.latBlock, turn++) {
                    int cycles = Math.min(mode.latBlock, mode.latCycles - done);
                    List<Sequential> turnOrder = new ArrayList<>(order);
                    Collections.rotate(turnOrder, -turn);
                    for (Sequential c : turnOrder) {
                        LatRun block = measureLatency(c, lockName, cycles, overhead, n);
                        turns.get(c.name).add(new double[] {block.p(50), block.p(99)});
                        round.merge(c.name, block, LatRun::plus);
                    }
                }
                for (Sequential c : order) {
                    LatRun run = round.get(c.name);
                    rounds.get(c.name).add(run);
                    progress("latency", n, "round " + (r + 1) + "/" + mode.latRounds, c.name, run);
                }
            }
        }
    }

    /** What reading the allocation counters itself allocates, subtracted from each block. */
    private static long allocationProbeOverhead() {
        long min = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long a = BenchSupport.allocatedBytesAllThreads();
            long b = BenchSupport.allocatedBytesAllThreads();
            min = Math.min(min, b - a);
        }
        return Math.max(0, min);
    }

    private LatRun measureLatency(Sequential c, String lockName, int cycles, long probeOverhead, int n) throws Exception {
        Histogram h = BenchSupport.histogram();
        long[] r0 = redisCounters(n);
        long a0 = BenchSupport.allocatedBytesAllThreads();
        long t0 = System.nanoTime();
        long failures = c.block(lockName, cycles, h);
        long elapsed = System.nanoTime() - t0;
        long a1 = BenchSupport.allocatedBytesAllThreads();
        long[] r1 = redisCounters(n);
        checkKeys(c.name);
        if (failures > 0) {
            problems = true;
            System.out.printf(Locale.ROOT, "WARNING: %s failed %d of %d uncontended cycles%n", c.name, failures, cycles);
        }
        // INFO itself is one command per node, counted in r1; and INFO cpu is read after INFO commandstats.
        return new LatRun(h, cycles, Math.max(1, elapsed), failures, Math.max(0, a1 - a0 - probeOverhead), r1[0] - r0[0] - n,
                r1[1] - r0[1]);
    }

    private static void progress(String workload, int n, String phase, String contender, LatRun run) {
        System.out.printf(Locale.ROOT, "[%s] %d node%s %-12s %-22s p50 %8.1f µs  p99 %8.1f µs  %7.0f ops/s  %7.0f B/op  "
                        + "%4.1f Redis cmds/op  %5.1f Redis CPU µs/op  failures %d%n",
                workload, n, n == 1 ? " " : "s", phase, contender, run.p(50), run.p(99), run.cycles * 1e9 / run.elapsedNanos,
                (double) run.allocatedBytes / run.cycles, (double) run.redisCommands / run.cycles,
                (double) run.redisCpuMicros / run.cycles, run.failures);
    }

    // ------------------------------------------------------------------------------------------ (2) throughput

    void runThroughput(int n) throws Exception {
        List<RedisAsyncCommands<String, String>> floorNodes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            floorNodes.add(connections.get(i).async());
        }
        Contenders.Floor floor = new Contenders.Floor(floorNodes, sha);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < mode.callers; i++) {
            names.add("bench:tput:" + i);
        }
        String threadsModel = mode.callers + " threads";
        try (Redsync ours = oursOnConnections(n); Redsync metered = metered(n)) {
            List<Concurrent> contenders = new ArrayList<>();
            contenders.add(Contenders.threads(FLOOR, Kind.FLOOR, threadsModel, floor, Contenders.platformThreads("floor")));
            contenders.add(Contenders.chains(FLOOR_ASYNC, Kind.FLOOR, floor::cycleAsync));
            contenders.add(Contenders.floorCoroutines(floor));
            contenders.add(Contenders.threads("redsync blocking", Kind.OURS, threadsModel, Contenders.oursBlocking(ours),
                    Contenders.platformThreads("ours")));
            ThreadFactory virtual = Contenders.virtualThreadsOrNull();
            if (virtual != null) {
                contenders.add(Contenders.threads("redsync blocking (virtual threads)", Kind.OURS, threadsModel + " (virtual)",
                        Contenders.oursBlocking(ours), virtual));
                virtualThreads = "measured (JDK " + Runtime.version() + ")";
            } else {
                virtualThreads = "not measured: JDK " + Runtime.version().feature() + " has no virtual threads (needs 21+)";
            }
            contenders.add(Contenders.threads("redsync blocking" + METERED, Kind.OURS, threadsModel, Contenders.oursBlocking(metered),
                    Contenders.platformThreads("metered")));
            contenders.add(Contenders.chains("redsync async", Kind.OURS, name -> Contenders.oursAsyncCycle(ours, name)));
            contenders.add(Contenders.chains("redsync async" + METERED, Kind.OURS, name -> Contenders.oursAsyncCycle(metered, name)));
            contenders.add(Contenders.coroutinesConcurrent(ours));
            contenders.add(n == 1
                    ? Contenders.threads("Redisson", Kind.REDISSON, threadsModel, Contenders.redissonLock(redisson(1).get(0)),
                    Contenders.platformThreads("redisson"))
                    : Contenders.threads("Redisson", Kind.REDISSON, threadsModel, Contenders.redissonRedLock(redisson(n)),
                    Contenders.platformThreads("redisson")));
            contenders.removeIf(c -> !selected(c.name));
            Map<String, List<Tput>> rounds = new LinkedHashMap<>();
            for (Concurrent c : contenders) {
                rounds.put(c.name, new ArrayList<>());
                kinds.put(c.name, c.kind);
                models.put(c.name, c.model.equals("coroutines") ? mode.callers + " coroutines (Dispatchers.Default)"
                        : c.model.equals("async chains") ? mode.callers + " async chains (no thread waits)" : c.model);
            }
            throughput.put(n, rounds);
            for (Concurrent c : contenders) {
                Tput warm = measureThroughput(c, names, mode.tputWarmupMs);
                progress(n, "warm-up", c.name, warm);
            }
            for (int r = 0; r < mode.tputRounds; r++) {
                for (Concurrent c : orderFor(contenders, r)) {
                    Tput run = measureThroughput(c, names, mode.tputMs);
                    rounds.get(c.name).add(run);
                    progress(n, "round " + (r + 1) + "/" + mode.tputRounds, c.name, run);
                }
            }
        }
    }

    private Tput measureThroughput(Concurrent c, List<String> names, long millis) throws Exception {
        Tput t = c.run(names, TimeUnit.MILLISECONDS.toNanos(millis));
        checkKeys(c.name);
        if (t.failures() > 0) {
            problems = true;
            System.out.printf(Locale.ROOT, "WARNING: %s failed %d cycles on distinct names (uncontended)%n", c.name, t.failures());
        }
        return t;
    }

    private static void progress(int n, String phase, String contender, Tput t) {
        System.out.printf(Locale.ROOT, "[throughput] %d node%s %-12s %-36s %8.0f ops/s  p50 %7.1f µs  p99 %8.1f µs  failures %d%n",
                n, n == 1 ? " " : "s", phase, contender, t.opsPerSecond(), BenchSupport.micros(t.latency(), 50),
                BenchSupport.micros(t.latency(), 99), t.failures());
    }

    // ------------------------------------------------------------------------------------------ (3) contention

    static final String CONT_ON3 = "redsync, 3 nodes, notifications on";
    static final String CONT_OFF3 = "redsync, 3 nodes, notifications off";
    static final String CONT_ON1 = "redsync, 1 node, notifications on";
    static final String CONT_REDISSON = "Redisson RLock, 1 node";

    void runContention() throws Exception {
        String name = "bench:contended";
        LockOptions on = LockOptions.defaults();
        LockOptions off = LockOptions.builder().releaseNotifications(false).build();
        try (Redsync ours3 = oursOnClient(3); Redsync ours1 = oursOnClient(1)) {
            Map<String, Contention.Holders> contenders = new LinkedHashMap<>();
            contenders.put(CONT_ON3, Contention.ours(ours3, name, on));
            contenders.put(CONT_OFF3, Contention.ours(ours3, name, off));
            contenders.put(CONT_ON1, Contention.ours(ours1, name, on));
            contenders.put(CONT_REDISSON, Contention.redisson(redisson(1).get(0), name));
            List<String> names = new ArrayList<>(contenders.keySet());
            names.removeIf(c -> !selected(c));
            for (String c : names) {
                this.contention.put(c, new ArrayList<>());
            }
            long hold = TimeUnit.MICROSECONDS.toNanos(mode.holdMicros);
            for (String c : names) {
                Contention.Result warm = Contention.run(contenders.get(c), mode.workers, TimeUnit.MILLISECONDS.toNanos(mode.contWarmupMs), hold);
                progress("warm-up", c, warm);
            }
            for (int r = 0; r < mode.contRounds; r++) {
                for (String c : orderFor(names, r)) {
                    Contention.Result run = Contention.run(contenders.get(c), mode.workers, TimeUnit.MILLISECONDS.toNanos(mode.contMs), hold);
                    this.contention.get(c).add(run);
                    progress("round " + (r + 1) + "/" + mode.contRounds, c, run);
                }
            }
        }
    }

    private void progress(String phase, String contender, Contention.Result r) {
        checkKeys(contender);
        if (r.violations() > 0 || !r.stoppedCleanly()) {
            problems = true;
            System.out.printf(Locale.ROOT, "WARNING: %s: %d mutual-exclusion violations%s%n", contender, r.violations(),
                    r.stoppedCleanly() ? "" : "; a worker did not stop within 60 s and was interrupted");
        }
        System.out.printf(Locale.ROOT, "[contention] %-9s %-36s %7.0f acq/s  %7.0f handoffs/s  handoff wait p50 %7.1f µs p99 %8.1f µs  "
                        + "busiest %4.1f%%  failed lock() %d  violations %d%n",
                phase, contender, r.acquisitionsPerSecond(), r.handoffsPerSecond(), BenchSupport.micros(r.handoffWait(), 50),
                BenchSupport.micros(r.handoffWait(), 99), 100 * r.busiestShare(), r.failures(), r.violations());
    }

    // ------------------------------------------------------------------------------------------ (4) crowd

    /**
     * Twice: launched in batches of 1,000 (each batch settles before the next: the steady footprint of waiting),
     * then all at once (a thundering herd of first attempts on a 2-core machine, where node timeouts occur).
     */
    void runCrowd() throws Exception {
        for (int batch : new int[] {Math.min(1000, mode.crowdWaiters), mode.crowdWaiters}) {
            try (Redsync ours = oursOnClient(3)) {
                System.out.println("[crowd] " + mode.crowdWaiters + " coroutines awaitLock() on one held name, 3 nodes, notifications on, "
                        + "launched " + batch + " at a time");
                CrowdResult crowd = CoroutineDrivers.crowd(ours, "bench:crowd", mode.crowdWaiters, batch, 3, () -> lockCommands(3), 180_000,
                        System.out::println);
                crowds.add(crowd);
                System.out.printf(Locale.ROOT, "[crowd] heap after GC: before %.1f MB, waiting %.1f MB, after cancel %.1f MB; threads: before %d, "
                                + "waiting %d (new: %s), after %d; lock commands/s while waiting %.1f; cancel took %d ms%n",
                        mb(crowd.heapBefore), mb(crowd.heapWaiting), mb(crowd.heapAfter), crowd.threadsBefore, crowd.threadsWaiting,
                        crowd.newThreads, crowd.threadsAfter, crowd.commandsPerSecondWaiting, crowd.cancelMillis);
                if (!crowd.settled || crowd.acquiredWhileHeld > 0 || crowd.stillRunning > 0) {
                    problems = true;
                    System.out.println("WARNING: crowd: settled=" + crowd.settled + ", acquired while held=" + crowd.acquiredWhileHeld
                            + ", still running after cancel=" + crowd.stillRunning);
                }
            }
            checkKeys("crowd");
        }
    }

    static double mb(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }

    // ------------------------------------------------------------------------------------------ (6) hand-off crowds

    static final int HANDOFF_NAMES = 20;
    /** How long a crowd's holder keeps the lock; -Dbench.handoffHoldMs overrides it (partial runs). */
    static final long HANDOFF_HOLD_MILLIS = Long.getLong("bench.handoffHoldMs", 2);
    static final String HANDOFF_OURS = "redsync coroutines, 1 node";
    static final String HANDOFF_OURS3 = "redsync coroutines, 3 nodes";
    static final String HANDOFF_REDISSON = "Redisson RLock async, 1 node";
    /** How long a stopped crowd may take to end (redsync: cancel; Redisson: drain). */
    static final long HANDOFF_STOP_MILLIS = 60_000;
    /**
     * The probe's cycles before its baseline is measured, back to back and discarded: enough for the JIT to compile
     * its path (with a few hundred, its p99 alone was 3 to 7 ms; after the crowd, whose waiters use the same path,
     * 1.5 ms).
     */
    static final int PROBE_WARMUP_CYCLES = 20_000;
    /** redsync waiters: as many tries as it takes, within a minute, as Redisson's tryLockAsync(60 s) waits. */
    static final LockOptions HANDOFF_WAITING = LockOptions.builder().tries(100_000).acquireTimeout(java.time.Duration.ofSeconds(60)).build();

    void runHandoff() throws Exception {
        List<String> names = Handoff.names("bench:handoff:", HANDOFF_NAMES);
        List<String> contenders = new ArrayList<>(List.of(HANDOFF_OURS, HANDOFF_OURS3, HANDOFF_REDISSON));
        contenders.removeIf(c -> !selected(c));
        try (Redsync ours = oursOnClient(1); Redsync ours3 = oursOnClient(3)) {
            RedissonClient red = redisson(1).get(0);
            int round = 0;
            for (int waiters : mode.handoffCrowds) {
                for (String c : orderFor(contenders, round++)) {
                    Handoff.Recorder rec = new Handoff.Recorder(names.size());
                    Redsync mine = c.equals(HANDOFF_OURS3) ? ours3 : c.equals(HANDOFF_OURS) ? ours : null;
                    Handoff.Crowd crowd = mine != null ? new OursCrowd(mine, names, waiters, HANDOFF_HOLD_MILLIS, HANDOFF_WAITING, rec)
                            : Handoff.redisson(red, names, waiters, HANDOFF_HOLD_MILLIS, 60_000, rec);
                    Contenders.LockCycle probeCycle = mine != null ? Contenders.oursBlocking(mine) : Contenders.redissonLock(red);
                    Handoff.Result r = measureHandoff(c, waiters, names.size(), mine == ours3 ? 3 : 1, crowd, rec, probeCycle);
                    handoffs.add(r);
                    System.out.printf(Locale.ROOT, "[handoff] %,6d waiters %-30s %7.0f hand-offs/s  hand-off wait p50 %7.2f ms p99 %8.2f ms  "
                                    + "%6.1f Redis cmds/release (%s)  probe p99 %7.2f ms alone (%.2f before, %.2f after), %8.2f ms in the crowd (%d/%d failed)  gave up %d  errors %s  "
                                    + "floor probe p99 %.2f ms alone, %.2f ms in the crowd  violations %d  stop: %s  load %.2f  CPU µs per hand-off: %s%n",
                            waiters, c, r.handoffsPerSecond(), BenchSupport.micros(r.handoffWait(), 50) / 1000,
                            BenchSupport.micros(r.handoffWait(), 99) / 1000, r.commandsPerRelease(), r.topCommands(),
                            BenchSupport.micros(r.probeAlone(), 99) / 1000, r.probeBeforeP99Ms(), r.probeAfterP99Ms(),
                            BenchSupport.micros(r.probeCrowd(), 99) / 1000,
                            r.probeAloneFailures(), r.probeCrowdFailures(), r.gaveUp(), r.errors(),
                            BenchSupport.micros(r.floorAlone(), 99) / 1000, BenchSupport.micros(r.floorCrowd(), 99) / 1000,
                            r.violations(), r.stop(), r.load(), r.cpu());
                    if (r.violations() > 0) {
                        problems = true;
                        System.out.println("WARNING: handoff " + c + ": " + r.violations() + " mutual-exclusion violations");
                    }
                    awaitBaseline(Contenders.LEASE_MILLIS + 2000);
                    checkKeys("handoff " + c + " " + waiters);
                }
            }
        }
    }

    private Handoff.Result measureHandoff(String c, int waiters, int names, int nodes, Handoff.Crowd crowd, Handoff.Recorder rec,
                                          Contenders.LockCycle probeCycle) throws Exception {
        String probeName = "bench:handoff-probe";
        String floorName = "bench:handoff-floor-probe";
        // The floor probe: the same two round trips with raw Lettuce on the harness's own connections (same client,
        // so the same I/O threads), none of the contender's code in its path. Beside the contender's probe it says
        // how much of the probe's slowdown in the crowd the machine gives any two round trips.
        List<RedisAsyncCommands<String, String>> floorNodes = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            floorNodes.add(connections.get(i).async());
        }
        Contenders.LockCycle floorCycle = new Contenders.Floor(floorNodes, sha);
        double load = BenchSupport.loadAverage();
        // The probe alone: warmed first (its p99 alone was 0.65 ms in one run and 7 ms in another, depending on
        // what had run before it), then half its time right before the crowd and half right after it, into one
        // histogram: the baseline is then the same JVM's, not the state the previous workload left. Also its own
        // Redis commands per cycle.
        for (int i = 0; i < PROBE_WARMUP_CYCLES; i++) {
            probeCycle.cycle(probeName);
            floorCycle.cycle(floorName);
        }
        // Each probe's own Redis commands per cycle, counted with it running alone (these cycles are not recorded).
        long a0 = commandsServed(nodes);
        Handoff.Probe counted = new Handoff.Probe(probeCycle, probeName).start();
        Thread.sleep(mode.probeMs / 4);
        counted.stop();
        long a1 = commandsServed(nodes);
        double probeCommandsPerCycle = (double) (a1 - a0) / Math.max(1, counted.cycles);
        Handoff.Probe floorCounted = new Handoff.Probe(floorCycle, floorName).start();
        Thread.sleep(mode.probeMs / 4);
        floorCounted.stop();
        long a2 = commandsServed(nodes);
        double floorCommandsPerCycle = (double) (a2 - a1) / Math.max(1, floorCounted.cycles);
        // The baseline: both probes at once, as in the crowd.
        Handoff.Probe before = new Handoff.Probe(probeCycle, probeName).start();
        Handoff.Probe floorBefore = new Handoff.Probe(floorCycle, floorName).start();
        Thread.sleep(mode.probeMs / 2);
        before.stop();
        floorBefore.stop();

        crowd.start();
        Thread.sleep(mode.handoffWarmupMs);
        Handoff.Probe during = new Handoff.Probe(probeCycle, probeName).start();
        Handoff.Probe floorDuring = new Handoff.Probe(floorCycle, floorName).start();
        Map<String, Long> c0 = commandCalls(nodes);
        long probe0 = during.cycles;
        long floor0 = floorDuring.cycles;
        CpuUse cpu0 = CpuUse.now(redisCounters(nodes)[1] / 1e6);
        rec.openWindow();
        long t0 = System.nanoTime();
        Thread.sleep(mode.handoffMs);
        rec.closeWindow();
        long window = System.nanoTime() - t0;
        String cpu = CpuUse.supported() ? CpuUse.now(redisCounters(nodes)[1] / 1e6).perEvent(cpu0, rec.handoffs.sum()) : "not measured";
        long probe1 = during.cycles;
        long floor1 = floorDuring.cycles;
        Map<String, Long> c1 = commandCalls(nodes);
        during.stop();
        floorDuring.stop();
        String stop = crowd.stop(HANDOFF_STOP_MILLIS);
        Handoff.Probe after = new Handoff.Probe(probeCycle, probeName).start();
        Handoff.Probe floorAfter = new Handoff.Probe(floorCycle, floorName).start();
        Thread.sleep(mode.probeMs / 2);
        after.stop();
        floorAfter.stop();
        Histogram alone = before.latency.copy();
        alone.add(after.latency);
        Histogram floorAlone = floorBefore.latency.copy();
        floorAlone.add(floorAfter.latency);
        Map<String, Long> delta = new java.util.TreeMap<>();
        c1.forEach((k, v) -> {
            long d = v - c0.getOrDefault(k, 0L);
            if (d > 0 && !k.equals("info")) {
                delta.put(k, d);
            }
        });
        long commands = delta.values().stream().mapToLong(Long::longValue).sum();
        long releases = rec.releases.sum();
        String top = (releases == 0 ? "no release; in all: " : "") + delta.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(4)
                .map(e -> e.getKey().toUpperCase(Locale.ROOT) + " " + (releases == 0 ? Long.toString(e.getValue())
                        : BenchSupport.f1((double) e.getValue() / releases)))
                .collect(Collectors.joining(", "));
        return new Handoff.Result(c, waiters, names, HANDOFF_HOLD_MILLIS, window, rec.acquisitions.sum(), rec.handoffs.sum(),
                rec.releases.sum(), rec.handoffWait, commands, Math.round(probeCommandsPerCycle * (probe1 - probe0) + floorCommandsPerCycle * (floor1 - floor0)), top,
                rec.gaveUp.sum(), Handoff.snapshot(rec.errors), rec.violations.get(), alone, before.failures + after.failures,
                BenchSupport.micros(before.latency, 99) / 1000, BenchSupport.micros(after.latency, 99) / 1000,
                during.latency, during.failures, floorAlone, floorDuring.latency, stop, load, cpu);
    }

    /** Calls per command ("set", "evalsha", ...) the first {@code n} nodes have served so far (INFO commandstats), summed. */
    Map<String, Long> commandCalls(int n) {
        Map<String, Long> calls = new LinkedHashMap<>();
        for (int node = 0; node < n; node++) {
            for (String line : connections.get(node).sync().info("commandstats").split("\r?\n")) {
                if (line.startsWith("cmdstat_")) {
                    int at = line.indexOf("calls=");
                    calls.merge(line.substring("cmdstat_".length(), line.indexOf(':')),
                            Long.parseLong(line.substring(at + 6, line.indexOf(',', at))), Long::sum);
                }
            }
        }
        return calls;
    }

    /** All commands but INFO the first {@code n} nodes have served so far. */
    long commandsServed(int n) {
        return commandCalls(n).entrySet().stream().filter(e -> !e.getKey().equals("info")).mapToLong(Map.Entry::getValue).sum();
    }

    /** Waits (bounded) until the nodes hold their baseline keys again: leases of a killed or stopped client expire. */
    void awaitBaseline(long boundMillis) throws InterruptedException {
        long end = System.nanoTime() + boundMillis * 1_000_000;
        while (System.nanoTime() - end < 0) {
            boolean clean = true;
            for (int i = 0; i < connections.size(); i++) {
                clean &= connections.get(i).sync().dbsize() == baselineKeys[i];
            }
            if (clean) {
                return;
            }
            Thread.sleep(100);
        }
    }

    // ------------------------------------------------------------------------------------------ (7) bursts

    static final int BURST_NAMES = 20;
    static final long BURST_HOLD_MILLIS = 2;
    static final long BURST_BOUND_MILLIS = 60_000;

    void runBurst() throws Exception {
        List<String> contenders = new ArrayList<>(List.of(Burst.OURS, Burst.REDISSON));
        contenders.removeIf(c -> !selected(c));
        int round = 0;
        for (int calls : mode.bursts) {
            for (String c : orderFor(contenders, round++)) {
                System.out.printf(Locale.ROOT, "[burst] %,d simultaneous lock calls on %d names, %s, 1 node, child JVM -Xmx%s%n",
                        calls, BURST_NAMES, c, Burst.HEAP);
                Burst.Result r = Burst.run(c, uris.get(0), calls, BURST_NAMES, BURST_HOLD_MILLIS, BURST_BOUND_MILLIS);
                bursts.add(r);
                System.out.printf(Locale.ROOT, "[burst] %,6d calls %-24s %s: acquired %d, taken %d, errors %s; heap base %.1f MB, "
                                + "peak %.1f MB, live %.1f MB; all calls ended after %d ms; load %.2f%n",
                        calls, c, r.outcome(), r.acquired(), r.taken(), r.errors(), r.baseMb(), r.peakMb(), r.liveMb(),
                        r.settleMillis(), r.load());
                awaitBaseline(Contenders.LEASE_MILLIS + 2000);
                checkKeys("burst " + c + " " + calls);
            }
        }
    }
}
