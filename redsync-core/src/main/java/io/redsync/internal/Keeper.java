package io.redsync.internal;

import io.netty.util.Timeout;
import io.redsync.KeepAlive;
import io.redsync.LeaseLostException;
import io.redsync.LockOptions;
import io.redsync.Votes;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Keeps one lease alive on the instance's timer (no thread of its own): extends it, looks between extensions
 * whether its keys are still ours, and declares it lost at {@code deadline − lostMargin} when it could not be
 * extended by then. Stopped by release or loss.
 *
 * <p>Each extension is scheduled from the lease's deadline, not from the previous one: after at most the
 * interval, and at the latest when its answer (bounded by the node timeout, with a tick of slack for the
 * timer twice) still comes before the margin. So a healthy lease is never declared lost without an extension
 * having been tried, however late {@code keepAlive()} was called or however long the margin is.
 *
 * <p>Timers are re-armed under this object's lock; extensions and looks complete on I/O threads and report
 * back through {@link #extended} and {@link #looked}.
 */
final class Keeper {
    /** Between extensions, the keys are looked at this many times per interval. */
    private static final int LOOKS_PER_INTERVAL = 4;

    private final LeaseImpl lease;
    private final Engine engine;
    private final MutexImpl mutex;
    private final long intervalNanos;
    private final long marginNanos;
    private final long timeoutNanos;
    private final long retryNanos;
    private final long lookNanos;
    private final long maxDurationNanos;
    private final int maxExtensions;
    private final boolean setIfAbsent;
    private final long startedAt = System.nanoTime();

    private int extensions;
    private boolean stopped;
    private boolean capped;
    private boolean extending;
    private Throwable lastFailure;
    private Timeout nextExtension;
    private Timeout nextLook;
    private Timeout lostCheck;

    Keeper(LeaseImpl lease, MutexImpl mutex, KeepAlive policy) {
        LockOptions options = mutex.options();
        Duration expiry = options.expiry();
        this.lease = lease;
        this.mutex = mutex;
        this.engine = mutex.engine();
        this.intervalNanos = KeepAliveTiming.interval(policy, expiry).toNanos();
        this.marginNanos = KeepAliveTiming.lostMargin(policy, options).toNanos();
        this.timeoutNanos = options.nodeTimeout().toNanos();
        // After a failed extension, try again soon: a few times before the margin is reached.
        this.retryNanos = Math.max(KeepAliveTiming.TICK_NANOS, intervalNanos / 4);
        this.lookNanos = Math.max(2 * KeepAliveTiming.TICK_NANOS, intervalNanos / LOOKS_PER_INTERVAL);
        this.maxDurationNanos = policy.maxDuration().map(Duration::toNanos).orElse(Long.MAX_VALUE);
        this.maxExtensions = policy.maxExtensions().orElse(Integer.MAX_VALUE);
        this.setIfAbsent = options.setNXOnExtend();
    }

    synchronized void start() {
        scheduleExtension(intervalNanos);
        armLostCheck();
    }

    /** Stops all keeping (release, loss). Idempotent. */
    synchronized void stop() {
        stopped = true;
        cancel(nextExtension);
        cancel(nextLook);
        cancel(lostCheck);
    }

    /**
     * Guarded by this. The next extension after at most {@code wantedNanos}, and no later than its latest
     * send time; looks at the keys meanwhile when the wait is long enough for one.
     */
    private void scheduleExtension(long wantedNanos) {
        long now = System.nanoTime();
        long latest = KeepAliveTiming.latestSend(lease.deadlineNanos(), marginNanos, timeoutNanos) - now;
        long wait = Math.max(0, Math.min(wantedNanos, latest));
        cancel(nextExtension);
        nextExtension = Scheduler.schedule(this::extend, wait);
        cancel(nextLook);
        nextLook = wait > lookNanos ? Scheduler.schedule(this::look, lookNanos) : null;
    }

    private void extend() {
        synchronized (this) {
            if (stopped) {
                return;
            }
            cancel(nextLook);
            nextLook = null;
            if (extensions >= maxExtensions || System.nanoTime() - startedAt >= maxDurationNanos) {
                // No more extensions: the lost check fires before the remaining validity ends.
                capped = true;
                return;
            }
            extending = true;
        }
        lease.extendAsync().whenComplete((v, error) -> extended(error));
    }

    private void extended(Throwable error) {
        synchronized (this) {
            extending = false;
        }
        if (error == null) {
            synchronized (this) {
                if (stopped) {
                    return;
                }
                extensions++;
                lastFailure = null;
                armLostCheck();
                scheduleExtension(intervalNanos);
            }
            return;
        }
        Throwable cause = Engine.unwrap(error);
        if (Redlock.refused(cause)) {
            // Refused: another owner holds it, or its keys are gone. No retry can bring it back.
            lost(LeaseLostException.Reason.REFUSED, cause.getMessage(), cause);
            return;
        }
        synchronized (this) {
            if (stopped) {
                return;
            }
            lastFailure = cause;
            // Nodes failed or answered late: retry while there is time; the lost check decides otherwise.
            long now = System.nanoTime();
            long latest = KeepAliveTiming.latestSend(lease.deadlineNanos(), marginNanos, timeoutNanos) - now;
            long wait = Math.max(KeepAliveTiming.TICK_NANOS, Math.min(retryNanos, latest));
            if (lease.deadlineNanos() - marginNanos - now > wait) {
                cancel(nextExtension);
                nextExtension = Scheduler.schedule(this::extend, wait);
            }
        }
    }

    /**
     * Between extensions: GET on every node. Keys gone or another owner's on so many nodes that the rest
     * cannot make a quorum mean the lease is lost now; the next extension would only find out later. Node
     * failures decide nothing (the extension will tell). With {@code setNXOnExtend} missing keys are
     * re-created by the next extension, so only another owner's keys count.
     */
    private void look() {
        synchronized (this) {
            if (stopped || extending) {
                return;
            }
            nextLook = null;
        }
        Target target = mutex.target().patient();
        engine.fanOut(target, new Operation.Look(target, lease.value())).decided.thenAccept(b -> looked(b.votes()));
    }

    private void looked(Votes votes) {
        if (Redlock.lostOnLook(votes, setIfAbsent)) {
            lost(LeaseLostException.Reason.REFUSED, "its keys are " + (votes.heldByOthers().isEmpty() ? "gone" : "held by another owner")
                    + " on too many nodes for a quorum (" + votes + "): deleted, expired, or lost with a node restarted empty", null);
            return;
        }
        synchronized (this) {
            if (stopped || extending || nextExtension == null || nextExtension.isExpired()) {
                return;
            }
            long untilExtension = KeepAliveTiming.latestSend(lease.deadlineNanos(), marginNanos, timeoutNanos) - System.nanoTime();
            if (untilExtension > lookNanos) {
                nextLook = Scheduler.schedule(this::look, lookNanos);
            }
        }
    }

    /** Guarded by this. Fires at deadline − margin; the deadline moves with every extension. */
    private void armLostCheck() {
        cancel(lostCheck);
        long wait = lease.deadlineNanos() - marginNanos - System.nanoTime();
        lostCheck = Scheduler.schedule(this::checkLost, Math.max(0, wait));
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
        lost(reason, cause == null ? null : cause.getMessage(), cause);
    }

    private void lost(LeaseLostException.Reason reason, String detail, Throwable cause) {
        synchronized (this) {
            if (stopped) {
                return;
            }
        }
        stop();
        String why = switch (reason) {
            case REFUSED -> cause != null ? "an extension was refused: " + detail : detail;
            case UNREACHABLE -> "it could not be extended before " + TimeUnit.NANOSECONDS.toMillis(marginNanos)
                    + " ms of validity remained" + (detail == null ? "" : ": " + detail);
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
