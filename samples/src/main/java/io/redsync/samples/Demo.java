package io.redsync.samples;

import io.redsync.Lease;
import io.redsync.LeaseExpiredException;
import io.redsync.LockNotHeldException;
import io.redsync.LockOptions;
import io.redsync.Redsync;
import io.redsync.RetryDelay;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The first program to run: several workers, each with its own {@link Redsync} as if each were a separate
 * process, take turns on ONE lock over 3 Redis nodes and increment a counter that nothing but the lock
 * protects. Midway one node is killed (-9): the lock keeps working on the majority; then it comes back.
 * At the end the counter must equal the number of critical sections and no two sections may overlap.
 *
 * <pre>{@code mvn -q -pl samples -am compile exec:java}</pre>
 *
 * With {@code REDSYNC_NODES=redis://h1:6379,redis://h2:6379,redis://h3:6379} it runs against those nodes
 * instead (and kills none).
 */
public final class Demo {
    private static final String LOCK = "demo:counter";

    private final PrintStream out;
    private final int workers;
    private final int sectionsPerWorker;
    private final AtomicInteger inside = new AtomicInteger();
    private final AtomicInteger overlaps = new AtomicInteger();
    private final AtomicInteger sections = new AtomicInteger();
    private final AtomicLong waitedNanos = new AtomicLong();
    private final AtomicInteger lostLeases = new AtomicInteger();
    private final AtomicLong lastExitNanos = new AtomicLong();
    private volatile boolean nodeKilled;
    private long counter; // deliberately unsynchronised: only the distributed lock protects it

    Demo(PrintStream out, int workers, int sectionsPerWorker) {
        this.out = out;
        this.workers = workers;
        this.sectionsPerWorker = sectionsPerWorker;
    }

    public static void main(String[] args) throws Exception {
        LocalNodes nodes;
        try {
            nodes = LocalNodes.fromEnvironmentOrStart(3);
        } catch (IllegalStateException e) {
            System.err.println("Cannot start local Redis nodes: " + e.getMessage());
            System.err.println("Install one (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis),");
            System.err.println("or point the demo at running nodes: REDSYNC_NODES=redis://host1:6379,redis://host2:6379,redis://host3:6379");
            System.err.println("(with Docker: docker run -d -p 6379:6379 redis:7 for each node, on different ports).");
            System.exit(1);
            return;
        }
        try (nodes) {
            boolean ok = new Demo(System.out, 8, 40).run(nodes);
            System.exit(ok ? 0 : 1);
        }
    }

    /** Runs the demo; returns whether every check held. */
    boolean run(LocalNodes nodes) throws Exception {
        out.printf("redsync demo: %d workers, one lock '%s', %d nodes %s%n", workers, LOCK, nodes.uris().size(), nodes.uris());
        if (nodes.local().isPresent()) {
            var binary = io.redsync.testkit.RedisNodes.binary();
            out.printf("local nodes run redis-server %s from %s (%s); set REDSYNC_NODES to use your own%n",
                    binary.version(), binary.source(), binary.path());
        }
        LockOptions options = LockOptions.builder()
                .expiry(Duration.ofSeconds(2))
                // Quick retries: every worker wants the same lock all the time.
                .retryDelay(RetryDelay.uniform(Duration.ofMillis(1), Duration.ofMillis(10)))
                .tries(Integer.MAX_VALUE)
                .acquireTimeout(Duration.ofSeconds(30))
                .build();
        int total = workers * sectionsPerWorker;
        List<Redsync> clients = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        long start = System.nanoTime();
        try {
            for (int i = 0; i < workers; i++) {
                clients.add(Redsync.builder().uris(nodes.uris()).defaults(options).build());
            }
            List<Future<?>> running = new ArrayList<>();
            for (Redsync client : clients) {
                running.add(pool.submit(() -> work(client, nodes, total, start)));
            }
            while (!running.stream().allMatch(Future::isDone)) {
                out.printf("%s %3d/%d critical sections, counter %d%n", stamp(start), sections.get(), total, counter());
                TimeUnit.MILLISECONDS.sleep(250); // progress display only
            }
            for (Future<?> f : running) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
            clients.forEach(Redsync::close);
        }
        long elapsed = System.nanoTime() - start;
        boolean exact = counter() == total;
        out.println();
        out.println("| check                        | result |");
        out.println("|------------------------------|--------|");
        out.printf(Locale.ROOT, "| critical sections            | %6d |%n", sections.get());
        out.printf(Locale.ROOT, "| counter (unsynchronised)     | %6d |%n", counter());
        out.printf(Locale.ROOT, "| overlapping sections         | %6d |%n", overlaps.get());
        out.printf(Locale.ROOT, "| leases lost to the restart   | %6d |%n", lostLeases.get());
        out.printf(Locale.ROOT, "| mean wait for the lock, ms   | %6.1f |%n", waitedNanos.get() / 1e6 / Math.max(1, sections.get()));
        out.printf(Locale.ROOT, "| elapsed, s                   | %6.1f |%n", elapsed / 1e9);
        boolean ok = exact && overlaps.get() == 0;
        out.println(ok ? "OK: mutual exclusion held on every section" + (nodeKilled ? ", also while a node was down." : ".")
                : "FAILED: the lock did not exclude (counter " + counter() + " of " + total + ", overlaps " + overlaps.get() + ")");
        return ok;
    }

    private synchronized long counter() {
        return counter;
    }

    private void work(Redsync client, LocalNodes nodes, int total, long start) {
        for (int i = 0; i < sectionsPerWorker; i++) {
            long asked = System.nanoTime();
            int done = 0;
            try (Lease lease = client.lock(LOCK)) {
                long entered = System.nanoTime();
                waitedNanos.addAndGet(entered - asked);
                if (inside.incrementAndGet() != 1 || entered <= lastExitNanos.get()) {
                    overlaps.incrementAndGet();
                }
                long read = readCounter();
                Thread.yield(); // a broken lock would lose updates here
                writeCounter(read + 1);
                lease.checkValid();
                inside.decrementAndGet();
                lastExitNanos.set(System.nanoTime());
                done = sections.incrementAndGet();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (LeaseExpiredException | LockNotHeldException e) {
                // Thrown by the release: a lease held on a bare majority that included the killed node is
                // no longer on a majority after that node restarts empty. Redlock's documented caveat:
                // restart nodes only after the longest TTL, or with fsync'd persistence.
                lostLeases.incrementAndGet();
                out.println("release found the lease lost (a node restarted empty): " + e.getMessage());
            }
            // Outside the lock: a restart can take longer than the lease, and the lease would be lost.
            if (done > 0) {
                injectFault(done, total, nodes, start);
            }
        }
    }

    /** A third of the way through node 2 dies; two thirds through it comes back (local nodes only). */
    private void injectFault(int done, int total, LocalNodes nodes, long start) {
        if (nodes.local().isEmpty()) {
            return;
        }
        if (done == total / 3) {
            nodes.node(2).orElseThrow().kill();
            nodeKilled = true;
            out.printf("%s node 2 killed (kill -9): 2 of 3 nodes left, still a majority%n", stamp(start));
        } else if (done == 2 * total / 3) {
            nodes.node(2).orElseThrow().restart();
            out.printf("%s node 2 restarted%n", stamp(start));
        }
    }

    // Plain reads and writes, split on purpose: the lock, not the JVM, must make the increment atomic.
    // (synchronized only publishes the value to the progress printer; it does not make read+write atomic.)
    private synchronized long readCounter() {
        return counter;
    }

    private synchronized void writeCounter(long value) {
        counter = value;
    }

    private static String stamp(long start) {
        return String.format(Locale.ROOT, "[%5.1fs]", (System.nanoTime() - start) / 1e9);
    }
}
