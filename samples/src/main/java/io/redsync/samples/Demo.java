package io.redsync.samples;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.redsync.Lease;
import io.redsync.LeaseExpiredException;
import io.redsync.LeaseLostException;
import io.redsync.LockNotHeldException;
import io.redsync.LockOptions;
import io.redsync.Redsync;
import io.redsync.RetryDelay;
import io.redsync.testkit.RedisNode;
import io.redsync.testkit.RedisNodes;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * The first program to run. Several workers, each with its own {@link Redsync} as if each were a separate
 * process, take turns on ONE lock over 3 Redis nodes and increment a counter that nothing but the lock
 * protects (read, work, write: a broken lock would lose updates). Every lease carries a fencing token.
 * A third of the way through a node is killed (-9) and the lock keeps working on the majority; two thirds
 * through it comes back. Then a kept-alive lease is lost (another process deletes its keys) and the work
 * holding it is interrupted. It ends with a summary, a timeline picture, and exit code 0 only if the
 * counter is exact, no two critical sections overlapped, fencing tokens strictly increased in grant order,
 * and the lost lease interrupted its work.
 *
 * <pre>{@code mvn -q -pl samples -am test-compile exec:java                      # 3 local nodes
 * mvn -q -pl samples -am test-compile exec:java -Dexec.args=--nodes=5   # 5 local nodes, 2 killed}</pre>
 *
 * With {@code REDSYNC_NODES=redis://h1:6379,redis://h2:6379,redis://h3:6379} it runs against those nodes
 * instead, and kills none. Exit code: 0 when every check held, 1 when one failed, 2 when no Redis could be
 * started (it then says how to get one).
 */
public final class Demo {
    private static final String LOCK = "demo:counter";
    private static final String KEPT_LOCK = "demo:lease";
    private static final String PICTURE = "redsync-demo-timeline.png";

    /** One critical section, as its worker saw it. */
    record Section(int worker, long enteredNanos, long exitedNanos, long token, long waitedNanos) {
    }

    private final PrintStream out;
    private final int workers;
    private final int sectionsPerWorker;
    private final long minHoldNanos;
    private final long maxHoldNanos;
    private final Path pictureDir;

    private final AtomicInteger inside = new AtomicInteger();
    private final AtomicInteger overlapsSeenLive = new AtomicInteger();
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicInteger leasesLostToKill = new AtomicInteger();
    private final List<Section> sections = Collections.synchronizedList(new ArrayList<>());
    private final List<Timeline.Outage> outages = Collections.synchronizedList(new ArrayList<>());
    private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong killedAt = new AtomicLong();
    private volatile String killedLabel;
    private volatile List<RedisNode> killed = List.of();
    private long start;
    private Path picture;
    private long counter; // deliberately not atomic: only the distributed lock makes read + write safe

    Demo(PrintStream out, int workers, int sectionsPerWorker, Duration minHold, Duration maxHold, Path pictureDir) {
        this.out = out;
        this.workers = workers;
        this.sectionsPerWorker = sectionsPerWorker;
        this.minHoldNanos = minHold.toNanos();
        this.maxHoldNanos = maxHold.toNanos();
        this.pictureDir = pictureDir;
    }

    public static void main(String[] args) throws Exception {
        int nodeCount = intArg(args, "--nodes=", 3);
        int workers = intArg(args, "--workers=", 8);
        LocalNodes nodes;
        try {
            nodes = LocalNodes.fromEnvironmentOrStart(nodeCount);
        } catch (IllegalStateException e) {
            System.err.println("Cannot start local Redis nodes: " + e.getMessage());
            System.err.println();
            System.err.println(LocalNodes.HOW_TO_GET_REDIS);
            System.exit(2);
            return;
        }
        boolean ok;
        try (nodes) {
            String dir = System.getProperty("redsync.demo.dir", System.getProperty("java.io.tmpdir"));
            ok = new Demo(System.out, workers, 5, Duration.ofMillis(60), Duration.ofMillis(120), Path.of(dir)).run(nodes);
        }
        System.exit(ok ? 0 : 1);
    }

    /** Where the timeline was written, once {@link #run} has drawn it. */
    Optional<Path> picture() {
        return Optional.ofNullable(picture);
    }

    /** Runs the demo; returns whether every check held. */
    boolean run(LocalNodes nodes) throws Exception {
        List<String> uris = nodes.uris();
        int total = workers * sectionsPerWorker;
        int toKill = nodes.local().isPresent() ? (uris.size() - 1) / 2 : 0;
        out.printf("redsync demo: %d workers take turns on ONE lock '%s' over %d Redis nodes %s%n", workers, LOCK, uris.size(), uris);
        nodes.local().ifPresentOrElse(
                local -> out.printf("local redis-server %s (%s); set REDSYNC_NODES to use your own nodes%n",
                        RedisNodes.binary().version(), RedisNodes.binary().path()),
                () -> out.println("your nodes (REDSYNC_NODES): no node will be killed"));
        out.printf("each worker: lock, read the shared counter, work %d-%d ms, write counter + 1, unlock; %d times%n",
                minHoldNanos / 1_000_000, maxHoldNanos / 1_000_000, sectionsPerWorker);
        if (toKill > 0) {
            out.printf("after %d sections %s killed (kill -9), after %d restarted%n", total / 3, nodesLabel(uris.size(), toKill), 2 * total / 3);
        }
        out.println();

        LockOptions options = LockOptions.builder()
                .expiry(Duration.ofSeconds(2))
                .fencing(true)
                // Waiters wake when the holder releases (release notifications); this is only the fallback.
                .retryDelay(RetryDelay.uniform(Duration.ofMillis(20), Duration.ofMillis(60)))
                .tries(Integer.MAX_VALUE)
                .acquireTimeout(Duration.ofSeconds(30))
                .build();
        List<Redsync> clients = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            for (int i = 0; i < workers; i++) {
                Redsync client = Redsync.builder().uris(uris).defaults(options).build();
                clients.add(client);
                // Connected before the clock starts, so that the first grants do not include connecting
                // (with a 2 s expiry the node timeout is 100 ms, less than a cold JVM's first connection).
                client.lock("demo:warm-up:" + i).close();
            }
            start = System.nanoTime();
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                Redsync client = clients.get(i);
                int worker = i + 1;
                running.add(pool.submit(() -> work(worker, client, nodes, toKill, total)));
            }
            for (Future<?> f : running) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    failures.add("a worker failed: " + e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
            clients.forEach(Redsync::close);
        }
        double contentionSeconds = seconds(System.nanoTime());

        out.println();
        KeptLease kept = keepAndLose(uris);

        List<Section> inOrder = new ArrayList<>(sections);
        inOrder.sort(Comparator.comparingLong(Section::enteredNanos));
        int overlaps = Math.max(overlapsSeenLive.get(), overlapsIn(inOrder));
        boolean tokensIncrease = strictlyIncreasing(inOrder);
        long finalCounter = counter();
        double meanWaitMs = inOrder.stream().mapToLong(Section::waitedNanos).average().orElse(0) / 1e6;

        drawTimeline(inOrder, kept, uris.size(), overlaps, tokensIncrease);

        boolean keptOk = kept.lost() != null && kept.interruptedBeforeDeadline();
        boolean ok = finalCounter == total && sections.size() == total && overlaps == 0 && tokensIncrease && keptOk && failures.isEmpty();
        out.println();
        out.println("| check                                        | result        |");
        out.println("|----------------------------------------------|---------------|");
        row("critical sections", Integer.toString(sections.size()));
        row("shared counter (must equal the sections)", Long.toString(finalCounter) + (finalCounter == total ? "  ok" : "  WRONG"));
        row("overlapping critical sections", overlaps + (overlaps == 0 ? "  ok" : "  WRONG"));
        row("fencing tokens strictly increasing", inOrder.isEmpty() ? "-" : (tokensIncrease ? "yes, " + inOrder.get(0).token() + ".." + inOrder.get(inOrder.size() - 1).token() : "NO"));
        row("nodes killed / still a majority", toKill + " of " + uris.size() + (toKill > 0 ? " / yes" : ""));
        row("leases whose majority died with the node", Integer.toString(leasesLostToKill.get()));
        row("lost lease: work interrupted after", kept.lost() == null ? "NOT LOST" : String.format(Locale.ROOT, "%d ms%s", kept.reactionMillis(), keptOk ? "  ok" : "  LATE"));
        row("mean wait for the lock", String.format(Locale.ROOT, "%.0f ms", meanWaitMs));
        row("elapsed (contention + lease loss)", String.format(Locale.ROOT, "%.1f s + %.1f s", contentionSeconds, kept.seconds()));
        failures.forEach(f -> out.println("problem: " + f));
        out.println(ok
                ? "OK: the counter is exact, no two sections overlapped" + (toKill > 0 ? " (also with " + nodesLabel(uris.size(), toKill) + " down)" : "")
                        + ", tokens only went up, and the lost lease stopped its work."
                : "FAILED: see the table above.");
        picture().ifPresent(p -> out.println("timeline: " + p.toAbsolutePath()));
        return ok;
    }

    private void work(int worker, Redsync client, LocalNodes nodes, int toKill, int total) {
        for (int i = 0; i < sectionsPerWorker; i++) {
            long asked = System.nanoTime();
            int completed = 0;
            try (Lease lease = client.lock(LOCK)) {
                long entered = System.nanoTime();
                long token = lease.fencingToken().orElseThrow();
                out.printf("%s worker %d has the lock, fencing token %3d (waited %3d ms)%n",
                        stamp(entered), worker, token, (entered - asked) / 1_000_000);
                if (inside.incrementAndGet() != 1) {
                    overlapsSeenLive.incrementAndGet();
                }
                try {
                    long read = readCounter();
                    TimeUnit.NANOSECONDS.sleep(ThreadLocalRandom.current().nextLong(minHoldNanos, maxHoldNanos + 1));
                    writeCounter(read + 1); // lost update here if another worker was inside too
                    lease.checkValid();      // the work must not outrun the lease
                } finally {
                    inside.decrementAndGet();
                }
                sections.add(new Section(worker, entered, System.nanoTime(), token, entered - asked));
                completed = done.incrementAndGet();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (LeaseExpiredException | LockNotHeldException e) {
                // Thrown by the release (close): a lease held on a bare majority that included the killed
                // node is on a minority now, and another worker's failed attempt may briefly hold the key
                // elsewhere. Nobody else could hold a majority meanwhile, so the section itself was safe.
                leasesLostToKill.incrementAndGet();
                out.printf("%s worker %d: release found its lease no longer on a majority (%s)%n",
                        stamp(System.nanoTime()), worker, e.getClass().getSimpleName());
            }
            // Outside the lock: a restart can take longer than a lease.
            injectFault(completed, total, nodes, toKill);
        }
    }

    /** A third of the way through the last nodes die; two thirds through they come back (local nodes only). */
    private void injectFault(int completed, int total, LocalNodes nodes, int toKill) {
        if (toKill == 0) {
            return;
        }
        RedisNodes local = nodes.local().orElseThrow();
        int n = local.size();
        if (completed == total / 3) {
            List<RedisNode> victims = local.nodes().subList(n - toKill, n);
            victims.forEach(RedisNode::kill);
            killed = victims;
            killedAt.set(System.nanoTime());
            killedLabel = nodesLabel(n, toKill);
            out.printf("%s %s killed (kill -9): %d of %d nodes left, still a majority%n", stamp(System.nanoTime()), killedLabel, n - toKill, n);
        } else if (completed == 2 * total / 3) {
            killed.forEach(RedisNode::restart);
            long up = System.nanoTime();
            outages.add(new Timeline.Outage(killedLabel + " down", seconds(killedAt.get()), seconds(up)));
            out.printf("%s %s restarted (empty: no persistence)%n", stamp(up), killedLabel);
        }
    }

    /** The outcome of the lease-loss act. */
    private record KeptLease(long acquiredAt, long deletedAt, long believedDeadline, long interruptedAt,
                             LeaseLostException lost, double seconds) {
        long reactionMillis() {
            return (interruptedAt - deletedAt) / 1_000_000;
        }

        boolean interruptedBeforeDeadline() {
            return interruptedAt > 0 && interruptedAt < believedDeadline;
        }
    }

    /**
     * A worker holds a lock with a 1 s expiry inside {@code executeLocked}, which keeps the lease alive.
     * After 1.2 s another process deletes the keys; the next extension is refused, the lease is declared
     * lost, the worker is interrupted, and {@code executeLocked} throws {@link LeaseLostException}.
     */
    private KeptLease keepAndLose(List<String> uris) throws Exception {
        long began = System.nanoTime();
        // Kept alive every third of the expiry (333 ms); declared lost a tenth of it (100 ms) before the deadline.
        LockOptions options = LockOptions.builder().expiry(Duration.ofSeconds(1)).build();
        AtomicReference<Lease> held = new AtomicReference<>();
        AtomicLong acquiredAt = new AtomicLong();
        AtomicLong interruptedAt = new AtomicLong();
        CountDownLatch working = new CountDownLatch(1);
        ExecutorService thread = Executors.newSingleThreadExecutor();
        RedisClient intruder = RedisClient.create();
        try (Redsync keeper = Redsync.builder().uris(uris).defaults(options).build()) {
            List<StatefulRedisConnection<String, String>> connections = new ArrayList<>();
            for (String uri : uris) {
                connections.add(intruder.connect(RedisURI.create(uri)));
            }
            Future<LeaseLostException> outcome = thread.submit(() -> {
                try {
                    keeper.executeLocked(KEPT_LOCK, lease -> {
                        acquiredAt.set(System.nanoTime());
                        held.set(lease);
                        working.countDown();
                        try {
                            while (true) {
                                TimeUnit.MILLISECONDS.sleep(20); // a long job, one step at a time
                            }
                        } catch (InterruptedException e) {
                            interruptedAt.set(System.nanoTime()); // the lease was lost: stop at once
                            throw e;
                        }
                    });
                    return null;
                } catch (LeaseLostException e) {
                    return e;
                }
            });
            if (!working.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the keeper did not get its lock");
            }
            out.printf("%s keeper holds '%s' with a 1 s expiry inside executeLocked, which keeps the lease alive%n",
                    stamp(acquiredAt.get()), KEPT_LOCK);
            TimeUnit.MILLISECONDS.sleep(1200);
            long believedDeadline = System.nanoTime() + held.get().remaining().toNanos();
            connections.forEach(c -> c.sync().del(KEPT_LOCK));
            long deletedAt = System.nanoTime();
            out.printf("%s another process deletes the lock's keys on every node (the lease, extended %s, believes it has %d ms left)%n",
                    stamp(deletedAt), String.format(Locale.ROOT, "%.1f s", (deletedAt - acquiredAt.get()) / 1e9),
                    (believedDeadline - deletedAt) / 1_000_000);
            LeaseLostException lost = outcome.get(10, TimeUnit.SECONDS);
            KeptLease result = new KeptLease(acquiredAt.get(), deletedAt, believedDeadline, interruptedAt.get(), lost,
                    (System.nanoTime() - began) / 1e9);
            if (lost == null) {
                failures.add("the lease whose keys were deleted was not reported lost");
            } else {
                out.printf("%s keeper interrupted %d ms later, before its validity ran out: %s: %s%n",
                        stamp(interruptedAt.get()), result.reactionMillis(), lost.getClass().getSimpleName(), lost.getMessage());
            }
            connections.forEach(StatefulRedisConnection::close);
            return result;
        } finally {
            thread.shutdownNow();
            intruder.shutdown();
        }
    }

    private void drawTimeline(List<Section> inOrder, KeptLease kept, int nodeCount, int overlaps, boolean tokensIncrease) {
        List<Timeline.Bar> bars = inOrder.stream()
                .map(s -> new Timeline.Bar(s.worker(), seconds(s.enteredNanos()), seconds(s.exitedNanos()), s.token()))
                .collect(Collectors.toList());
        Timeline.LostLease lost = kept.lost() == null ? null : new Timeline.LostLease(seconds(kept.acquiredAt()),
                seconds(kept.deletedAt()), seconds(kept.interruptedAt()), seconds(kept.believedDeadline()), kept.lost().reason().name());
        String title = String.format(Locale.ROOT, "redsync demo: %d workers, one lock, %d Redis nodes - %d critical sections, %s, fencing tokens %s",
                workers, nodeCount, inOrder.size(), overlaps == 0 ? "no two overlap" : overlaps + " OVERLAP",
                tokensIncrease ? "only go up" : "NOT increasing");
        try {
            System.setProperty("java.awt.headless", "true");
            picture = Timeline.write(pictureDir.resolve(PICTURE), title, workers, bars, outages, lost);
        } catch (Exception | LinkageError e) {
            // A picture is a bonus: a machine without fonts must not fail the demo's checks.
            out.println("could not draw the timeline (" + e + "); the checks below do not depend on it");
        }
    }

    private static int overlapsIn(List<Section> inOrder) {
        int overlaps = 0;
        for (int i = 1; i < inOrder.size(); i++) {
            if (inOrder.get(i).enteredNanos() <= inOrder.get(i - 1).exitedNanos()) {
                overlaps++;
            }
        }
        return overlaps;
    }

    private static boolean strictlyIncreasing(List<Section> inOrder) {
        for (int i = 1; i < inOrder.size(); i++) {
            if (inOrder.get(i).token() <= inOrder.get(i - 1).token()) {
                return false;
            }
        }
        return true;
    }

    private void row(String check, String result) {
        out.printf(Locale.ROOT, "| %-44s | %-13s |%n", check, result);
    }

    private static String nodesLabel(int nodeCount, int toKill) {
        if (toKill == 1) {
            return "node " + (nodeCount - 1);
        }
        StringBuilder s = new StringBuilder("nodes ");
        for (int i = nodeCount - toKill; i < nodeCount; i++) {
            s.append(i).append(i < nodeCount - 1 ? ", " : "");
        }
        return s.toString();
    }

    private static int intArg(String[] args, String prefix, int otherwise) {
        for (String arg : args) {
            if (arg.startsWith(prefix)) {
                return Integer.parseInt(arg.substring(prefix.length()));
            }
        }
        return otherwise;
    }

    // Plain read and write, split on purpose: the lock, not the JVM, must make read + write atomic.
    // (synchronized only publishes the value between threads; it does not make the pair atomic.)
    private synchronized long readCounter() {
        return counter;
    }

    private synchronized void writeCounter(long value) {
        counter = value;
    }

    private synchronized long counter() {
        return counter;
    }

    private double seconds(long nanos) {
        return (nanos - start) / 1e9;
    }

    private String stamp(long nanos) {
        return String.format(Locale.ROOT, "[%5.2fs]", seconds(nanos));
    }
}
