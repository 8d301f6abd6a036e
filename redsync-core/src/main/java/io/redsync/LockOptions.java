package io.redsync;

import io.redsync.internal.Internals;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * How a lock is acquired and held. Immutable; the defaults equal Go redsync's:
 *
 * <table>
 *   <caption>Options and defaults</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@link #expiry()}</td><td>8 s</td><td>TTL of the lock keys; the lease is valid for less (see {@link #drift()})</td></tr>
 *   <tr><td>{@link #tries()}</td><td>32</td><td>acquisition attempts per {@code lock()} call</td></tr>
 *   <tr><td>{@link #retryDelay()}</td><td>uniform [50, 250) ms</td><td>wait between attempts</td></tr>
 *   <tr><td>{@link #driftFactor()}</td><td>0.01</td><td>clock drift allowance, times the expiry</td></tr>
 *   <tr><td>{@link #timeoutFactor()}</td><td>0.05</td><td>per-node timeout as a fraction of the expiry, capped at 2 s</td></tr>
 *   <tr><td>{@link #nodeTimeout()}</td><td>expiry × timeoutFactor, at most 2 s</td><td>longest wait for one node's answer</td></tr>
 *   <tr><td>{@link #acquireTimeout()}</td><td>none</td><td>total budget for one {@code lock()} call</td></tr>
 *   <tr><td>{@link #valueGenerator()}</td><td>16 SecureRandom bytes, base64</td><td>the owner token stored in the keys</td></tr>
 *   <tr><td>{@link #value()}</td><td>none</td><td>a preset owner token (ownership transfer)</td></tr>
 *   <tr><td>{@link #failFast()}</td><td>false</td><td>decide as soon as a quorum agrees either way</td></tr>
 *   <tr><td>{@link #shufflePools()}</td><td>false</td><td>ask the nodes in a random order per mutex</td></tr>
 *   <tr><td>{@link #setNXOnExtend()}</td><td>false</td><td>extension re-creates missing keys (weaker, see there)</td></tr>
 *   <tr><td>{@link #releaseNotifications()}</td><td>true</td><td>waiters wake when the holder releases, instead of polling</td></tr>
 *   <tr><td>{@link #fencing()}</td><td>false</td><td>each lease gets a strictly increasing fencing token</td></tr>
 *   <tr><td>{@link #keepAlive()}</td><td>{@link KeepAlive#defaults()}</td><td>how {@code executeLocked}/{@code withLock} keep the lease</td></tr>
 * </table>
 *
 * <p>Build with {@link #builder()}; every field and cross-field rule is checked in
 * {@link Builder#build()}, which names the field, the value and the allowed range on failure.
 *
 * @since 0.1.0
 */
public final class LockOptions {

    /** Upper bound of the derived node timeout. A 10-hour lock must not wait 30 minutes for a node (redsync #184). */
    static final Duration MAX_DERIVED_NODE_TIMEOUT = Duration.ofSeconds(2);

    private static final LockOptions DEFAULTS = new Builder().build();

    private final Duration expiry;
    private final int tries;
    private final RetryDelay retryDelay;
    private final double driftFactor;
    private final double timeoutFactor;
    private final Duration nodeTimeout;
    private final boolean nodeTimeoutExplicit;
    private final Duration acquireTimeout;
    private final Supplier<String> valueGenerator;
    private final String value;
    private final boolean failFast;
    private final boolean shufflePools;
    private final boolean setNXOnExtend;
    private final KeepAlive keepAlive;
    private final boolean releaseNotifications;
    private final boolean fencing;

    private LockOptions(Builder b, Duration nodeTimeout) {
        this.expiry = b.expiry;
        this.tries = b.tries;
        this.retryDelay = b.retryDelay;
        this.driftFactor = b.driftFactor;
        this.timeoutFactor = b.timeoutFactor;
        this.nodeTimeout = nodeTimeout;
        this.nodeTimeoutExplicit = b.nodeTimeout != null;
        this.acquireTimeout = b.acquireTimeout;
        this.valueGenerator = b.valueGenerator;
        this.value = b.value;
        this.failFast = b.failFast;
        this.shufflePools = b.shufflePools;
        this.setNXOnExtend = b.setNXOnExtend;
        this.keepAlive = b.keepAlive;
        this.releaseNotifications = b.releaseNotifications;
        this.fencing = b.fencing;
    }

    /**
     * The defaults (redsync's).
     *
     * @return the shared default options
     * @since 0.1.0
     */
    public static LockOptions defaults() {
        return DEFAULTS;
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
     * A builder starting from these options, to derive a variant.
     *
     * @return a new builder holding these values
     * @since 0.1.0
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.expiry = expiry;
        b.tries = tries;
        b.retryDelay = retryDelay;
        b.driftFactor = driftFactor;
        b.timeoutFactor = timeoutFactor;
        b.nodeTimeout = nodeTimeoutExplicit ? nodeTimeout : null;
        b.acquireTimeout = acquireTimeout;
        b.valueGenerator = valueGenerator;
        b.value = value;
        b.failFast = failFast;
        b.shufflePools = shufflePools;
        b.setNXOnExtend = setNXOnExtend;
        b.keepAlive = keepAlive;
        b.releaseNotifications = releaseNotifications;
        b.fencing = fencing;
        return b;
    }

    /** @return the TTL set on the lock keys (default 8 s) @since 0.1.0 */
    public Duration expiry() {
        return expiry;
    }

    /**
     * The number of tries per lock call, one due every {@link #retryDelay()}: the call's schedule, so
     * {@code tries × retryDelay} is how long it waits. Polling, each try is an attempt sent to the nodes. With
     * {@link #releaseNotifications()}, a waiter subscribed to the lock's release announcements spends a due try
     * without sending while its last attempt found another owner holding the lock on a quorum, nothing was
     * announced and that owner's keys have not expired (at most 5 s, for announcements lost), and also while a
     * lease of the same {@code Redsync} instance holds the lock, another call of the instance has an attempt in
     * flight for it, or such an attempt found another owner holding it (until that owner's release is announced
     * or its keys expire, at most 5 s); its last try is always sent. Attempts made because a release was announced
     * do not count.
     *
     * @return the number of tries (default 32; 1 = no retry)
     * @since 0.1.0
     */
    public int tries() {
        return tries;
    }

    /**
     * The wait between tries (see {@link #tries()}), cut short by an announced release and never longer than
     * the holder's remaining TTL. A subscribed waiter's due try is not sent while the lock is known held: the delay
     * then paces the tries, not the Redis commands.
     *
     * @return the wait between tries (default {@link RetryDelay#redsync()})
     * @since 0.1.0
     */
    public RetryDelay retryDelay() {
        return retryDelay;
    }

    /** @return the clock drift allowance as a fraction of the expiry (default 0.01) @since 0.1.0 */
    public double driftFactor() {
        return driftFactor;
    }

    /** @return the node timeout as a fraction of the expiry when not set explicitly (default 0.05) @since 0.1.0 */
    public double timeoutFactor() {
        return timeoutFactor;
    }

    /**
     * The longest wait for one node's answer to one command (acquire, release, extend, check). A node
     * that does not answer in time counts as failed for that operation.
     *
     * @return the explicit value, else {@code expiry × timeoutFactor} capped at 2 s
     * @since 0.1.0
     */
    public Duration nodeTimeout() {
        return nodeTimeout;
    }

    /**
     * The total time one {@code lock()} call may take. No attempt starts once the next retry delay
     * would end past it; the call then fails with {@link LockAcquisitionException}.
     *
     * @return the budget, or empty for none (then {@link #tries()} alone limits the call)
     * @since 0.1.0
     */
    public Optional<Duration> acquireTimeout() {
        return Optional.ofNullable(acquireTimeout);
    }

    /**
     * The source of owner tokens when no {@link #value()} is preset. The default gives 128 random bits per
     * lock call, stored as they are. A custom generator's value is stored followed by {@code '#'} and 24
     * random base64 characters, unique to the lock call, so the generator need not be unique: two lock calls
     * never share a token, and a generator that always returns the host name is safe (never two holders).
     *
     * @return the generator
     * @since 0.1.0
     */
    public Supplier<String> valueGenerator() {
        return valueGenerator;
    }

    /**
     * A preset owner token, so a process that knows the value can release or extend a lock another process
     * took (redsync's {@code WithValue}). A lock call made with it stores the value followed by {@code '#'}
     * and 24 random base64 characters, unique to that call ({@link Lease#value()} returns the whole token):
     * calls sharing the value never delete, refresh or extend each other's keys. {@code Mutex.unlock()},
     * {@code extend()} and {@code valid()} without a lease of their own act on the keys holding the value
     * itself or the token of any lock call made with it (extend: the one such call holding a quorum).
     *
     * @return the preset value, or empty when each lock call generates one
     * @since 0.1.0
     */
    public Optional<String> value() {
        return Optional.ofNullable(value);
    }

    /** @return whether operations decide as soon as a quorum agrees for or against @since 0.1.0 */
    public boolean failFast() {
        return failFast;
    }

    /** @return whether each mutex asks the nodes in its own random order @since 0.1.0 */
    public boolean shufflePools() {
        return shufflePools;
    }

    /**
     * Whether an extension re-creates the key on nodes where it is missing. Kept for parity with
     * redsync; it is weaker: a key that expired and was taken and released by someone else in between
     * is silently recreated, so two owners may believe they hold the lock.
     *
     * @return true when extension sets missing keys
     * @since 0.1.0
     */
    public boolean setNXOnExtend() {
        return setNXOnExtend;
    }

    /**
     * How {@link Redsync#executeLocked}, Kotlin's {@code withLock} and {@link Lease#keepAlive()} keep a
     * lease alive.
     *
     * @return the policy (default {@link KeepAlive#defaults()}: extend every expiry/3)
     * @since 0.1.0
     */
    public KeepAlive keepAlive() {
        return keepAlive;
    }

    /**
     * Whether a waiting lock call subscribes to release announcements and retries as soon as the holder
     * releases, instead of sleeping out its retry delay. Subscribed, it sends nothing while the lock is known
     * held (see {@link #tries()}), so a crowd of waiters costs Redis one attempt per release, not one per
     * waiter and retry delay. Calls of one instance take turns: while a lease of the instance holds the lock
     * (or a sibling call's attempt is in flight), the others send nothing, and that lease's release wakes one of
     * them at once. Either way a wait never outlasts the holder's remaining TTL, and a lost
     * announcement costs at most 5 s, within the call's tries and acquire timeout. Off: pure polling, as
     * redsync.
     *
     * @return true to wake on release (default)
     * @since 0.1.0
     */
    public boolean releaseNotifications() {
        return releaseNotifications;
    }

    /**
     * Whether each lease carries a fencing token that strictly increases across successive holders of the
     * lock, for storage to reject writes from a holder that lost the lock (see {@link Lease#fencingToken()}).
     * Each node keeps a counter beside the lock key; they never expire, and tokens only increase as long
     * as the counters survive node restarts: run the nodes with {@code appendonly yes} and
     * {@code appendfsync always}, or restart a node only after the longest lock TTL has passed.
     *
     * @return true to issue fencing tokens (default false; costs one more round trip per acquisition)
     * @since 0.1.0
     */
    public boolean fencing() {
        return fencing;
    }

    /**
     * The validity subtracted from each lease: {@code expiry × driftFactor + 2 ms} (the 2 ms is Redis'
     * expiry precision, as the Redlock description says).
     *
     * @return the drift allowance
     * @since 0.1.0
     */
    public Duration drift() {
        return drift(expiry, driftFactor);
    }

    private static Duration drift(Duration expiry, double driftFactor) {
        return Internals.drift(expiry, driftFactor);
    }

    @Override
    public String toString() {
        return "LockOptions{expiry=" + expiry + ", tries=" + tries + ", driftFactor=" + driftFactor
                + ", timeoutFactor=" + timeoutFactor + ", nodeTimeout=" + nodeTimeout
                + ", acquireTimeout=" + acquireTimeout + ", value=" + (value == null ? "generated" : "preset")
                + ", failFast=" + failFast + ", shufflePools=" + shufflePools + ", setNXOnExtend=" + setNXOnExtend
                + ", keepAlive=" + keepAlive + ", releaseNotifications=" + releaseNotifications + ", fencing=" + fencing + '}';
    }

    /**
     * Mutable builder of {@link LockOptions}. Not thread-safe. Setters reject {@code null} at once;
     * ranges and cross-field rules are checked by {@link #build()}.
     *
     * @since 0.1.0
     */
    public static final class Builder {
        private Duration expiry = Duration.ofSeconds(8);
        private int tries = 32;
        private RetryDelay retryDelay = RetryDelay.redsync();
        private double driftFactor = 0.01;
        private double timeoutFactor = 0.05;
        private Duration nodeTimeout;
        private Duration acquireTimeout;
        private Supplier<String> valueGenerator = RandomValues.INSTANCE;
        private String value;
        private boolean failFast;
        private boolean shufflePools;
        private boolean setNXOnExtend;
        private KeepAlive keepAlive = KeepAlive.defaults();
        private boolean releaseNotifications = true;
        private boolean fencing;

        private Builder() {
        }

        /**
         * Wake waiting lock calls when the holder releases (default), or poll only.
         *
         * @param releaseNotifications false for pure polling
         * @return this builder
         * @see LockOptions#releaseNotifications()
         * @since 0.1.0
         */
        public Builder releaseNotifications(boolean releaseNotifications) {
            this.releaseNotifications = releaseNotifications;
            return this;
        }

        /**
         * Issue fencing tokens.
         *
         * @param fencing true to issue them
         * @return this builder
         * @see LockOptions#fencing()
         * @since 0.1.0
         */
        public Builder fencing(boolean fencing) {
            this.fencing = fencing;
            return this;
        }

        /**
         * Sets the lock keys' TTL.
         *
         * @param expiry positive, and at least twice the drift it implies
         * @return this builder
         * @since 0.1.0
         */
        public Builder expiry(Duration expiry) {
            this.expiry = Objects.requireNonNull(expiry, "expiry must not be null");
            return this;
        }

        /**
         * Sets the number of tries per lock call, one due every retry delay; 1 means no retry.
         * {@link Integer#MAX_VALUE} retries until acquired (bound it with {@link #acquireTimeout(Duration)} or
         * cancellation). A call that is never woken uses exactly this many tries: polling, each is an attempt;
         * subscribed to release announcements, a try due while the lock is known held is spent without sending
         * (see {@link LockOptions#tries()}), and the last is always sent. An attempt made early because the lock
         * became free (a release was announced, or the one look a waiter takes when it starts listening found the
         * keys gone) does not count, and a failed one resumes the wait it cut short.
         *
         * @param tries at least 1
         * @return this builder
         * @since 0.1.0
         */
        public Builder tries(int tries) {
            this.tries = tries;
            return this;
        }

        /**
         * Sets the wait between tries (see {@link LockOptions#retryDelay()}).
         *
         * @param retryDelay the policy
         * @return this builder
         * @since 0.1.0
         */
        public Builder retryDelay(RetryDelay retryDelay) {
            this.retryDelay = Objects.requireNonNull(retryDelay, "retryDelay must not be null");
            return this;
        }

        /**
         * Sets the clock drift allowance.
         *
         * @param driftFactor in (0, 1)
         * @return this builder
         * @since 0.1.0
         */
        public Builder driftFactor(double driftFactor) {
            this.driftFactor = driftFactor;
            return this;
        }

        /**
         * Sets the derived node timeout's fraction of the expiry.
         *
         * @param timeoutFactor in (0, 1)
         * @return this builder
         * @since 0.1.0
         */
        public Builder timeoutFactor(double timeoutFactor) {
            this.timeoutFactor = timeoutFactor;
            return this;
        }

        /**
         * Sets the node timeout explicitly, overriding {@code expiry × timeoutFactor}.
         *
         * @param nodeTimeout positive and shorter than the expiry; {@code null} goes back to the derived one
         * @return this builder
         * @since 0.1.0
         */
        public Builder nodeTimeout(Duration nodeTimeout) {
            this.nodeTimeout = nodeTimeout;
            return this;
        }

        /**
         * Sets a total time budget per lock call.
         *
         * @param acquireTimeout positive; {@code null} for none
         * @return this builder
         * @since 0.1.0
         */
        public Builder acquireTimeout(Duration acquireTimeout) {
            this.acquireTimeout = acquireTimeout;
            return this;
        }

        /**
         * Sets the owner-token generator. Its values need not be unique: each lock call stores its value
         * with a suffix unique to the call (see {@link LockOptions#valueGenerator()}).
         *
         * @param valueGenerator returns a non-blank value on each call
         * @return this builder
         * @since 0.1.0
         */
        public Builder valueGenerator(Supplier<String> valueGenerator) {
            this.valueGenerator = Objects.requireNonNull(valueGenerator, "valueGenerator must not be null");
            return this;
        }

        /**
         * Presets the owner token (ownership transfer).
         *
         * @param value non-blank; {@code null} to generate one per lock call again
         * @return this builder
         * @see LockOptions#value()
         * @since 0.1.0
         */
        public Builder value(String value) {
            this.value = value;
            return this;
        }

        /**
         * Decide each operation as soon as a quorum agrees for or against, without waiting for slower nodes.
         *
         * @param failFast true to decide early
         * @return this builder
         * @since 0.1.0
         */
        public Builder failFast(boolean failFast) {
            this.failFast = failFast;
            return this;
        }

        /**
         * Ask the nodes in a random order chosen once per mutex, spreading first-contact load.
         *
         * @param shufflePools true to shuffle
         * @return this builder
         * @since 0.1.0
         */
        public Builder shufflePools(boolean shufflePools) {
            this.shufflePools = shufflePools;
            return this;
        }

        /**
         * Let extensions re-create missing keys; see {@link LockOptions#setNXOnExtend()} for why this is weaker.
         *
         * @param setNXOnExtend true to re-create
         * @return this builder
         * @since 0.1.0
         */
        public Builder setNXOnExtend(boolean setNXOnExtend) {
            this.setNXOnExtend = setNXOnExtend;
            return this;
        }

        /**
         * Sets how leases are kept alive by {@code executeLocked}, {@code withLock} and
         * {@link Lease#keepAlive()}; {@link KeepAlive#disabled()} switches it off.
         *
         * @param keepAlive the policy; its interval and margin must fit the expiry
         * @return this builder
         * @since 0.1.0
         */
        public Builder keepAlive(KeepAlive keepAlive) {
            this.keepAlive = Objects.requireNonNull(keepAlive, "keepAlive must not be null");
            return this;
        }

        /**
         * Checks every field and cross-field rule and builds the options.
         *
         * @return the options
         * @throws IllegalArgumentException naming the field, the value and the allowed range
         * @since 0.1.0
         */
        public LockOptions build() {
            Internals.checkTtl("expiry", expiry);
            if (tries < 1) {
                throw new IllegalArgumentException("tries must be >= 1, was " + tries
                        + " (1 = a single attempt; use Integer.MAX_VALUE with an acquireTimeout to wait indefinitely)");
            }
            requireOpenUnit("driftFactor", driftFactor);
            requireOpenUnit("timeoutFactor", timeoutFactor);
            Internals.checkAboveDrift("expiry", expiry, driftFactor);
            Duration drift = drift(expiry, driftFactor);
            Duration effectiveTimeout;
            if (nodeTimeout != null) {
                if (nodeTimeout.isNegative() || nodeTimeout.isZero()) {
                    throw new IllegalArgumentException("nodeTimeout must be > 0, was " + nodeTimeout);
                }
                if (nodeTimeout.compareTo(expiry) >= 0) {
                    throw new IllegalArgumentException("nodeTimeout must be < expiry (" + expiry + "), was " + nodeTimeout
                            + ": an attempt that waits longer than the expiry can never yield a valid lease");
                }
                effectiveTimeout = nodeTimeout;
            } else {
                Duration derived = Duration.ofNanos((long) (expiry.toNanos() * timeoutFactor));
                effectiveTimeout = derived.compareTo(MAX_DERIVED_NODE_TIMEOUT) > 0 ? MAX_DERIVED_NODE_TIMEOUT
                        : derived.isZero() ? Duration.ofNanos(1) : derived;
            }
            if (acquireTimeout != null && (acquireTimeout.isNegative() || acquireTimeout.isZero())) {
                throw new IllegalArgumentException("acquireTimeout must be > 0, was " + acquireTimeout);
            }
            keepAlive.validateAgainst(expiry, drift, effectiveTimeout);
            if (value != null && value.isBlank()) {
                throw new IllegalArgumentException("value must not be blank: a preset owner token must identify the owner");
            }
            return new LockOptions(this, effectiveTimeout);
        }

        private static void requireOpenUnit(String name, double v) {
            if (!(v > 0 && v < 1)) {
                throw new IllegalArgumentException(name + " must be in (0, 1), was " + v);
            }
        }
    }

    /** The default owner tokens: 16 bytes from SecureRandom, base64 (24 characters), as redsync does. */
    static final class RandomValues implements Supplier<String> {
        static final RandomValues INSTANCE = new RandomValues();
        // One shared generator, not one per thread: with virtual threads a thread-local would seed a
        // new SecureRandom for nearly every call.
        private static final SecureRandom RANDOM = new SecureRandom();

        @Override
        public String get() {
            byte[] bytes = new byte[16];
            RANDOM.nextBytes(bytes);
            return Base64.getEncoder().encodeToString(bytes);
        }

        @Override
        public String toString() {
            return "16 SecureRandom bytes, base64";
        }
    }
}
