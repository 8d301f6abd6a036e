package io.redsync.internal;

import java.time.Duration;

/**
 * When a keeper must send an extension and where the lost margin may lie, in one place: used by the
 * validation of {@code KeepAlive} and by the keeper. Internal: not part of the API.
 *
 * <p>The keeper's timers run on a wheel with a 10 ms tick, and each may fire up to a tick late: the extension
 * itself, the node timeout that ends its wait, and the check that declares the loss.
 */
public final class KeepAliveTiming {
    /** The timer's tick. */
    static final long TICK_NANOS = Engine.TICK_NANOS;

    /**
     * The shortest lost margin: two ticks. The loss is checked on the timer, up to a tick late; a shorter
     * margin could declare it after the validity had ended.
     */
    public static final Duration MIN_LOST_MARGIN = Duration.ofNanos(2 * TICK_NANOS);

    private KeepAliveTiming() {
    }

    /**
     * The longest lost margin: an extension sent at {@link #latestSend} is answered or timed out (up to a tick
     * late) before the margin is reached, and the validity it buys ({@code expiry − drift}) leaves time to send
     * the next one after that answer: {@code expiry − drift − 2 × nodeTimeout − 3 ticks}. Below
     * {@link #MIN_LOST_MARGIN} when the expiry is too short to keep a lease alive.
     *
     * @param expiry      the lease's TTL
     * @param drift       its drift
     * @param nodeTimeout its node timeout
     * @return the longest margin
     */
    public static Duration maxLostMargin(Duration expiry, Duration drift, Duration nodeTimeout) {
        return expiry.minus(drift).minus(nodeTimeout.multipliedBy(2)).minusNanos(3 * TICK_NANOS);
    }

    /**
     * The default margin: a tenth of the expiry, kept within [{@link #MIN_LOST_MARGIN}, {@link #maxLostMargin}]
     * where that is not empty.
     *
     * @param expiry      the lease's TTL
     * @param drift       its drift
     * @param nodeTimeout its node timeout
     * @return the margin
     */
    public static Duration defaultLostMargin(Duration expiry, Duration drift, Duration nodeTimeout) {
        Duration tenth = expiry.dividedBy(10);
        Duration max = maxLostMargin(expiry, drift, nodeTimeout);
        Duration atMost = tenth.compareTo(max) > 0 ? max : tenth;
        return atMost.compareTo(MIN_LOST_MARGIN) < 0 ? MIN_LOST_MARGIN : atMost;
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
