package io.redsync;

import java.util.List;

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
        super(lockName, message, attempts, votes);
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
