package io.redsync.micrometer;

import io.micrometer.common.KeyValues;
import io.redsync.RedsyncListener.AcquireOutcome;

import java.util.Locale;

/**
 * The default names of the {@code redsync.lock.acquire} Observation: low-cardinality {@code outcome}
 * ({@code granted}, {@code busy}, {@code failed}, {@code cancelled}) and {@code lock} (only with a
 * {@link LockNameTag} other than {@link LockNameTag#none()}); high-cardinality {@code redsync.lock.name} and
 * {@code redsync.lock.attempts}, which reach spans but never metrics.
 *
 * @since 0.1.0
 */
public class DefaultLockAcquireObservationConvention implements LockAcquireObservationConvention {

    /**
     * The shared instance.
     *
     * @since 0.1.0
     */
    public static final DefaultLockAcquireObservationConvention INSTANCE = new DefaultLockAcquireObservationConvention();

    /**
     * For subclasses; use {@link #INSTANCE} otherwise.
     *
     * @since 0.1.0
     */
    public DefaultLockAcquireObservationConvention() {
    }

    /** @return {@code redsync.lock.acquire} @since 0.1.0 */
    @Override
    public String getName() {
        return RedsyncMetrics.ACQUIRE;
    }

    /**
     * The span's name: {@code lock <tag>}, or {@code lock} without a tag.
     *
     * @param context the call
     * @return the name
     * @since 0.1.0
     */
    @Override
    public String getContextualName(LockAcquireContext context) {
        return context.lockTag() == null ? "lock" : "lock " + context.lockTag();
    }

    /**
     * {@code outcome} and, with a lock tag, {@code lock}.
     *
     * @param context the call
     * @return the values
     * @since 0.1.0
     */
    @Override
    public KeyValues getLowCardinalityKeyValues(LockAcquireContext context) {
        AcquireOutcome outcome = context.outcome();
        KeyValues values = KeyValues.of(RedsyncMetrics.OUTCOME, outcome == null ? "unknown" : outcome.name().toLowerCase(Locale.ROOT));
        return context.lockTag() == null ? values : values.and(RedsyncMetrics.LOCK, context.lockTag());
    }

    /**
     * {@code redsync.lock.name} and {@code redsync.lock.attempts}.
     *
     * @param context the call
     * @return the values
     * @since 0.1.0
     */
    @Override
    public KeyValues getHighCardinalityKeyValues(LockAcquireContext context) {
        return KeyValues.of("redsync.lock.name", context.lockName(), "redsync.lock.attempts", Integer.toString(context.attempts()));
    }
}
