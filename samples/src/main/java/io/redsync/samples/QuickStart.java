package io.redsync.samples;

import io.redsync.Lease;
import io.redsync.LockAcquisitionException;
import io.redsync.LockOptions;
import io.redsync.LockTakenException;
import io.redsync.Mutex;
import io.redsync.Redsync;

import java.util.List;
import java.util.Optional;

/**
 * The README's Java quick start, runnable: blocking try-with-resources, one attempt with
 * {@code tryLock}, and telling "busy" from "broken".
 *
 * <pre>{@code mvn -q -pl samples -am compile exec:java -Dexec.mainClass=io.redsync.samples.QuickStart}</pre>
 */
public final class QuickStart {
    private QuickStart() {
    }

    public static void main(String[] args) throws Exception {
        try (LocalNodes nodes = LocalNodes.fromEnvironmentOrStart(3)) {
            run(nodes.uris());
        }
    }

    @SuppressWarnings("try") // a lease is held by its try block, not necessarily used in it
    static void run(List<String> uris) throws Exception {
        // One instance per application: thread-safe, connects lazily, closes what it created.
        try (Redsync redsync = Redsync.create(uris)) {

            // 1. Blocking: waits (up to 32 tries by default, woken early when the holder releases) and
            //    releases when the block ends, also on exceptions.
            try (Lease lease = redsync.lock("invoice:42")) {
                System.out.println("holding " + lease.name() + " for another " + lease.remaining().toMillis() + " ms");
                lease.checkValid(); // throws LeaseExpiredException if the work outran the lease
            }

            // 2. One attempt, no waiting: empty when someone else holds the lock.
            Mutex daily = redsync.mutex("report:daily");
            Optional<Lease> maybe = daily.tryLock();
            try (Lease lease = maybe.orElseThrow()) {
                System.out.println("a second tryLock while " + lease.name() + " is held: "
                        + redsync.mutex("report:daily").tryLock().isPresent());
            }

            // 3. Telling "busy" (LockTakenException) from "broken" (its parent, LockAcquisitionException).
            LockOptions once = LockOptions.builder().tries(1).build();
            try (Lease held = redsync.lock("busy")) {
                redsync.lock("busy", once).close();
            } catch (LockTakenException e) {
                System.out.println("busy, held on nodes " + e.nodes());
            } catch (LockAcquisitionException e) {
                System.out.println("nodes failing: " + e.votes());
            }
        }
    }
}
