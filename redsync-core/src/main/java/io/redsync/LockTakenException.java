package io.redsync;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The lock is busy (redsync's {@code ErrTaken}): on the last attempt another owner held the key on at least
 * one node, enough nodes answered to make a quorum, and no node failed for a configuration reason, so it was
 * contention, not node failures, that kept the call from a quorum. That covers another owner on a quorum, and
 * split votes: this call on some nodes, another owner on others, the rest slow, unreachable or too few for
 * anybody's quorum. Retrying later may succeed.
 *
 * <p>When fewer than a quorum of nodes answered, or a node failed for a configuration reason
 * ({@link NodeException.Reason#isConfiguration()}), the call fails with a plain
 * {@link LockAcquisitionException} instead, whoever held the nodes that did answer: the nodes need attention. {@link Mutex#tryLock()} returns
 * empty on this exception and throws the other.
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
     * @param votes    the last attempt's votes; {@link Votes#heldByOthers()} is not empty
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
     * or extend. Zero after a split vote (the other owner held fewer than a quorum): a retry may succeed at once.
     * The nodes do not say whose key they hold, so other owners each on fewer than a quorum but together on a quorum
     * (three callers on three nodes, each first on one) look like one owner on a quorum: then this is their TTL.
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
