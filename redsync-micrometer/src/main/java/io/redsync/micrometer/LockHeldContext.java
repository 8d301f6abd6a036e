package io.redsync.micrometer;

import io.micrometer.observation.Observation;
import io.redsync.Lease;

/**
 * What the {@code redsync.lock.held} Observation knows about one lease: from its grant to its end (released,
 * expired, not held, failed, lost).
 *
 * @since 0.1.0
 */
public final class LockHeldContext extends Observation.Context {
    private final Lease lease;
    private final String lockTag;
    private volatile String outcome;

    /**
     * Creates the context of one lease; {@link RedsyncMetrics} makes these.
     *
     * @param lease   the lease
     * @param lockTag the {@code lock} tag value, or {@code null} without one
     * @since 0.1.0
     */
    public LockHeldContext(Lease lease, String lockTag) {
        this.lease = lease;
        this.lockTag = lockTag;
    }

    /** @return the lease (read only; never release it from a convention) @since 0.1.0 */
    public Lease lease() {
        return lease;
    }

    /** @return the lock's name (a high-cardinality value) @since 0.1.0 */
    public String lockName() {
        return lease.name();
    }

    /** @return the {@code lock} tag value, or {@code null} when names are not tagged @since 0.1.0 */
    public String lockTag() {
        return lockTag;
    }

    /**
     * How the hold ended: {@code released}, {@code expired} (the keys were gone at release, or the lease ran out
     * unreleased), {@code not_held}, {@code failed} (too few nodes answered the release) or {@code lost}.
     *
     * @return the outcome; {@code null} while held
     * @since 0.1.0
     */
    public String outcome() {
        return outcome;
    }

    void end(String outcome) {
        this.outcome = outcome;
    }
}
