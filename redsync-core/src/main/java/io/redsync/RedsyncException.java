package io.redsync;

/**
 * Base type of every exception this library throws on purpose. Unchecked, so that lock calls compose
 * with lambdas and futures; catch it to handle "the lock did not behave as asked" in one place.
 *
 * <p>Cancellation and interruption are never reported through this type: a cancelled future throws
 * {@link java.util.concurrent.CancellationException}, an interrupted blocking call
 * {@link InterruptedException}.
 *
 * @since 0.1.0
 */
public class RedsyncException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The lock concerned, or null. */
    private final String lockName;

    /**
     * Creates an exception about one lock.
     *
     * @param lockName the lock's name as the caller gave it (without key prefix), or {@code null}
     *                 when the failure concerns no particular lock
     * @param message  what happened and, where possible, what to do about it
     * @param cause    the underlying cause, or {@code null}
     * @since 0.1.0
     */
    public RedsyncException(String lockName, String message, Throwable cause) {
        super(message, cause);
        this.lockName = lockName;
    }

    /**
     * The lock this failure concerns.
     *
     * @return the lock name as given to {@link Redsync#mutex(String)}, or {@code null} when none
     * @since 0.1.0
     */
    public String lockName() {
        return lockName;
    }
}
