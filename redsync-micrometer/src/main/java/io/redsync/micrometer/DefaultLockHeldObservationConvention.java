package io.redsync.micrometer;

import io.micrometer.common.KeyValues;

/**
 * The default names of the {@code redsync.lock.held} Observation: low-cardinality {@code outcome} (see
 * {@link LockHeldContext#outcome()}) and {@code lock} (only with a lock tag); high-cardinality
 * {@code redsync.lock.name} and, with fencing, {@code redsync.lock.fencing.token}.
 *
 * @since 0.1.0
 */
public class DefaultLockHeldObservationConvention implements LockHeldObservationConvention {

    /**
     * The shared instance.
     *
     * @since 0.1.0
     */
    public static final DefaultLockHeldObservationConvention INSTANCE = new DefaultLockHeldObservationConvention();

    /**
     * For subclasses; use {@link #INSTANCE} otherwise.
     *
     * @since 0.1.0
     */
    public DefaultLockHeldObservationConvention() {
    }

    /** @return {@code redsync.lock.held} @since 0.1.0 */
    @Override
    public String getName() {
        return RedsyncMetrics.HELD;
    }

    /**
     * The span's name: {@code hold <tag>}, or {@code hold} without a tag.
     *
     * @param context the lease
     * @return the name
     * @since 0.1.0
     */
    @Override
    public String getContextualName(LockHeldContext context) {
        return context.lockTag() == null ? "hold" : "hold " + context.lockTag();
    }

    /**
     * {@code outcome} and, with a lock tag, {@code lock}.
     *
     * @param context the lease
     * @return the values
     * @since 0.1.0
     */
    @Override
    public KeyValues getLowCardinalityKeyValues(LockHeldContext context) {
        String outcome = context.outcome();
        KeyValues values = KeyValues.of(RedsyncMetrics.OUTCOME, outcome == null ? "unknown" : outcome);
        return context.lockTag() == null ? values : values.and(RedsyncMetrics.LOCK, context.lockTag());
    }

    /**
     * {@code redsync.lock.name} and, when the lease has one, {@code redsync.lock.fencing.token}.
     *
     * @param context the lease
     * @return the values
     * @since 0.1.0
     */
    @Override
    public KeyValues getHighCardinalityKeyValues(LockHeldContext context) {
        KeyValues values = KeyValues.of("redsync.lock.name", context.lockName());
        var token = context.lease().fencingToken();
        return token.isPresent() ? values.and("redsync.lock.fencing.token", Long.toString(token.getAsLong())) : values;
    }
}
