package io.redsync;

import java.util.List;

/**
 * A release or extension found another owner's value on some nodes and could not reach a quorum:
 * the lease was lost and someone else acquired the lock. Work done under this lease after its
 * validity may have overlapped with the new holder's.
 *
 * @since 0.1.0
 */
public final class LockNotHeldException extends QuorumException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param lockName the lock
     * @param message  what happened
     * @param votes    how the nodes answered; {@link Votes#heldByOthers()} is not empty
     * @since 0.1.0
     */
    public LockNotHeldException(String lockName, String message, Votes votes) {
        super(lockName, message, votes);
    }

    /**
     * The nodes where another owner holds the lock.
     *
     * @return node indices, in builder order
     * @since 0.1.0
     */
    public List<Integer> nodes() {
        return votes().heldByOthers();
    }
}
