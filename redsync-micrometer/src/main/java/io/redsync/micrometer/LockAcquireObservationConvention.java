package io.redsync.micrometer;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/**
 * Names the {@code redsync.lock.acquire} Observation and its key values. Extend
 * {@link DefaultLockAcquireObservationConvention} to add or change some, and pass it to
 * {@link RedsyncMetrics.Builder#acquireConvention}; or register a global convention for {@link LockAcquireContext}
 * on the {@code ObservationRegistry}.
 *
 * @since 0.1.0
 */
public interface LockAcquireObservationConvention extends ObservationConvention<LockAcquireContext> {

    /**
     * Applies to {@link LockAcquireContext} only.
     *
     * @param context an Observation's context
     * @return whether it is a lock call's
     * @since 0.1.0
     */
    @Override
    default boolean supportsContext(Observation.Context context) {
        return context instanceof LockAcquireContext;
    }
}
