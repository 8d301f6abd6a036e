package io.redsync;

/**
 * The lease is no longer held because it expired or was released: its validity ran out locally, or a
 * release/extension found the key gone on enough nodes that no quorum could agree (redsync's
 * {@code ErrLockAlreadyExpired}). No other owner was seen; if one was, {@link LockNotHeldException} is
 * thrown instead.
 *
 * <p>If this comes from releasing a lease after the guarded work, the work may have run past its
 * validity: make the expiry longer or keep the lease alive.
 *
 * @since 0.1.0
 */
public final class LeaseExpiredException extends QuorumException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param lockName the lock
     * @param message  what happened
     * @param votes    how the nodes answered, or {@code null} when decided locally
     * @since 0.1.0
     */
    public LeaseExpiredException(String lockName, String message, Votes votes) {
        super(lockName, message, votes);
    }
}
