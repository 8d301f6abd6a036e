package io.redsync.internal;

import io.netty.util.Timeout;
import io.redsync.KeepAlive;
import io.redsync.LeaseExpiredException;
import io.redsync.LeaseLostException;
import io.redsync.LockNotHeldException;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Keeps one lease alive: extends it every interval on the instance's timer (no thread of its own) and
 * declares it lost at {@code deadline − lostMargin} when it could not be extended by then. Stopped by
 * release or loss.
 *
 * <p>Timers are re-armed under this object's lock; extensions complete on I/O threads and report back
 * through {@link #extended}.
 */
final class Keeper {
    private final LeaseImpl lease;
    private final Engine engine;
    private final long intervalNanos;
    private final long marginNanos;
    private final long retryNanos;
    private final long maxDurationNanos;
    private final int maxExtensions;
    private final long startedAt = System.nanoTime();

    private int extensions;
    private boolean stopped;
    private boolean capped;
    private Throwable lastFailure;
    private Timeout nextExtension;
    private Timeout lostCheck;

    Keeper(LeaseImpl lease, Engine engine, KeepAlive policy, Duration expiry) {
        this.lease = lease;
        this.engine = engine;
        this.intervalNanos = policy.interval().orElse(expiry.dividedBy(3)).toNanos();
        this.marginNanos = policy.lostMargin().orElse(expiry.dividedBy(10)).toNanos();
        // After a failed extension, try again soon: a few times before the margin is reached.
        this.retryNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(10), intervalNanos / 4);
        this.maxDurationNanos = policy.maxDuration().map(Duration::toNanos).orElse(Long.MAX_VALUE);
        this.maxExtensions = policy.maxExtensions().orElse(Integer.MAX_VALUE);
    }

    synchronized void start() {
        nextExtension = Engine.schedule(this::extend, intervalNanos);
        armLostCheck();
    }

    /** Stops all keeping (release, loss). Idempotent. */
    synchronized void stop() {
        stopped = true;
        cancel(nextExtension);
        cancel(lostCheck);
    }

    private void extend() {
        synchronized (this) {
            if (stopped) {
                return;
            }
            if (extensions >= maxExtensions || System.nanoTime() - startedAt >= maxDurationNanos) {
                // No more extensions: the lost check fires before the remaining validity ends.
                capped = true;
                return;
            }
        }
        lease.extendAsync().whenComplete((v, error) -> extended(error));
    }

    private void extended(Throwable error) {
        if (error == null) {
            synchronized (this) {
                if (stopped) {
                    return;
                }
                extensions++;
                lastFailure = null;
                armLostCheck();
                nextExtension = Engine.schedule(this::extend, intervalNanos);
            }
            return;
        }
        Throwable cause = Engine.unwrap(error);
        boolean expiredLocally = cause instanceof LeaseExpiredException e && e.votes() == null;
        if (!expiredLocally && (cause instanceof LockNotHeldException || cause instanceof LeaseExpiredException)) {
            // Refused: another owner holds it, or its keys are gone. No retry can bring it back.
            lost(LeaseLostException.Reason.REFUSED, cause);
            return;
        }
        synchronized (this) {
            if (stopped) {
                return;
            }
            lastFailure = cause;
            // Nodes failed or answered late: retry while there is time; the lost check decides otherwise.
            if (lease.deadlineNanos() - marginNanos - System.nanoTime() > retryNanos) {
                nextExtension = Engine.schedule(this::extend, retryNanos);
            }
        }
    }

    /** Guarded by this. Fires at deadline − margin; the deadline moves with every extension. */
    private void armLostCheck() {
        cancel(lostCheck);
        long wait = lease.deadlineNanos() - marginNanos - System.nanoTime();
        lostCheck = Engine.schedule(this::checkLost, Math.max(0, wait));
    }

    private void checkLost() {
        LeaseLostException.Reason reason;
        Throwable cause;
        synchronized (this) {
            if (stopped) {
                return;
            }
            if (lease.deadlineNanos() - marginNanos - System.nanoTime() > 0) {
                armLostCheck(); // extended meanwhile
                return;
            }
            reason = capped ? LeaseLostException.Reason.LIMIT : LeaseLostException.Reason.UNREACHABLE;
            cause = lastFailure;
        }
        lost(reason, cause);
    }

    private void lost(LeaseLostException.Reason reason, Throwable cause) {
        synchronized (this) {
            if (stopped) {
                return;
            }
        }
        stop();
        String why = switch (reason) {
            case REFUSED -> "an extension was refused: " + cause.getMessage();
            case UNREACHABLE -> "it could not be extended before " + TimeUnit.NANOSECONDS.toMillis(marginNanos)
                    + " ms of validity remained" + (cause == null ? "" : ": " + cause.getMessage());
            case LIMIT -> "the keep-alive limit was reached after " + extensions + " extensions";
        };
        lease.markLost(new LeaseLostException(lease.name(), reason, "lease on lock '" + lease.name() + "' lost: " + why, cause));
    }

    private static void cancel(Timeout future) {
        if (future != null) {
            future.cancel();
        }
    }
}
