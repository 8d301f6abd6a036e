package io.redsync.internal;

import io.redsync.RedsyncException;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/** The API edge where blocking happens: waits on the engine's futures. */
final class Await {
    private Await() {
    }

    /**
     * Waits for a lock call. On interrupt: cancels it, waits (bounded) until its partial holds are
     * released, then throws InterruptedException. If the call completed in the instant before the cancel,
     * its result is handed to {@code abandon} (which releases it) instead of being dropped.
     */
    static <T> T interruptibly(CompletableFuture<T> result, CompletableFuture<?> settled, long cleanupBoundNanos,
                               Function<T, CompletableFuture<?>> abandon) throws InterruptedException {
        try {
            return result.get();
        } catch (InterruptedException e) {
            CompletableFuture<?> cleanup = settled;
            if (!result.cancel(false) && result.isDone() && !result.isCompletedExceptionally()) {
                cleanup = abandon.apply(result.join());
            }
            if (uninterruptibly(cleanup, cleanupBoundNanos)) {
                // A second interrupt arrived while cleaning up; the exception we throw reports both.
                Thread.interrupted();
            }
            throw e;
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        }
    }

    /** Waits without reacting to interrupts (the operation is bounded), keeping the interrupt status. */
    static <T> T uninterruptibly(CompletableFuture<T> future) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return future.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    throw rethrow(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits at most {@code boundNanos}; returns whether an interrupt arrived meanwhile (status not restored). */
    private static boolean uninterruptibly(CompletableFuture<?> future, long boundNanos) {
        boolean interrupted = false;
        long deadline = System.nanoTime() + boundNanos;
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return interrupted;
            }
            try {
                future.get(left, TimeUnit.NANOSECONDS);
                return interrupted;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException | TimeoutException e) {
                return interrupted;
            }
        }
    }

    static RuntimeException rethrow(Throwable cause) {
        Throwable t = Engine.unwrap(cause);
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error err) {
            throw err;
        }
        return new RedsyncException(null, String.valueOf(t), t);
    }
}
