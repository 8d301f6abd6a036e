package io.redsync.samples;

import io.redsync.KeepAlive;
import io.redsync.Lease;
import io.redsync.LeaseLostException;
import io.redsync.LockOptions;
import io.redsync.Redsync;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Lease keeping from Java: {@code executeLocked} keeps the lease alive while the work runs (here three
 * times longer than the expiry), and when the lease is lost (here another process deletes the keys) the
 * worker thread is interrupted and {@link LeaseLostException} says why.
 *
 * <pre>{@code mvn -q -pl samples -am test-compile exec:java -Dexec.mainClass=io.redsync.samples.LeaseKeeping}</pre>
 */
public final class LeaseKeeping {
    private LeaseKeeping() {
    }

    public static void main(String[] args) throws Exception {
        try (LocalNodes nodes = LocalNodes.fromEnvironmentOrStart(3)) {
            run(nodes.uris());
        }
    }

    static void run(List<String> uris) throws Exception {
        LockOptions options = LockOptions.builder()
                .expiry(Duration.ofSeconds(1))
                .keepAlive(KeepAlive.builder().interval(Duration.ofMillis(300)).build())
                .build();
        try (Redsync redsync = Redsync.builder().uris(uris).defaults(options).build()) {

            // 1. Work three times longer than the expiry: the lease is extended every 300 ms.
            String report = redsync.executeLocked("report:monthly", lease -> {
                for (int step = 1; step <= 6; step++) {
                    lease.checkValid();               // stop before a step that must not run unprotected
                    TimeUnit.MILLISECONDS.sleep(500);
                }
                return "report done, lease still valid for " + lease.remaining().toMillis() + " ms";
            });
            System.out.println(report);

            // 2. The lease is lost: another process deletes the keys. The worker is interrupted at once,
            //    long before the 1 s validity would have run out.
            CompletableFuture<Void> workStarted = new CompletableFuture<>();
            CompletableFuture<Void> intruder = workStarted.thenRunAsync(() -> LocalNodes.deleteEverywhere(uris, "invoice:42"));
            try {
                redsync.executeLocked("invoice:42", lease -> {
                    workStarted.complete(null);
                    TimeUnit.SECONDS.sleep(30);      // interrupted when the lease is lost
                    return null;
                });
            } catch (LeaseLostException e) {
                System.out.println("lease lost (" + e.reason() + "), work interrupted: " + e.getMessage());
            }
            intruder.get(10, TimeUnit.SECONDS);

            // 3. Without executeLocked: keep a lease yourself and listen for its loss.
            Lease lease = redsync.lock("cache:warmup").keepAlive();
            lease.onLost(loss -> System.out.println("listener: " + loss.reason()));
            System.out.println("kept lease valid: " + lease.isValid());
            lease.close();
        }
    }
}
