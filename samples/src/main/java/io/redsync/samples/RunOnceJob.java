package io.redsync.samples;

import io.redsync.Lease;
import io.redsync.LockOptions;
import io.redsync.LockTakenException;
import io.redsync.RetryDelay;
import io.redsync.Redsync;

import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The cron use case: every instance of a service fires the same scheduled job at the same moment, and
 * exactly one of them runs it.
 *
 * <p>The first instance to take the lock {@code job:<name>:<run>} runs the job and does <em>not</em>
 * release the lock: it expires at the end of the run's window. An instance that fires late (a slow
 * start, a retried cron) still finds it taken and skips. Releasing it when the job ends would let such a
 * late instance run the job a second time. The run id (here the date) makes each scheduled run a
 * lock of its own. The window must be longer than the job and shorter than the schedule's period.
 *
 * <p>Run once per instance, against shared nodes, the way a fleet does:
 * <pre>{@code REDSYNC_NODES=redis://a:6379,redis://b:6379,redis://c:6379 \
 *   java -cp ... io.redsync.samples.RunOnceJob --instance --run=2026-11-23}</pre>
 * Without {@code --instance} it simulates a fleet of five instances (each with its own {@link Redsync}, as
 * separate processes would have) on local nodes:
 * <pre>{@code mvn -q -pl samples -am test-compile exec:java -Dexec.mainClass=io.redsync.samples.RunOnceJob}</pre>
 */
public final class RunOnceJob {
    /** What an instance did. */
    enum Outcome { RAN, SKIPPED }

    static final String JOB = "nightly-report";
    static final Duration WINDOW = Duration.ofMinutes(10);

    private RunOnceJob() {
    }

    /**
     * Runs {@code work} if no other instance has taken this run of the job.
     *
     * @param run identifies the scheduled run, e.g. its date or minute
     */
    static Outcome runOnce(Redsync redsync, String job, String run, Duration window, Runnable work) throws InterruptedException {
        LockOptions once = LockOptions.builder()
                .expiry(window) // also the longest the job may take: the lock is never extended
                // Not a single tryLock: instances firing at the same instant can split the nodes' votes
                // (each holds one node, none a majority). A few retries after random pauses break the tie.
                .tries(5)
                .retryDelay(RetryDelay.uniform(Duration.ofMillis(20), Duration.ofMillis(200)))
                // Nobody will release this lock, so there is nothing to be woken by; and waking every
                // contender at the same moment would only split their votes again.
                .releaseNotifications(false)
                .build();
        Lease lease;
        try {
            lease = redsync.lock("job:" + job + ":" + run, once);
        } catch (LockTakenException e) {
            return Outcome.SKIPPED; // another instance has this run
        }
        work.run();
        lease.checkValid(); // the job outran its window: another instance may have started it too
        return Outcome.RAN; // not released: it expires with the window, so late instances skip
    }

    public static void main(String[] args) throws Exception {
        String run = arg(args, "--run=").orElse(LocalDate.now().toString());
        if (List.of(args).contains("--instance")) {
            instance(run, arg(args, "--at=").map(Long::parseLong));
        } else {
            try (LocalNodes nodes = LocalNodes.fromEnvironmentOrStart(3)) {
                fleet(nodes.uris(), 5, run);
            }
        }
    }

    /** One member of a fleet: its own process, configured like its peers through REDSYNC_NODES. */
    private static void instance(String run, Optional<Long> atEpochMillis) throws InterruptedException {
        List<String> uris = LocalNodes.configured();
        if (uris.isEmpty()) {
            throw new IllegalStateException("--instance needs REDSYNC_NODES: the instances of a fleet must share their nodes");
        }
        long me = ProcessHandle.current().pid();
        try (Redsync redsync = Redsync.create(uris)) {
            redsync.awaitConnected(Duration.ofSeconds(10)); // connect now, not at the firing time
            if (atEpochMillis.isPresent()) {       // as cron would: every instance fires at the same instant
                TimeUnit.MILLISECONDS.sleep(Math.max(0, atEpochMillis.get() - System.currentTimeMillis()));
            }
            Outcome outcome = runOnce(redsync, JOB, run, WINDOW, () -> sendReport(run, "process " + me));
            System.out.println(outcome + " " + JOB + " " + run + " in process " + me);
        }
    }

    /** A fleet simulated in one JVM: one thread and one Redsync per instance, all firing at once. */
    static List<Outcome> fleet(List<String> uris, int instances, String run) throws Exception {
        CountDownLatch fire = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(instances);
        List<Redsync> clients = new ArrayList<>();
        try {
            List<Future<Outcome>> outcomes = new ArrayList<>();
            for (int i = 1; i <= instances; i++) {
                Redsync redsync = Redsync.create(uris);
                clients.add(redsync);
                String name = "instance " + i;
                outcomes.add(threads.submit(() -> {
                    fire.await();
                    Outcome outcome = runOnce(redsync, JOB, run, WINDOW, () -> sendReport(run, name));
                    System.out.println(name + ": " + outcome);
                    return outcome;
                }));
            }
            fire.countDown();
            List<Outcome> result = new ArrayList<>();
            for (Future<Outcome> outcome : outcomes) {
                result.add(outcome.get(30, TimeUnit.SECONDS));
            }
            System.out.println(result.stream().filter(o -> o == Outcome.RAN).count() + " of " + instances
                    + " instances ran " + JOB + " for " + run);
            return result;
        } finally {
            threads.shutdownNow();
            clients.forEach(Redsync::close);
        }
    }

    private static void sendReport(String run, String by) {
        System.out.println(by + ": sending the " + JOB + " for " + run);
        try {
            TimeUnit.MILLISECONDS.sleep(300); // the job
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Optional<String> arg(String[] args, String prefix) {
        for (String arg : args) {
            if (arg.startsWith(prefix)) {
                return Optional.of(arg.substring(prefix.length()));
            }
        }
        return Optional.empty();
    }
}
