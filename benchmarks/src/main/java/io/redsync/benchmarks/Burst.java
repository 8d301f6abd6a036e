package io.redsync.benchmarks;

import com.sun.management.GarbageCollectionNotificationInfo;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.redsync.QuorumException;
import io.redsync.LockTakenException;
import io.redsync.NodeException;
import io.redsync.Redsync;
import org.redisson.api.RLock;
import org.redisson.api.RedissonClient;

import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * Workload 7 (issue 18): a burst of simultaneous lock calls on a few names, in a child JVM with a small heap
 * ({@code -Xmx256m}, {@code -XX:+ExitOnOutOfMemoryError}), so that running out of memory is a result of the
 * workload, not the end of the suite. The child ({@link #main}) prints progress lines while the calls run and
 * a result line at the end; the parent ({@link #run}) reads them and, when the child died, reports why with
 * the last progress it printed.
 */
public final class Burst {
    static final String OURS = "redsync coroutines";
    static final String REDISSON = "Redisson RLock (async)";
    static final String HEAP = "256m";

    private Burst() {
    }

    /** What one burst did, as the parent saw it. */
    record Result(String contender, int calls, String outcome, long acquired, long taken, Map<String, Long> errors,
                  double baseMb, double peakMb, double liveMb, long settleMillis, double load) {
        long errorCount() {
            return errors.values().stream().mapToLong(Long::longValue).sum();
        }

        boolean completed() {
            return outcome.equals("completed");
        }
    }

    // ------------------------------------------------------------------------------------------ parent side

    /** Runs one burst in a child JVM; never throws for what happens inside the child. */
    static Result run(String contender, String uri, int calls, int names, long holdMillis, long boundMillis) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx" + HEAP);
        command.add("-XX:+ExitOnOutOfMemoryError");
        command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        command.add("-cp");
        command.add(classPath());
        command.add(Burst.class.getName());
        command.addAll(List.of(contender, uri, Integer.toString(calls), Integer.toString(names), Long.toString(holdMillis),
                Long.toString(boundMillis)));
        double load = BenchSupport.loadAverage();
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(line);
                    }
                    if (line.startsWith("RESULT") || line.contains("OutOfMemoryError") || line.startsWith("ERROR")) {
                        System.out.println("  [child] " + line);
                    }
                }
            } catch (Exception ignored) {
                // the child died; what it printed is in lines
            }
        }, "burst-reader");
        reader.setDaemon(true);
        reader.start();
        boolean ended = child.waitFor(boundMillis + 90_000, TimeUnit.MILLISECONDS);
        if (!ended) {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        reader.join(5_000);
        List<String> out;
        synchronized (lines) {
            out = new ArrayList<>(lines);
        }
        String last = null;
        String result = null;
        Map<String, Long> errors = new TreeMap<>();
        boolean oom = false;
        for (String line : out) {
            if (line.startsWith("PROGRESS ")) {
                last = line;
            } else if (line.startsWith("RESULT ")) {
                result = line;
            } else if (line.startsWith("ERROR ")) {
                String[] p = line.split(" ", 3);
                errors.put(p[2], Long.parseLong(p[1]));
            } else if (line.contains("OutOfMemoryError")) {
                oom = true;
            }
        }
        String outcome;
        if (result != null) {
            outcome = "completed";
        } else if (oom) {
            outcome = "OutOfMemoryError";
        } else if (!ended) {
            outcome = "killed: no result within " + (boundMillis + 90_000) / 1000 + " s";
        } else {
            outcome = "child exited " + child.exitValue() + " without a result";
            out.stream().skip(Math.max(0, out.size() - 15)).forEach(l -> System.out.println("  [child] " + l));
        }
        Map<String, String> v = fields(result != null ? result : last);
        if (result == null && num(v, "errors") > 0) {
            errors.put("errors of unknown type (the child died before listing them)", num(v, "errors"));
        }
        return new Result(contender, calls, outcome, num(v, "acquired"), num(v, "taken"), errors, dbl(v, "baseMb"),
                dbl(v, "peakMb"), dbl(v, "liveMb"), num(v, "settleMs"), load);
    }

    private static Map<String, String> fields(String line) {
        Map<String, String> m = new TreeMap<>();
        if (line != null) {
            for (String kv : line.substring(line.indexOf(' ') + 1).split(" ")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    m.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
        }
        return m;
    }

    private static long num(Map<String, String> v, String k) {
        return v.containsKey(k) ? Long.parseLong(v.get(k)) : -1;
    }

    private static double dbl(Map<String, String> v, String k) {
        return v.containsKey(k) ? Double.parseDouble(v.get(k)) : Double.NaN;
    }

    /** This module's class path: exec:java loads it in a URLClassLoader of its own, not on java.class.path. */
    static String classPath() throws Exception {
        if (Burst.class.getClassLoader() instanceof URLClassLoader u) {
            List<String> parts = new ArrayList<>();
            for (URL url : u.getURLs()) {
                parts.add(Path.of(url.toURI()).toString());
            }
            if (!parts.isEmpty()) {
                return String.join(File.pathSeparator, parts);
            }
        }
        return System.getProperty("java.class.path");
    }

    // ------------------------------------------------------------------------------------------ child side

    /** Outcomes of the burst's calls, by kind; errors by type. */
    public static final class Outcomes {
        final LongAdder acquired = new LongAdder();
        final LongAdder taken = new LongAdder();
        final Map<String, LongAdder> errors = new ConcurrentHashMap<>();

        public void acquired() {
            acquired.increment();
        }

        public void taken() {
            taken.increment();
        }

        public void error(String type) {
            errors.computeIfAbsent(type, t -> new LongAdder()).increment();
        }

        long errorCount() {
            return errors.values().stream().mapToLong(LongAdder::sum).sum();
        }
    }

    private static final Set<String> FIRST_SEEN = ConcurrentHashMap.newKeySet();

    /**
     * The type of a failure as the report shows it: the exception's simple name; for an acquisition that failed
     * for another reason than "taken", with the distinct causes of its node errors.
     */
    public static String errorType(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        String type = t.getClass().getSimpleName();
        if (t instanceof QuorumException q && !(t instanceof LockTakenException)) {
            Set<String> causes = new TreeSet<>();
            for (NodeException n : q.votes().errors()) {
                causes.add(n.getCause() == null ? n.reason().name() : n.getCause().getClass().getSimpleName());
            }
            if (!q.votes().absent().isEmpty()) {
                causes.add("key absent");
            }
            if (!q.votes().heldByOthers().isEmpty()) {
                causes.add("held by another owner");
            }
            type += causes.isEmpty() ? "" : " (" + String.join(", ", causes) + ")";
        }
        if (FIRST_SEEN.add(type)) {
            System.out.println("first " + type + ": " + String.valueOf(t.getMessage()).lines().findFirst().orElse(""));
        }
        return type;
    }

    /** Heap watch: sampled use, and what each GC found before and left after. */
    static final class Memory {
        final AtomicLong peak = new AtomicLong();
        final AtomicLong maxAfterFullGc = new AtomicLong();
        final Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName).collect(Collectors.toSet());

        void listen() {
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                ((NotificationEmitter) gc).addNotificationListener((n, h) -> {
                    if (!n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
                        return;
                    }
                    GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
                    peak.accumulateAndGet(heap(info.getGcInfo().getMemoryUsageBeforeGc()), Math::max);
                }, null, null);
            }
        }

        long heap(Map<String, MemoryUsage> pools) {
            long sum = 0;
            for (Map.Entry<String, MemoryUsage> e : pools.entrySet()) {
                if (heapPools.contains(e.getKey())) {
                    sum += e.getValue().getUsed();
                }
            }
            return sum;
        }

        long sample() {
            long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            peak.accumulateAndGet(used, Math::max);
            return used;
        }

        /** A full GC now; what it left is live. */
        long live() {
            System.gc();
            long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            maxAfterFullGc.accumulateAndGet(used, Math::max);
            return used;
        }
    }

    /** Child: {@code contender uri calls names holdMillis boundMillis}. */
    public static void main(String[] args) throws Exception {
        String contender = args[0];
        String uri = args[1];
        int calls = Integer.parseInt(args[2]);
        List<String> names = Handoff.names("bench:burst:", Integer.parseInt(args[3]));
        long hold = Long.parseLong(args[4]);
        long bound = Long.parseLong(args[5]);
        Outcomes out = new Outcomes();
        Memory memory = new Memory();
        memory.listen();
        ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor(Contenders.platformThreads("burst-watch"));
        long[] startNanos = {0};
        long[] base = {0};
        Runnable begin = () -> {
            base[0] = memory.live();
            memory.peak.set(base[0]);
            memory.maxAfterFullGc.set(0);
            startNanos[0] = System.nanoTime();
            watch.scheduleAtFixedRate(memory::sample, 10, 10, TimeUnit.MILLISECONDS);
            // While every call is in flight: what the calls keep alive.
            watch.schedule(memory::live, 1000, TimeUnit.MILLISECONDS);
            watch.schedule(memory::live, 3000, TimeUnit.MILLISECONDS);
            watch.scheduleAtFixedRate(() -> System.out.println("PROGRESS " + fields(out, memory, base[0], startNanos[0])),
                    250, 250, TimeUnit.MILLISECONDS);
        };
        if (contender.equals(OURS)) {
            RedisClient client = RedisClient.create();
            try (Redsync redsync = Redsync.builder().node(client, RedisURI.create(uri)).build()) {
                for (int i = 0; i < 20; i++) {
                    redsync.mutex("bench:burst:warm").lock().release();
                }
                begin.run();
                int running = CrowdDrivers.burstOurs(redsync, names, calls, hold, out, bound);
                if (running > 0) {
                    out.errors.computeIfAbsent("still running at the bound (cancelled)", t -> new LongAdder()).add(running);
                }
            } finally {
                client.shutdown();
            }
        } else if (contender.equals(REDISSON)) {
            RedissonClient client = Suite.redissonClient(uri);
            try {
                RLock warm = client.getLock("bench:burst:warm");
                for (int i = 0; i < 20; i++) {
                    warm.lock(Contenders.LEASE_MILLIS, TimeUnit.MILLISECONDS);
                    warm.unlock();
                }
                begin.run();
                burstRedisson(client, names, calls, hold, out, bound);
            } finally {
                client.shutdown();
            }
        } else {
            throw new IllegalArgumentException("contender must be '" + OURS + "' or '" + REDISSON + "', was '" + contender + "'");
        }
        long settle = (System.nanoTime() - startNanos[0]) / 1_000_000;
        watch.shutdownNow();
        memory.sample();
        out.errors.forEach((type, n) -> System.out.println("ERROR " + n.sum() + " " + type.replace('\n', ' ')));
        System.out.println("RESULT " + fields(out, memory, base[0], startNanos[0]) + " settleMs=" + settle);
        System.out.flush();
        System.exit(0);
    }

    private static String fields(Outcomes out, Memory memory, long base, long start) {
        return String.format(java.util.Locale.ROOT, "acquired=%d taken=%d errors=%d baseMb=%.1f peakMb=%.1f liveMb=%.1f elapsedMs=%d",
                out.acquired.sum(), out.taken.sum(), out.errorCount(), Suite.mb(base), Suite.mb(memory.peak.get()),
                Suite.mb(memory.maxAfterFullGc.get()), (System.nanoTime() - start) / 1_000_000);
    }

    /**
     * Redisson: {@code tryLockAsync(wait 5 s, lease 8 s, threadId)} per call, one synthetic thread id each (no
     * thread parked per call); 5 s is about what redsync's defaults wait in all (32 tries, 50-250 ms apart).
     * {@code false} (the wait ended) counts as "taken".
     */
    private static void burstRedisson(RedissonClient client, List<String> names, int calls, long hold, Outcomes out, long bound)
            throws InterruptedException {
        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, Contenders.platformThreads("burst-redisson"));
        CountDownLatch done = new CountDownLatch(calls);
        for (int i = 0; i < calls; i++) {
            RLock lock = client.getLock(names.get(i % names.size()));
            long threadId = 1_000_000_000L + i;
            lock.tryLockAsync(5000, Contenders.LEASE_MILLIS, TimeUnit.MILLISECONDS, threadId).whenComplete((ok, e) -> {
                if (e != null) {
                    out.error(errorType(e));
                    done.countDown();
                } else if (!ok) {
                    out.taken();
                    done.countDown();
                } else {
                    out.acquired();
                    scheduler.schedule(() -> lock.unlockAsync(threadId).whenComplete((v, f) -> {
                        if (f != null) {
                            out.error("release: " + errorType(f));
                        }
                        done.countDown();
                    }), hold, TimeUnit.MILLISECONDS);
                }
            });
        }
        if (!done.await(bound, TimeUnit.MILLISECONDS)) {
            out.errors.computeIfAbsent("still running at the bound", t -> new LongAdder()).add(done.getCount());
        }
        scheduler.shutdownNow();
    }
}
