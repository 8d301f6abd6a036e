package io.redsync;

import io.redsync.internal.Internals;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How a lease is kept alive: extended in the background about every third of the expiry until it is
 * released, and declared <em>lost</em> before its validity ends when it can no longer be kept.
 *
 * <p>"Lost" is decided at {@code validity deadline − lostMargin}, not after the deadline, so the guarded
 * work can be stopped (interrupt, coroutine cancellation) before the validity the nodes gave it ends. Each
 * extension is scheduled from that deadline: it is sent after at most {@link #interval()}, and early enough
 * that its answer (bounded by the node timeout) comes before the margin, so a healthy lease is never
 * declared lost without an extension having been tried. Between extensions the keeper also looks (GET)
 * whether the keys are still ours, about every quarter interval, so keys deleted behind the holder's back
 * (or lost with a node restarted empty) are noticed within that time rather than at the next extension.
 * That loss cannot be declared in advance: another client may hold the lock before the work stops, which
 * is what fencing tokens are for. A lease is lost
 * when an extension is refused (another owner holds the lock, or its keys are gone), when extensions keep
 * failing (nodes unreachable) until the margin is reached, or when a cap ({@link #maxDuration()},
 * {@link #maxExtensions()}) stops the extensions. {@link LeaseLostException#reason()} tells which.
 *
 * <p>{@link Redsync#executeLocked} and Kotlin's {@code withLock} keep leases alive with
 * {@link LockOptions#keepAlive()} (on by default); a lease from {@code lock()} is kept only after
 * {@link Lease#keepAlive()}.
 *
 * @since 0.1.0
 */
public final class KeepAlive {
    private static final KeepAlive DEFAULTS = new Builder().build();
    private static final KeepAlive DISABLED = new Builder().enabled(false).build();

    private final boolean enabled;
    private final Duration interval;
    private final Duration lostMargin;
    private final Duration maxDuration;
    private final int maxExtensions;

    private KeepAlive(Builder b) {
        this.enabled = b.enabled;
        this.interval = b.interval;
        this.lostMargin = b.lostMargin;
        this.maxDuration = b.maxDuration;
        this.maxExtensions = b.maxExtensions;
    }

    /**
     * Extend every third of the expiry, declare lost a tenth of the expiry (at least 20 ms) before the
     * deadline, no caps.
     *
     * @return the defaults
     * @since 0.1.0
     */
    public static KeepAlive defaults() {
        return DEFAULTS;
    }

    /**
     * No keeping: the lease simply expires.
     *
     * @return the disabled policy
     * @since 0.1.0
     */
    public static KeepAlive disabled() {
        return DISABLED;
    }

    /**
     * A builder starting from the defaults.
     *
     * @return a new builder
     * @since 0.1.0
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder holding these values, to derive a variant.
     *
     * @return a new builder
     * @since 0.1.0
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.enabled = enabled;
        b.interval = interval;
        b.lostMargin = lostMargin;
        b.maxDuration = maxDuration;
        b.maxExtensions = maxExtensions;
        return b;
    }

    /** @return whether leases are kept alive at all @since 0.1.0 */
    public boolean enabled() {
        return enabled;
    }

    /** @return the time between extensions; empty means a third of the lease's expiry @since 0.1.0 */
    public Optional<Duration> interval() {
        return Optional.ofNullable(interval);
    }

    /** @return how long before the validity deadline a lease that could not be extended counts as lost; empty means a tenth of the expiry, kept within the allowed range (see {@link Builder#lostMargin}) @since 0.1.0 */
    public Optional<Duration> lostMargin() {
        return Optional.ofNullable(lostMargin);
    }

    /** @return the longest time a lease is kept alive after acquisition, empty for no limit @since 0.1.0 */
    public Optional<Duration> maxDuration() {
        return Optional.ofNullable(maxDuration);
    }

    /** @return the most extensions made, empty for no limit @since 0.1.0 */
    public OptionalInt maxExtensions() {
        return maxExtensions == 0 ? OptionalInt.empty() : OptionalInt.of(maxExtensions);
    }

    /**
     * Checks the cross-field rules against a lease's expiry, drift and node timeout; called by
     * {@link LockOptions.Builder#build()}. The default margin needs no check: it is derived to fit.
     */
    void validateAgainst(Duration expiry, Duration drift, Duration nodeTimeout) {
        Internals.checkKeepAlive(this, expiry, drift, nodeTimeout);
    }

    @Override
    public String toString() {
        return !enabled ? "KeepAlive{disabled}" : "KeepAlive{interval=" + (interval == null ? "expiry/3" : interval)
                + ", lostMargin=" + (lostMargin == null ? "expiry/10" : lostMargin) + ", maxDuration=" + maxDuration
                + ", maxExtensions=" + (maxExtensions == 0 ? "none" : maxExtensions) + '}';
    }

    /**
     * Builder of {@link KeepAlive}; checks each value as it is set, and the rules against the expiry when the
     * {@link LockOptions} holding it are built.
     *
     * @since 0.1.0
     */
    public static final class Builder {
        private boolean enabled = true;
        private Duration interval;
        private Duration lostMargin;
        private Duration maxDuration;
        private int maxExtensions;

        private Builder() {
        }

        /**
         * Switches keeping on or off.
         *
         * @param enabled false to let leases expire
         * @return this builder
         * @since 0.1.0
         */
        public Builder enabled(boolean enabled) {
            this.enabled = enabled;
            return this;
        }

        /**
         * Sets the longest time between extensions (default: a third of the expiry). An extension is sent
         * earlier when waiting the whole interval would leave too little time before the lost margin: each is
         * due at the latest at {@code deadline − lostMargin − nodeTimeout − 20 ms}.
         *
         * @param interval positive, shorter than the expiry
         * @return this builder
         * @since 0.1.0
         */
        public Builder interval(Duration interval) {
            this.interval = positive("interval", interval);
            return this;
        }

        /**
         * Sets how long before the deadline a lease that could not be extended counts as lost (default: a
         * tenth of the expiry, at least 20 ms). Make it longer than the guarded work needs to notice and stop.
         * {@link LockOptions.Builder#build()} checks it against the lease: at least 20 ms (two ticks of the
         * timer that declares the loss), at most {@code expiry − drift − 2 × nodeTimeout − 30 ms} (time to send
         * an extension, wait for its answer and still act before the margin).
         *
         * @param lostMargin positive
         * @return this builder
         * @since 0.1.0
         */
        public Builder lostMargin(Duration lostMargin) {
            this.lostMargin = positive("lostMargin", lostMargin);
            return this;
        }

        /**
         * Caps the total time a lease is kept alive, so a stuck holder cannot hold the lock forever. After
         * it, no extension is made and the lease is lost before its last validity ends.
         *
         * @param maxDuration positive
         * @return this builder
         * @since 0.1.0
         */
        public Builder maxDuration(Duration maxDuration) {
            this.maxDuration = positive("maxDuration", maxDuration);
            return this;
        }

        /**
         * Caps the number of extensions.
         *
         * @param maxExtensions at least 1
         * @return this builder
         * @since 0.1.0
         */
        public Builder maxExtensions(int maxExtensions) {
            if (maxExtensions < 1) {
                throw new IllegalArgumentException("maxExtensions must be >= 1, was " + maxExtensions);
            }
            this.maxExtensions = maxExtensions;
            return this;
        }

        /**
         * Builds the policy.
         *
         * @return the policy
         * @since 0.1.0
         */
        public KeepAlive build() {
            return new KeepAlive(this);
        }

        private static Duration positive(String name, Duration value) {
            Objects.requireNonNull(value, name + " must not be null");
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + " must be > 0, was " + value);
            }
            return value;
        }
    }
}
