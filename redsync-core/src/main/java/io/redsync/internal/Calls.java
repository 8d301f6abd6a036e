package io.redsync.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The lock calls of one instance still in flight: what {@code close()} fails and waits for. */
final class Calls {
    private final Set<AcquireCall> active = ConcurrentHashMap.newKeySet();
    /** No new lock calls; cleanup of the active ones still reaches the nodes. */
    private volatile boolean closing;

    void register(AcquireCall call) {
        active.add(call);
        if (closing) {
            call.closeNow();
        }
    }

    void unregister(AcquireCall call) {
        active.remove(call);
    }

    /**
     * Fails every waiting lock call, waits for their cleanup to reach the nodes (every release they sent, see
     * {@link AcquireCall#quiet()}), then stops the engine sending. The wait is bounded by what those calls
     * themselves may take ({@link Redlock#settleBoundNanos} of the longest node timeout among them), so a call
     * made with a longer per-call node timeout than the defaults' is waited for too. The caller closes the nodes
     * afterwards; timeouts still pending fire as usual.
     */
    void close(Engine engine) {
        closing = true;
        long longest = 0;
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (AcquireCall call : active) {
            call.closeNow();
            pending.add(call.quiet());
            longest = Math.max(longest, call.target.timeoutNanos());
        }
        try {
            CompletableFuture.allOf(pending.toArray(CompletableFuture<?>[]::new))
                    .get(Redlock.settleBoundNanos(longest), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // Bounded on purpose: a node that does not answer keeps its key until the TTL.
        }
        engine.stop();
    }
}
