package io.redsync;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The lock is held by another owner: on the last attempt a quorum of nodes held another value
 * (redsync's {@code ErrTaken}). Retrying later may succeed.
 *
 * @since 0.1.0
 */
public final class LockTakenException extends LockAcquisitionException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param lockName the lock
     * @param message  what happened
     * @param attempts how many attempts were made
     * @param votes    the last attempt's votes; {@link Votes#heldByOthers()} has at least a quorum
     * @since 0.1.0
     */
    public LockTakenException(String lockName, String message, int attempts, Votes votes) {
        this(lockName, message, attempts, votes, null);
    }

    /**
     * Creates the exception with the holder's remaining time.
     *
     * @param lockName  the lock
     * @param message   what happened
     * @param attempts  how many attempts were made
     * @param votes     the last attempt's votes
     * @param holderTtl how long until the lock can be free, or {@code null} when unknown
     * @since 0.1.0
     */
    public LockTakenException(String lockName, String message, int attempts, Votes votes, Duration holderTtl) {
        super(lockName, message, attempts, votes);
        this.holderTtl = holderTtl;
    }

    /** How long until the lock can be free, or null. */
    private final Duration holderTtl;

    /**
     * How long until the other owner's keys expire on enough nodes for a quorum to be free, from the TTLs the
     * nodes reported in the last attempt, e.g. for an HTTP {@code Retry-After}. The holder may release earlier,
     * or extend.
     *
     * @return the time, or empty when a node reported a key without TTL
     * @since 0.1.0
     */
    public Optional<Duration> holderTtl() {
        return Optional.ofNullable(holderTtl);
    }

    /**
     * The nodes where another owner held the lock on the last attempt.
     *
     * @return node indices, in builder order
     * @since 0.1.0
     */
    public List<Integer> nodes() {
        return votes().heldByOthers();
    }
}
