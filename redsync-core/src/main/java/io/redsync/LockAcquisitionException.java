package io.redsync;

/**
 * The lock could not be acquired: every allowed attempt failed, or the acquire timeout ran out.
 * {@link #votes()} describes the last attempt; {@link #attempts()} counts them.
 *
 * <p>When the last attempt found the lock busy (another owner on at least one node, and enough nodes answering
 * for a quorum; see {@link LockTakenException}) the subtype {@link LockTakenException} is thrown instead, so
 * "busy" and "broken" can be told apart with a catch.
 *
 * @since 0.1.0
 */
public class LockAcquisitionException extends QuorumException {
    private static final long serialVersionUID = 1L;

    /** The number of attempts made. */
    private final int attempts;

    /**
     * Creates the exception.
     *
     * @param lockName the lock
     * @param message  what happened
     * @param attempts how many attempts were made
     * @param votes    the last attempt's votes
     * @since 0.1.0
     */
    public LockAcquisitionException(String lockName, String message, int attempts, Votes votes) {
        super(lockName, message, votes);
        this.attempts = attempts;
    }

    /**
     * How many tries the call used before giving up: attempts sent, plus, for a waiter subscribed to release
     * announcements, tries spent without sending while the lock was known held (see {@link LockOptions#tries()};
     * the message says how many). Attempts made because a release was announced do not count.
     *
     * @return the number of attempts, at least 1
     * @since 0.1.0
     */
    public int attempts() {
        return attempts;
    }
}
