package io.redsync.samples;

import io.redsync.Lease;
import io.redsync.Redsync;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The {@link CompletableFuture} API: no thread waits for the lock (retries are scheduled), the lease is
 * released whatever the work's outcome, and cancelling a waiting {@code lockAsync} gives up cleanly.
 *
 * <pre>{@code mvn -q -pl samples -am test-compile exec:java -Dexec.mainClass=io.redsync.samples.AsyncLocking}</pre>
 */
public final class AsyncLocking {
    private AsyncLocking() {
    }

    public static void main(String[] args) throws Exception {
        try (LocalNodes nodes = LocalNodes.fromEnvironmentOrStart(3)) {
            run(nodes.uris());
        }
    }

    static void run(List<String> uris) throws Exception {
        try (Redsync redsync = Redsync.create(uris)) {

            // 1. Lock, run asynchronous work, release on success and on failure alike.
            String refreshed = withLockAsync(redsync, "cache:refresh",
                    lease -> CompletableFuture.supplyAsync(() -> "cache refreshed under " + lease.name()))
                    .get(10, TimeUnit.SECONDS);
            System.out.println(refreshed);

            try {
                withLockAsync(redsync, "cache:refresh",
                        lease -> CompletableFuture.<String>failedFuture(new IllegalStateException("backend down"))).join();
            } catch (CompletionException e) {
                Optional<Lease> again = redsync.mutex("cache:refresh").tryLock();
                again.ifPresent(Lease::close);
                System.out.println("work failed (" + e.getCause().getMessage() + "), lock released anyway: " + again.isPresent());
            }

            // 2. Give up waiting: cancel the lockAsync future itself (not a stage derived from it). The
            //    engine stops retrying and releases whatever the attempt in flight had acquired.
            try (Lease held = redsync.lock("report")) {
                CompletableFuture<Lease> waiting = redsync.lockAsync("report");
                TimeUnit.MILLISECONDS.sleep(200);
                waiting.cancel(true);
                try {
                    waiting.join();
                } catch (CancellationException e) {
                    System.out.println("stopped waiting for " + held.name() + ": cancelled, not failed");
                }
            }
        }
    }

    /**
     * Acquires {@code name}, runs {@code work} with the lease, and releases the lease when the work's
     * stage completes, normally or not. The returned future completes with the work's result or failure.
     */
    static <T> CompletableFuture<T> withLockAsync(Redsync redsync, String name, Function<Lease, ? extends CompletionStage<T>> work) {
        return redsync.lockAsync(name).thenCompose(lease -> {
            CompletableFuture<T> done;
            try {
                done = work.apply(lease).toCompletableFuture();
            } catch (RuntimeException e) { // work threw instead of returning a failed stage
                done = CompletableFuture.failedFuture(e);
            }
            return done.handle((value, failure) -> lease.releaseAsync().thenApply(released -> {
                if (failure != null) {
                    throw failure instanceof CompletionException c ? c : new CompletionException(failure);
                }
                return value;
            })).thenCompose(Function.identity());
        });
    }
}
