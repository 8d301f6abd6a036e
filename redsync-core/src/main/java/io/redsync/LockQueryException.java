package io.redsync;

/**
 * Asking the nodes whether a lock is held ({@link Mutex#holderTtl()}) got too few answers to tell: the nodes
 * that failed could hold the lock as well as not. {@link #votes()} says how each node answered; the nodes'
 * errors are attached.
 *
 * @since 0.1.0
 */
public final class LockQueryException extends QuorumException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param lockName the lock
     * @param message  what happened
     * @param votes    how the nodes answered
     * @since 0.1.0
     */
    public LockQueryException(String lockName, String message, Votes votes) {
        super(lockName, message, votes);
    }
}
