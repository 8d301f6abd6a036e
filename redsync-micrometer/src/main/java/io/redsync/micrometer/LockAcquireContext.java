package io.redsync.micrometer;

import io.micrometer.observation.Observation;
import io.redsync.RedsyncListener.AcquireOutcome;

/**
 * What the {@code redsync.lock.acquire} Observation knows about one lock call: from its start (lock name and tag)
 * to its end (outcome and attempts). Conventions read it to name the Observation and its key values.
 *
 * @since 0.1.0
 */
public final class LockAcquireContext extends Observation.Context {
    private final String lockName;
    private final String lockTag;
    private volatile AcquireOutcome outcome;
    private volatile int attempts;

    /**
     * Creates the context of one lock call; {@link RedsyncMetrics} makes these.
     *
     * @param lockName the lock's name
     * @param lockTag  the {@code lock} tag value, or {@code null} without one ({@link LockNameTag#none()})
     * @since 0.1.0
     */
    public LockAcquireContext(String lockName, String lockTag) {
        this.lockName = lockName;
        this.lockTag = lockTag;
    }

    /** @return the lock's name (a high-cardinality value: for spans, never for metrics) @since 0.1.0 */
    public String lockName() {
        return lockName;
    }

    /** @return the {@code lock} tag value, or {@code null} when names are not tagged @since 0.1.0 */
    public String lockTag() {
        return lockTag;
    }

    /** @return how the call ended; {@code null} while it runs @since 0.1.0 */
    public AcquireOutcome outcome() {
        return outcome;
    }

    /** @return the attempts the call made; 0 while it runs @since 0.1.0 */
    public int attempts() {
        return attempts;
    }

    void end(AcquireOutcome outcome, int attempts) {
        this.outcome = outcome;
        this.attempts = attempts;
    }
}
