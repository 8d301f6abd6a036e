package io.redsync;

/**
 * A quorum operation (lock attempt, release, extension) did not get enough nodes to agree.
 * {@link #votes()} says how each node answered; each node's error is also attached as a suppressed
 * exception, so a logged stack trace shows every cause, and its message (with its
 * {@linkplain NodeException#reason() reason} and fix) is appended to this one's, so a log line that shows only
 * the message still says why each node failed.
 *
 * @since 0.1.0
 */
public abstract class QuorumException extends RedsyncException {
    private static final long serialVersionUID = 1L;

    private final transient Votes votes;

    /**
     * Creates the exception and attaches each node error in {@code votes} as suppressed.
     *
     * @param lockName the lock concerned
     * @param message  what happened; the node errors' messages are appended
     * @param votes    how the nodes answered, or {@code null} when no node was asked
     * @since 0.1.0
     */
    protected QuorumException(String lockName, String message, Votes votes) {
        super(lockName, withNodeErrors(message, votes), null);
        this.votes = votes;
        if (votes != null) {
            votes.errors().forEach(this::addSuppressed);
        }
    }

    private static String withNodeErrors(String message, Votes votes) {
        if (votes == null || votes.errors().isEmpty()) {
            return message;
        }
        StringBuilder s = new StringBuilder(message).append(". Node errors: ");
        for (int i = 0; i < votes.errors().size(); i++) {
            s.append(i == 0 ? "" : "; ").append(votes.errors().get(i).getMessage());
        }
        return s.toString();
    }

    /**
     * How the nodes answered the operation that failed.
     *
     * @return the votes, or {@code null} when the failure was decided locally without asking any node
     *         (for example extending a lease whose validity already ran out)
     * @since 0.1.0
     */
    public Votes votes() {
        return votes;
    }
}
