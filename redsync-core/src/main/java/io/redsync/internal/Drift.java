package io.redsync.internal;

import java.time.Duration;

/** The drift formula, in one place. Internal: not part of the API. */
public final class Drift {
    /** Redis expires keys with about 1 ms precision; the Redlock description adds 2 ms to the drift for it. */
    private static final Duration EXPIRY_PRECISION = Duration.ofMillis(2);

    private Drift() {
    }

    /**
     * The validity a lease loses to clock drift.
     *
     * @param expiry      the TTL
     * @param driftFactor the drift allowance as a fraction of the TTL
     * @return {@code expiry × driftFactor + 2 ms}
     */
    public static Duration of(Duration expiry, double driftFactor) {
        return Duration.ofNanos((long) (expiry.toNanos() * driftFactor)).plus(EXPIRY_PRECISION);
    }
}
