package io.redsync.samples;

import io.redsync.Lease;
import io.redsync.Leadership;
import io.redsync.LockOptions;
import io.redsync.Redsync;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Leader election: every instance of a service runs a {@link Leadership} for the same name, and exactly one
 * of them, the leader, does the work that must not run twice at once (a scheduler, a queue consumer that
 * needs order, a cache warmer). When the leader dies, stalls or loses its lease, another takes over.
 *
 * <p>Run one instance per process, against shared nodes, the way a fleet does:
 * <pre>{@code REDSYNC_NODES=redis://a:6379,redis://b:6379,redis://c:6379 \
 *   java -cp ... io.redsync.samples.LeaderElection --instance}</pre>
 * Each instance prints what it does, one line per event, with this machine's monotonic clock
 * ({@link System#nanoTime()}, shared by every process on it), so that the lines of several processes can be
 * merged into one history and checked for two leaders at once (samples' LeaderElectionSpec does):
 * <pre>
 * elected &lt;instance&gt; &lt;nanos&gt; &lt;fencing token&gt;
 * use &lt;instance&gt; &lt;nanos&gt; &lt;validity deadline, nanos&gt;   (after a validity check that passed)
 * lost &lt;instance&gt; &lt;nanos&gt;                            (leadership lost; the work was interrupted)
 * ended &lt;instance&gt; &lt;nanos&gt;                           (the work stopped; the lease is released next)
 * </pre>
 * Without {@code --instance} it runs three instances in one JVM on local nodes and stops the leader twice:
 * <pre>{@code mvn -q -pl samples -am test-compile exec:java -Dexec.mainClass=io.redsync.samples.LeaderElection}</pre>
 */
public final class LeaderElection {
    static final String NAME = "leader";

    /**
     * The leader's lease: 3 s, so a dead leader blocks a takeover for at most 3 s. It is extended every
     * second while the work runs and declared lost 300 ms before its deadline if extending fails.
     */
    static final LockOptions OPTIONS = LockOptions.builder()
            .expiry(Duration.ofSeconds(3))
            .nodeTimeout(Duration.ofSeconds(1)) // generous: a loaded machine must not cost the leader its lease
            .fencing(true)
            .build();

    private LeaderElection() {
    }

    /** Builds (not starts) one instance's leadership, reporting its events to {@code out}. */
    static Leadership candidate(Redsync redsync, String instance, PrintStream out) {
        return Leadership.builder(redsync, NAME)
                .options(OPTIONS)
                .threadFactory(r -> {
                    Thread thread = new Thread(r, "leadership-" + instance);
                    thread.setDaemon(true);
                    return thread;
                })
                .listener(new Leadership.Listener() {
                    @Override
                    public void elected(Lease lease) {
                        print(out, "elected " + instance + " " + System.nanoTime() + " " + lease.fencingToken().orElse(-1));
                    }

                })
                .build(lease -> lead(lease, instance, out));
    }

    /** The leader's work: a step every 100 ms, each after checking that the lease is still valid. */
    private static void lead(Lease lease, String instance, PrintStream out) throws InterruptedException {
        lease.onLost(loss -> print(out, "lost " + instance + " " + System.nanoTime())); // then the work is interrupted
        try {
            while (true) {
                long at = System.nanoTime(); // before the check: a step judged late was late when checked
                if (!lease.isValid()) {
                    return; // never step on after the validity ended: step down and compete again
                }
                long remaining = lease.remaining().toNanos();
                print(out, "use " + instance + " " + at + " " + (System.nanoTime() + remaining));
                TimeUnit.MILLISECONDS.sleep(100); // the step; interrupted when leadership is lost or stopped
            }
        } finally {
            print(out, "ended " + instance + " " + System.nanoTime());
        }
    }

    private static void print(PrintStream out, String line) {
        synchronized (out) {
            out.println(line);
            out.flush(); // a killed process must not lose its last lines
        }
    }

    public static void main(String[] args) throws Exception {
        if (List.of(args).contains("--instance")) {
            instance();
        } else {
            try (LocalNodes nodes = LocalNodes.fromEnvironmentOrStart(3)) {
                demo(nodes.uris());
            }
        }
    }

    /** One member of a fleet, in its own process; runs until killed, or stops when its parent process dies. */
    private static void instance() throws InterruptedException {
        List<String> uris = LocalNodes.configured();
        if (uris.isEmpty()) {
            throw new IllegalStateException("--instance needs REDSYNC_NODES: the instances of a fleet must share their nodes");
        }
        String me = "pid" + ProcessHandle.current().pid();
        Redsync redsync = Redsync.create(uris);
        Leadership leadership = candidate(redsync, me, System.out);
        CountDownLatch stopped = new CountDownLatch(1);
        // SIGTERM (a normal shutdown): step down, so that another instance takes over at once.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            leadership.close();
            redsync.close();
            stopped.countDown();
        }));
        leadership.start();
        ProcessHandle parent = ProcessHandle.current().parent().orElse(null);
        while (!stopped.await(500, TimeUnit.MILLISECONDS)) {
            if (parent != null && !parent.isAlive()) {
                System.exit(0); // orphaned (the test run was aborted): leave no instance behind
            }
        }
    }

    /** Three instances in this JVM: the leader steps down twice, and each time another takes over. */
    static void demo(List<String> uris) throws InterruptedException {
        List<String> names = List.of("east", "west", "north");
        List<Redsync> instances = names.stream().map(n -> Redsync.create(uris)).toList();
        List<Leadership> leaderships = new java.util.ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            leaderships.add(candidate(instances.get(i), names.get(i), System.out));
        }
        try {
            leaderships.forEach(Leadership::start);
            for (int round = 0; round < 2; round++) {
                Leadership leader = awaitLeader(leaderships);
                TimeUnit.MILLISECONDS.sleep(500);
                System.out.println("stopping the leader (" + leader.name() + " on " + names.get(leaderships.indexOf(leader)) + ")");
                leader.stop();
            }
            awaitLeader(leaderships);
        } finally {
            leaderships.forEach(Leadership::close);
            instances.forEach(Redsync::close);
        }
    }

    private static Leadership awaitLeader(List<Leadership> leaderships) throws InterruptedException {
        while (true) {
            for (Leadership leadership : leaderships) {
                if (leadership.isLeader()) {
                    return leadership;
                }
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }
}
