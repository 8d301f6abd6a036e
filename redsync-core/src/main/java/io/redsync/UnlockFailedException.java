package io.redsync;

/**
 * A release did not reach a quorum because nodes failed or timed out. The keys left behind expire
 * with the lease's TTL; other callers can acquire the lock then at the latest.
 *
 * @since 0.1.0
 */
public final class UnlockFailedException extends QuorumException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param lockName the lock
     * @param message  what happened
     * @param votes    how the nodes answered
     * @since 0.1.0
     */
    public UnlockFailedException(String lockName, String message, Votes votes) {
        super(lockName, message, votes);
    }
}
