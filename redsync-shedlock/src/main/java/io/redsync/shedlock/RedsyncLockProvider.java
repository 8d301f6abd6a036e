package io.redsync.shedlock;

import io.redsync.KeepAlive;
import io.redsync.Lease;
import io.redsync.LockOptions;
import io.redsync.LockTakenException;
import io.redsync.Redsync;
import io.redsync.RedsyncException;
import net.javacrumbs.shedlock.core.ClockProvider;
import net.javacrumbs.shedlock.core.ExtensibleLockProvider;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.SimpleLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A ShedLock {@link ExtensibleLockProvider} over a {@link Redsync} instance: a {@code @SchedulerLock} job runs on
 * the instance that holds the lock on a majority of N independent Redis masters (Redlock), so one Redis node failing
 * or losing its data neither stops the jobs nor lets them run twice.
 *
 * <pre>{@code
 * @Bean
 * LockProvider lockProvider(Redsync redsync) {
 *     return new RedsyncLockProvider(redsync);
 * }
 * }</pre>
 *
 * <p>ShedLock's semantics hold:
 * <ul>
 *   <li>{@link #lock} makes one attempt and never waits: when another instance holds the lock it returns empty and
 *       ShedLock skips the run (after a split vote, where instances firing together each took some nodes and none
 *       a quorum, it tries again a few milliseconds later, so that one of them runs the job);</li>
 *   <li>{@code lockAtMostFor} is the lease's expiry: if the instance dies, the lock frees itself after it;</li>
 *   <li>{@code lockAtLeastFor}: on {@link SimpleLock#unlock()} before {@code lockAtLeastUntil}, the keys are kept
 *       (their TTL set to the time left) instead of deleted, so a run that finished early is not repeated by a
 *       clock-skewed instance;</li>
 *   <li>{@link SimpleLock#extend(Duration, Duration)} moves both bounds, counted from now; it returns empty if the
 *       lock was no longer held.</li>
 * </ul>
 *
 * <p>Beyond ShedLock's own providers, {@link Builder#keepAlive(Duration)} holds the lock with a short expiry kept
 * alive while the job runs, up to {@code lockAtMostFor}: an instance that crashes frees its jobs within that short
 * expiry instead of {@code lockAtMostFor}.
 *
 * <p>The lock's name is {@link Builder#keyPrefix(String) keyPrefix} (default {@value #DEFAULT_KEY_PREFIX}) followed
 * by the job's {@code @SchedulerLock(name)}; the Redis key adds the {@link Redsync#keyPrefix()} in front. Locking
 * throws the {@link RedsyncException} of the attempt when it could not tell (fewer than a quorum of nodes answered):
 * ShedLock then does not run the job. Thread-safe.
 *
 * @since 0.1.0
 */
public final class RedsyncLockProvider implements ExtensibleLockProvider {
    /** The prefix put before every job name unless {@link Builder#keyPrefix(String)} sets another. @since 0.1.0 */
    public static final String DEFAULT_KEY_PREFIX = "shedlock:";

    private static final Logger log = LoggerFactory.getLogger(RedsyncLockProvider.class);
    /** Attempts made when each one ends in a split vote. */
    private static final int SPLIT_VOTE_TRIES = 5;
    /** Below this much of lockAtLeastFor left, unlock deletes the keys rather than setting a TTL that short. */
    private static final Duration MIN_KEEP = Duration.ofMillis(10);

    private final Redsync redsync;
    private final String keyPrefix;
    private final Duration keepAliveExpiry;

    /**
     * A provider with the defaults: key prefix {@value #DEFAULT_KEY_PREFIX}, {@code lockAtMostFor} as the expiry.
     *
     * @param redsync the nodes and default lock options; the provider never closes it
     * @since 0.1.0
     */
    public RedsyncLockProvider(Redsync redsync) {
        this(builder(redsync));
    }

    private RedsyncLockProvider(Builder b) {
        this.redsync = b.redsync;
        this.keyPrefix = b.keyPrefix;
        this.keepAliveExpiry = b.keepAliveExpiry;
    }

    /**
     * A builder for a provider with a key prefix or keep-alive.
     *
     * @param redsync the nodes and default lock options; the provider never closes it
     * @return a new builder
     * @since 0.1.0
     */
    public static Builder builder(Redsync redsync) {
        return new Builder(redsync);
    }

    /** @return the prefix put before every job name @since 0.1.0 */
    public String keyPrefix() {
        return keyPrefix;
    }

    /** @return the short expiry kept alive while a job runs, empty when {@code lockAtMostFor} is the expiry @since 0.1.0 */
    public Optional<Duration> keepAliveExpiry() {
        return Optional.ofNullable(keepAliveExpiry);
    }

    /**
     * Makes one attempt to take the job's lock; never waits for another holder. Only after a split vote (contenders
     * each holding some nodes, none a quorum), or an attempt that may have been one (see {@link #maybeSplit}), it
     * tries again after 5-50 ms, at most 5 attempts in all. Waits only for the
     * nodes' answers (bounded by the node timeout) and those short delays; an interrupt skips the run (empty) and
     * keeps the interrupt status.
     *
     * @param configuration the job's name, {@code lockAtMostFor} and {@code lockAtLeastFor}
     * @return the lock, or empty when another instance holds it (ShedLock skips the run)
     * @throws io.redsync.LockAcquisitionException if it could not be decided: fewer than a quorum of nodes answered
     *                                             or one is misconfigured (node errors attached)
     * @throws IllegalArgumentException            if {@code lockAtMostFor} is too short to be a lease's expiry
     * @since 0.1.0
     */
    @Override
    public Optional<SimpleLock> lock(LockConfiguration configuration) {
        Objects.requireNonNull(configuration, "configuration must not be null");
        Duration atMost = configuration.getLockAtMostFor();
        boolean keep = keepAliveExpiry != null && keepAliveExpiry.compareTo(atMost) < 0;
        LockOptions options = redsync.options()
                .expiry(wholeMillis(keep ? keepAliveExpiry : atMost))
                .keepAlive(keep ? KeepAlive.defaults() : KeepAlive.disabled())
                .tries(1)
                .build();
        String name = keyPrefix + configuration.getName();
        Lease held = attempt(name, options);
        if (held == null) {
            return Optional.empty();
        }
        if (keep) {
            held.onLost(e -> log.warn("ShedLock lock '{}' was lost while its job runs (another instance may start it): {}",
                    name, e.getMessage()));
            held.keepAlive();
        }
        return Optional.of(new RedsyncSimpleLock(held, configuration.getLockAtLeastUntil(),
                keep ? releaseAt(held, configuration.getLockAtMostUntil()) : null));
    }

    /**
     * One attempt; another only after a split vote. Instances whose schedulers fire in the same millisecond can each
     * take some nodes and none a quorum (Redlock's split vote: with a node down, or three or more instances): every
     * one of them would skip the run. Then, and only then, it tries again after a short random delay, at most
     * {@value #SPLIT_VOTE_TRIES} attempts in all: contenders released their partial holds, so one wins and the others
     * see a real holder and skip. A lock another instance holds on a quorum is never waited for.
     */
    private Lease attempt(String name, LockOptions options) {
        for (int attempt = 1; ; attempt++) {
            long started = System.nanoTime();
            try {
                return redsync.mutex(name, options).lock();
            } catch (LockTakenException e) {
                if (!maybeSplit(e, options.expiry(), Duration.ofNanos(System.nanoTime() - started)) || attempt >= SPLIT_VOTE_TRIES) {
                    return null;
                }
                try {
                    Thread.sleep(ThreadLocalRandom.current().nextLong(5, 50));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt(); // the scheduler is stopping: skip this run
                    return null;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    /**
     * Whether a "taken" attempt may have been a split vote, so that trying again can decide it:
     * <ul>
     *   <li>the other owner held fewer than a quorum ({@code holderTtl} zero);</li>
     *   <li>or this attempt took some nodes, and the other keys it met were set while it ran: their TTL is within
     *       the attempt's duration of a whole expiry (PTTL counts whole milliseconds, hence one more). That is how
     *       three instances firing together on three nodes look when each took one node: the ballot sees "another
     *       owner" on two nodes, a quorum, and cannot tell that they are two owners. All three would skip the run.
     *       A real holder that took the lock a moment before looks the same once; on the next attempt, 5 ms later or
     *       more, its keys are older than that attempt and it is not tried again.</li>
     * </ul>
     * The second assumes the other instances use the same {@code lockAtMostFor}. When they do not, an instance may try
     * up to the limit, or not again at all; either way each attempt is an ordinary Redlock attempt, which never takes
     * a lock another owner holds on a quorum.
     */
    static boolean maybeSplit(LockTakenException e, Duration expiry, Duration took) {
        Duration holderTtl = e.holderTtl().orElse(null);
        if (holderTtl == null) {
            return false;
        }
        if (holderTtl.isZero()) {
            return true;
        }
        return !e.votes().succeeded().isEmpty() && holderTtl.toMillis() >= expiry.toMillis() - took.toMillis() - 1;
    }

    /** Releases the kept-alive lease at {@code when}, unless the returned flag was set first. */
    private static AtomicBoolean releaseAt(Lease lease, Instant when) {
        AtomicBoolean cancelled = new AtomicBoolean();
        long delay = Math.max(0, Duration.between(ClockProvider.now(), when).toMillis());
        CompletableFuture.runAsync(() -> {
            if (cancelled.compareAndSet(false, true)) {
                lease.releaseAsync().exceptionally(e -> {
                    log.warn("ShedLock lock '{}' not released at its deadline (its keys expire with their TTL): {}",
                            lease.name(), e.getMessage());
                    return null;
                });
            }
        }, CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS));
        return cancelled;
    }

    /** Redis sets TTLs in whole milliseconds: rounds up, so the keys never expire before the bound. */
    private static Duration wholeMillis(Duration d) {
        return Duration.ofMillis(d.plusNanos(999_999).toMillis());
    }

    @Override
    public String toString() {
        return "RedsyncLockProvider{keyPrefix='" + keyPrefix + "', keepAliveExpiry=" + keepAliveExpiry + ", " + redsync.nodeCount()
                + " nodes}";
    }

    /** One holding of a job's lock: a lease, the end of lockAtLeastFor, and (kept alive) the lockAtMostFor release. */
    private final class RedsyncSimpleLock implements SimpleLock {
        private final Lease lease;
        private final Instant atLeastUntil;
        private final AtomicBoolean capCancelled;
        private final AtomicBoolean done = new AtomicBoolean();

        RedsyncSimpleLock(Lease lease, Instant atLeastUntil, AtomicBoolean capCancelled) {
            this.lease = lease;
            this.atLeastUntil = atLeastUntil;
            this.capCancelled = capCancelled;
        }

        @Override
        public void unlock() {
            finish("unlocked");
            if (capCancelled != null && !capCancelled.compareAndSet(false, true)) {
                return; // lockAtMostFor passed: the cap released it already
            }
            Duration left = Duration.between(ClockProvider.now(), atLeastUntil);
            try {
                if (left.compareTo(MIN_KEEP) < 0) {
                    lease.release();
                } else if (capCancelled != null) {
                    releaseAt(lease, atLeastUntil); // kept alive until then, then released
                } else {
                    lease.extend(wholeMillis(left)); // the keys stay until lockAtLeastUntil
                }
            } catch (RedsyncException e) {
                log.warn("ShedLock lock '{}' could not be unlocked cleanly (its keys expire with their TTL): {}",
                        lease.name(), e.getMessage());
            }
        }

        @Override
        public Optional<SimpleLock> extend(Duration lockAtMostFor, Duration lockAtLeastFor) {
            Objects.requireNonNull(lockAtMostFor, "lockAtMostFor must not be null");
            Objects.requireNonNull(lockAtLeastFor, "lockAtLeastFor must not be null");
            if (lockAtLeastFor.compareTo(lockAtMostFor) > 0) {
                throw new IllegalArgumentException("lockAtLeastFor (" + lockAtLeastFor + ") must not be longer than lockAtMostFor ("
                        + lockAtMostFor + ")");
            }
            finish("extended");
            Instant now = ClockProvider.now();
            if (capCancelled != null && !capCancelled.compareAndSet(false, true)) {
                return Optional.empty(); // lockAtMostFor passed: released already
            }
            try {
                if (capCancelled != null) {
                    lease.extend(); // proves the lock is still ours; the keeper goes on
                    return Optional.of(new RedsyncSimpleLock(lease, now.plus(lockAtLeastFor), releaseAt(lease, now.plus(lockAtMostFor))));
                }
                lease.extend(wholeMillis(lockAtMostFor));
                return Optional.of(new RedsyncSimpleLock(lease, now.plus(lockAtLeastFor), null));
            } catch (RedsyncException e) {
                log.debug("ShedLock lock '{}' not extended: {}", lease.name(), e.getMessage());
                if (capCancelled != null) {
                    lease.releaseAsync().exceptionally(x -> null); // stops the keeper
                }
                return Optional.empty();
            }
        }

        private void finish(String how) {
            if (!done.compareAndSet(false, true)) {
                throw new IllegalStateException("ShedLock lock '" + lease.name() + "' was already " + how
                        + " or extended: after unlock() or extend(), use the lock extend() returned");
            }
        }
    }

    /**
     * Builder of {@link RedsyncLockProvider}. Not thread-safe.
     *
     * @since 0.1.0
     */
    public static final class Builder {
        private final Redsync redsync;
        private String keyPrefix = DEFAULT_KEY_PREFIX;
        private Duration keepAliveExpiry;

        private Builder(Redsync redsync) {
            this.redsync = Objects.requireNonNull(redsync, "redsync must not be null");
        }

        /**
         * Sets the prefix put before every job name to form the lock's name.
         *
         * @param keyPrefix the prefix, may be empty
         * @return this builder
         * @since 0.1.0
         */
        public Builder keyPrefix(String keyPrefix) {
            this.keyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix must not be null");
            return this;
        }

        /**
         * Holds each job's lock with this short expiry, kept alive in the background (extended about every third of
         * it) while the job runs, and released at {@code lockAtMostFor} if the job is still running then; a job whose
         * {@code lockAtMostFor} is not longer than this expiry is locked for {@code lockAtMostFor} as without
         * keep-alive. So an instance that crashes frees its jobs within {@code expiry}, not {@code lockAtMostFor}.
         *
         * <p>The bounds are kept by this process: {@code lockAtLeastFor} holds while it lives (a crashed instance's
         * keys expire within {@code expiry}), and the release at {@code lockAtMostFor} deletes the keys then; if the
         * nodes cannot be reached at that moment, the keys expire at most {@code expiry} later. A lease lost while the
         * job runs is logged (ShedLock cannot stop the job).
         *
         * @param expiry the short expiry, e.g. 10 s; the instance's other lock options apply
         * @return this builder
         * @throws IllegalArgumentException if {@code expiry} is not positive
         * @since 0.1.0
         */
        public Builder keepAlive(Duration expiry) {
            Objects.requireNonNull(expiry, "expiry must not be null");
            if (expiry.isZero() || expiry.isNegative()) {
                throw new IllegalArgumentException("keepAlive expiry must be positive, was " + expiry);
            }
            this.keepAliveExpiry = expiry;
            return this;
        }

        /**
         * Builds the provider.
         *
         * @return the provider
         * @since 0.1.0
         */
        public RedsyncLockProvider build() {
            return new RedsyncLockProvider(this);
        }
    }
}
