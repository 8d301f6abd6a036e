package io.redsync;

/**
 * A kept-alive lease could no longer be kept and was declared lost before its validity ended. The work
 * guarded by it was interrupted ({@link Redsync#executeLocked}) or cancelled (Kotlin's {@code withLock}),
 * and this exception reports that instead of a bare interruption or cancellation.
 *
 * @since 0.1.0
 */
public final class LeaseLostException extends RedsyncException {
    private static final long serialVersionUID = 1L;

    /**
     * Why a lease was lost.
     *
     * @since 0.1.0
     */
    public enum Reason {
        /**
         * The nodes refused the lease: an extension was refused, or the keeper's look between extensions found
         * the keys gone or another owner's on too many nodes for a quorum. Declared as soon as it is seen, which
         * may be after another client acquired the lock (only fencing tokens protect that window).
         */
        REFUSED,
        /** Extensions kept failing (nodes unreachable or too slow) until the lost margin was reached. */
        UNREACHABLE,
        /** A keep-alive cap ({@link KeepAlive#maxDuration()}, {@link KeepAlive#maxExtensions()}) stopped the extensions. */
        LIMIT
    }

    /** Why the lease was lost. */
    private final Reason reason;

    /**
     * Creates the exception.
     *
     * @param lockName the lock
     * @param reason   why it was lost
     * @param message  what happened
     * @param cause    the last extension failure, or {@code null}
     * @since 0.1.0
     */
    public LeaseLostException(String lockName, Reason reason, String message, Throwable cause) {
        super(lockName, message, cause);
        this.reason = reason;
    }

    /**
     * Why the lease was lost.
     *
     * @return the reason
     * @since 0.1.0
     */
    public Reason reason() {
        return reason;
    }
}
