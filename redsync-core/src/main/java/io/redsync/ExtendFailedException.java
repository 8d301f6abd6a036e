package io.redsync;

/**
 * An extension did not reach a quorum because nodes failed, or it reached one too late for the new
 * validity to be positive (redsync's {@code ErrExtendFailed}). The lease keeps its previous validity, or
 * less when the requested TTL was shorter (nodes that did not answer may have applied it); it may still be
 * extended again before that runs out.
 *
 * @since 0.1.0
 */
public final class ExtendFailedException extends QuorumException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param lockName the lock
     * @param message  what happened
     * @param votes    how the nodes answered
     * @since 0.1.0
     */
    public ExtendFailedException(String lockName, String message, Votes votes) {
        super(lockName, message, votes);
    }
}
