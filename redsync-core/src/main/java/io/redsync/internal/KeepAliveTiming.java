package io.redsync.internal;

import io.redsync.KeepAlive;
import io.redsync.LockOptions;

import java.time.Duration;

/**
 * When a keeper extends and where the lost margin may lie, in one place: the defaults (a third and a tenth of the
 * expiry), the bounds, and the check of a policy against a lease's expiry, used by {@code KeepAlive}'s validation
 * (through {@link Internals}), by {@code Lease.keepAlive(policy)} and by the keeper.
 *
 * <p>The keeper's timers run on a wheel with a 10 ms tick, and each may fire up to a tick late: the extension
 * itself, the node timeout that ends its wait, and the check that declares the loss.
 */
final class KeepAliveTiming {
    /** The timer's tick. */
    static final long TICK_NANOS = Scheduler.TICK_NANOS;

    /**
     * The shortest lost margin: two ticks. The loss is checked on the timer, up to a tick late; a shorter
     * margin could declare it after the validity had ended.
     */
    static final Duration MIN_LOST_MARGIN = Duration.ofNanos(2 * TICK_NANOS);

    private KeepAliveTiming() {
    }

    /** The default interval: a third of the expiry, so two extensions can fail before the lost margin. */
    static Duration interval(KeepAlive policy, Duration expiry) {
        return policy.interval().orElse(expiry.dividedBy(3));
    }

    /** The policy's margin, or the default one: a tenth of the expiry, kept within the bounds where they meet. */
    static Duration lostMargin(KeepAlive policy, LockOptions options) {
        return policy.lostMargin().orElseGet(() -> {
            Duration tenth = options.expiry().dividedBy(10);
            Duration max = maxLostMargin(options.expiry(), options.drift(), options.nodeTimeout());
            Duration atMost = tenth.compareTo(max) > 0 ? max : tenth;
            return atMost.compareTo(MIN_LOST_MARGIN) < 0 ? MIN_LOST_MARGIN : atMost;
        });
    }

    /**
     * The longest lost margin: an extension sent at {@link #latestSend} is answered or timed out (up to a tick
     * late) before the margin is reached, and the validity it buys ({@code expiry − drift}) leaves time to send
     * the next one after that answer: {@code expiry − drift − 2 × nodeTimeout − 3 ticks}. Below
     * {@link #MIN_LOST_MARGIN} when the expiry is too short to keep a lease alive.
     */
    static Duration maxLostMargin(Duration expiry, Duration drift, Duration nodeTimeout) {
        return expiry.minus(drift).minus(nodeTimeout.multipliedBy(2)).minusNanos(3 * TICK_NANOS);
    }

    /** Checks {@code policy} against a lease of {@code options} (its expiry, drift and node timeout). */
    static void check(KeepAlive policy, LockOptions options) {
        check(policy, options.expiry(), options.drift(), options.nodeTimeout());
    }

    /**
     * Checks the cross-field rules of {@code policy} against a lease's expiry, drift and node timeout. The default
     * margin needs no check: it is derived to fit.
     */
    static void check(KeepAlive policy, Duration expiry, Duration drift, Duration nodeTimeout) {
        if (!policy.enabled()) {
            return;
        }
        Duration interval = policy.interval().orElse(null);
        if (interval != null && interval.compareTo(expiry) >= 0) {
            throw new IllegalArgumentException("keepAlive interval must be < expiry (" + expiry + "), was " + interval
                    + ": the lease would expire between extensions");
        }
        Duration lostMargin = policy.lostMargin().orElse(null);
        if (lostMargin == null) {
            return;
        }
        Duration max = maxLostMargin(expiry, drift, nodeTimeout);
        String range = "keepAlive lostMargin must be in [" + millis(MIN_LOST_MARGIN) + ", " + millis(max)
                + "] for expiry " + millis(expiry) + ", was " + lostMargin;
        if (lostMargin.compareTo(MIN_LOST_MARGIN) < 0) {
            throw new IllegalArgumentException(range + ": the loss is declared on a 10 ms timer tick, which may come a tick"
                    + " late, so a margin below two ticks could declare it after the validity had ended");
        }
        if (lostMargin.compareTo(max) > 0) {
            throw new IllegalArgumentException(range + ": the upper bound is expiry − drift (" + millis(drift)
                    + ") − 2 × nodeTimeout (" + millis(nodeTimeout) + ") − 30 ms of timer slack, so that an"
                    + " extension can be sent, answered and followed by the next one before the margin is reached");
        }
    }

    private static String millis(Duration d) {
        return d.toNanos() % 1_000_000 == 0 ? d.toMillis() + " ms" : d.toNanos() / 1e6 + " ms";
    }

    /**
     * The latest time to send an extension of a lease with this deadline: its answer, bounded by the node
     * timeout, then comes before {@code deadline − margin}, with a tick of slack for sending and one for the
     * timeout.
     */
    static long latestSend(long deadlineNanos, long marginNanos, long timeoutNanos) {
        return deadlineNanos - marginNanos - timeoutNanos - 2 * TICK_NANOS;
    }
}
