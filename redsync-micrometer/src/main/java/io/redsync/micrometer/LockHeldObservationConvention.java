package io.redsync.micrometer;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/**
 * Names the {@code redsync.lock.held} Observation and its key values. Extend
 * {@link DefaultLockHeldObservationConvention} to change some, and pass it to
 * {@link RedsyncMetrics.Builder#heldConvention}.
 *
 * @since 0.1.0
 */
public interface LockHeldObservationConvention extends ObservationConvention<LockHeldContext> {

    /**
     * Applies to {@link LockHeldContext} only.
     *
     * @param context an Observation's context
     * @return whether it is a lease's
     * @since 0.1.0
     */
    @Override
    default boolean supportsContext(Observation.Context context) {
        return context instanceof LockHeldContext;
    }
}
