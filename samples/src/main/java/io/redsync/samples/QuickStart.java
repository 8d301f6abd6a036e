package io.redsync.samples;

import io.redsync.Lease;
import io.redsync.LockTakenException;
import io.redsync.Mutex;
import io.redsync.Redsync;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The README's Java quick start, runnable: blocking try-with-resources, tryLock, and the
 * CompletableFuture API.
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

    static void run(java.util.List<String> uris) throws Exception {
        try (Redsync redsync = Redsync.create(uris)) {
            // 1. Blocking: waits (up to 32 tries) and releases when the block ends, even on exceptions.
            try (Lease lease = redsync.lock("invoice:42")) {
                System.out.println("holding " + lease.name() + " for another " + lease.remaining().toMillis() + " ms");
                lease.checkValid(); // throws LeaseExpiredException if the work outran the lease
            }

            // 2. One attempt, no waiting: empty when someone else holds the lock.
            Mutex mutex = redsync.mutex("report:daily");
            Optional<Lease> maybe = mutex.tryLock();
            try (Lease lease = maybe.orElseThrow()) {
                System.out.println("a second tryLock while held: " + redsync.mutex("report:daily").tryLock().isPresent());
            }

            // 3. Asynchronous: nothing blocks; cancel the future to give up waiting.
            CompletableFuture<Void> done = redsync.lockAsync("cache:refresh")
                    .thenCompose(lease -> CompletableFuture.runAsync(() -> System.out.println("refreshing under " + lease.name()))
                            .thenCompose(v -> lease.releaseAsync()));
            done.get();

            // 4. Telling "busy" from "broken".
            try (Lease held = redsync.lock("busy")) {
                redsync.lock("busy", io.redsync.LockOptions.builder().tries(1).build()).close();
            } catch (LockTakenException e) {
                System.out.println("busy, held on nodes " + e.nodes());
            }
        }
    }
}
