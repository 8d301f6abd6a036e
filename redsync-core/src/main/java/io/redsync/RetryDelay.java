package io.redsync;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How long to wait before the next acquisition attempt, as a function of how many attempts have failed.
 * A lambda is a custom policy: {@code attempt -> Duration.ofMillis(10L * attempt)}.
 *
 * <p>A wait lasts at least the returned duration, and runs on the library's 10 ms timer wheel: it ends on a
 * tick, up to 10 ms late, so waits shorter than the tick last about one tick ({@code constant(1 ms)} waits
 * about 10 ms). With release notifications on, a wait is cut short when the holder releases, and it never
 * outlasts the holder's TTL.
 *
 * <p>How many attempts are made is {@link LockOptions#tries()}; an overall budget is
 * {@link LockOptions#acquireTimeout()}. Together they cover the usual retry strategies:
 * <ul>
 *   <li>no retry: {@code tries(1)} (or {@link Mutex#tryLock()});</li>
 *   <li>redsync's default: {@link #redsync()}, a uniform random wait in [50, 250) ms;</li>
 *   <li>constant ({@link #constant}), linear ({@link #linear}), exponential with cap and jitter
 *       ({@link #exponential}), uniform random ({@link #uniform});</li>
 *   <li>a limit on attempts: {@code tries(n)}; a total wait budget: {@code acquireTimeout(d)}.</li>
 * </ul>
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface RetryDelay {

    /**
     * The wait before the next attempt.
     *
     * @param failedAttempts how many attempts have failed so far: 1 before the second attempt, 2 before
     *                       the third, and so on
     * @return the wait; must be non-null and not negative (a violation fails the lock call with
     *         {@link IllegalStateException})
     * @since 0.1.0
     */
    Duration delay(int failedAttempts);

    /**
     * The same wait every time.
     *
     * @param delay the wait, {@code >= 0}
     * @return the policy
     * @throws IllegalArgumentException if {@code delay} is negative
     * @since 0.1.0
     */
    static RetryDelay constant(Duration delay) {
        requireNonNegative("delay", delay);
        return failedAttempts -> delay;
    }

    /**
     * A uniformly random wait in {@code [min, max)}; spreads contending callers apart.
     *
     * @param min the shortest wait, {@code >= 0}
     * @param max the exclusive upper bound, {@code > min}
     * @return the policy
     * @throws IllegalArgumentException if a bound is negative or {@code max <= min}
     * @since 0.1.0
     */
    static RetryDelay uniform(Duration min, Duration max) {
        requireNonNegative("min", min);
        requireNonNegative("max", max);
        long lo = min.toNanos();
        long hi = max.toNanos();
        if (hi <= lo) {
            throw new IllegalArgumentException("max must be > min for a uniform retry delay, was min=" + min + " max=" + max);
        }
        return failedAttempts -> Duration.ofNanos(ThreadLocalRandom.current().nextLong(lo, hi));
    }

    /**
     * Go redsync's default: uniform random in [50, 250) ms.
     *
     * @return the policy
     * @since 0.1.0
     */
    static RetryDelay redsync() {
        return RetryDelayDefaults.REDSYNC;
    }

    /**
     * {@code initial + step × (failedAttempts − 1)}, never more than {@code max}.
     *
     * @param initial the first wait, {@code >= 0}
     * @param step    added per further failed attempt, {@code >= 0}
     * @param max     the cap, {@code >= initial}
     * @return the policy
     * @throws IllegalArgumentException if a value is negative or {@code max < initial}
     * @since 0.1.0
     */
    static RetryDelay linear(Duration initial, Duration step, Duration max) {
        requireNonNegative("initial", initial);
        requireNonNegative("step", step);
        requireNonNegative("max", max);
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("max must be >= initial for a linear retry delay, was initial=" + initial + " max=" + max);
        }
        long first = initial.toNanos();
        long inc = step.toNanos();
        long cap = max.toNanos();
        return failedAttempts -> {
            long n = Math.max(0, failedAttempts - 1);
            // Saturate instead of overflowing: step × n can exceed a long for huge attempt numbers.
            long grown = inc == 0 || n <= (cap - first) / inc ? first + inc * n : cap;
            return Duration.ofNanos(Math.min(grown, cap));
        };
    }

    /**
     * {@code base × 2^(failedAttempts − 1)}, capped at {@code max}, then randomised by ± {@code jitter}
     * of itself (and capped again). {@code jitter = 0} is deterministic; {@code 0.5} spreads each wait
     * over [50 %, 150 %].
     *
     * @param base   the first wait, {@code > 0}
     * @param max    the cap, {@code >= base}
     * @param jitter the random spread as a fraction, in [0, 1]
     * @return the policy
     * @throws IllegalArgumentException if a value is out of range
     * @since 0.1.0
     */
    static RetryDelay exponential(Duration base, Duration max, double jitter) {
        requireNonNegative("base", base);
        requireNonNegative("max", max);
        if (base.isZero()) {
            throw new IllegalArgumentException("base must be > 0 for an exponential retry delay, was " + base);
        }
        if (max.compareTo(base) < 0) {
            throw new IllegalArgumentException("max must be >= base for an exponential retry delay, was base=" + base + " max=" + max);
        }
        if (!(jitter >= 0 && jitter <= 1)) {
            throw new IllegalArgumentException("jitter must be in [0, 1], was " + jitter);
        }
        long b = base.toNanos();
        long cap = max.toNanos();
        return failedAttempts -> {
            int shift = Math.max(0, failedAttempts - 1);
            long grown = shift >= 62 || b > (cap >> shift) ? cap : b << shift;
            long wait = Math.min(grown, cap);
            if (jitter > 0) {
                double factor = 1 + jitter * (2 * ThreadLocalRandom.current().nextDouble() - 1);
                wait = Math.min(cap, (long) (wait * factor));
            }
            return Duration.ofNanos(wait);
        };
    }

    private static void requireNonNegative(String name, Duration value) {
        Objects.requireNonNull(value, name + " must not be null");
        if (value.isNegative()) {
            throw new IllegalArgumentException(name + " must be >= 0, was " + value);
        }
    }
}

/** Holder for the shared default instance (package-private: interfaces cannot hide nested types). */
final class RetryDelayDefaults {
    static final RetryDelay REDSYNC = RetryDelay.uniform(Duration.ofMillis(50), Duration.ofMillis(250));

    private RetryDelayDefaults() {
    }
}
