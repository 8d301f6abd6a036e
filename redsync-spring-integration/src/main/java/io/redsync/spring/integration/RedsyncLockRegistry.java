package io.redsync.spring.integration;

import io.redsync.Lease;
import io.redsync.LockOptions;
import io.redsync.LockTakenException;
import io.redsync.Redsync;
import io.redsync.RedsyncException;
import org.springframework.integration.support.locks.DistributedLock;
import org.springframework.integration.support.locks.ExpirableLockRegistry;
import org.springframework.integration.support.locks.RenewableLockRegistry;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Spring Integration lock registry whose locks are Redlock locks over a {@link Redsync} instance: held on a
 * majority of N independent Redis masters, so a lock survives one node failing, and {@code LockRegistryLeaderInitiator}
 * gives leader election over them.
 *
 * <pre>{@code
 * @Bean
 * RedsyncLockRegistry lockRegistry(Redsync redsync) {
 *     return new RedsyncLockRegistry(redsync);
 * }
 *
 * Lock lock = lockRegistry.obtain("orders:42");
 * if (lock.tryLock(1, TimeUnit.SECONDS)) {
 *     try { ... } finally { lock.unlock(); }
 * }
 * }</pre>
 *
 * <p>The locks keep the {@link java.util.concurrent.locks.Lock} contract:
 * <ul>
 *   <li><b>thread-owned</b>: only the thread that locked may unlock ({@link IllegalMonitorStateException} otherwise),
 *       and threads of this JVM queue on a local lock before asking Redis;</li>
 *   <li><b>locally reentrant</b>: the owning thread may lock again (as {@code LockRegistryLeaderInitiator} does
 *       on every heartbeat); each reentrant acquisition renews the lease on the nodes, and only the last
 *       {@code unlock()} releases it;</li>
 *   <li>{@link java.util.concurrent.locks.Lock#newCondition()} is unsupported: a condition's {@code await} would
 *       have to give up and retake the distributed lock atomically, which Redis cannot do.</li>
 * </ul>
 *
 * <p>Leases use the registry's {@link LockOptions} (the instance's {@linkplain Redsync#defaults() defaults} unless
 * given): their expiry is the lock's time to live, and with {@link LockOptions#keepAlive()} enabled (the default)
 * a held lock is kept alive in the background until unlocked, so long work needs no
 * {@link #renewLock(Object)}. A lease that is lost anyway (its keys taken or gone on a majority) voids the
 * thread's holds: the next reentrant {@code tryLock} returns false and releases the local lock (a reentrant
 * {@code lock()} takes a fresh lease, counting one hold), and an {@code unlock()} meeting the lost lease throws
 * {@link IllegalStateException}. Thread-safe.
 *
 * @since 0.1.0
 */
public final class RedsyncLockRegistry implements ExpirableLockRegistry<DistributedLock>, RenewableLockRegistry<DistributedLock> {
    /** The prefix put before every lock key unless a constructor sets another. @since 0.1.0 */
    public static final String DEFAULT_KEY_PREFIX = "lock-registry:";

    private final Redsync redsync;
    private final String keyPrefix;
    private final LockOptions options;
    private final ConcurrentMap<String, RedsyncLock> locks = new ConcurrentHashMap<>();

    /**
     * A registry with the instance's default options and the key prefix {@value #DEFAULT_KEY_PREFIX}.
     *
     * @param redsync the nodes; the registry never closes it
     * @since 0.1.0
     */
    public RedsyncLockRegistry(Redsync redsync) {
        this(redsync, DEFAULT_KEY_PREFIX, Objects.requireNonNull(redsync, "redsync must not be null").defaults());
    }

    /**
     * A registry with its own key prefix and lock options.
     *
     * @param redsync   the nodes; the registry never closes it
     * @param keyPrefix put before every lock key to form the lock's name, may be empty
     * @param options   the leases' options: expiry (the time to live), keep-alive, retries while waiting
     * @since 0.1.0
     */
    public RedsyncLockRegistry(Redsync redsync, String keyPrefix, LockOptions options) {
        this.redsync = Objects.requireNonNull(redsync, "redsync must not be null");
        this.keyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix must not be null");
        this.options = Objects.requireNonNull(options, "options must not be null");
    }

    /**
     * The lock for a key: the same object for the same key until {@link #expireUnusedOlderThan(long)} drops it
     * (two lock objects for one key still exclude each other, through Redis).
     *
     * @param lockKey a non-blank {@link String}
     * @return the lock
     * @throws IllegalArgumentException if the key is not a non-blank String
     * @since 0.1.0
     */
    @Override
    public DistributedLock obtain(Object lockKey) {
        if (!(lockKey instanceof String key) || key.isBlank()) {
            throw new IllegalArgumentException("RedsyncLockRegistry lock keys must be non-blank Strings, was "
                    + (lockKey == null ? "null" : lockKey.getClass().getName() + " '" + lockKey + "'"));
        }
        RedsyncLock lock = locks.computeIfAbsent(key, k -> new RedsyncLock(keyPrefix + k));
        lock.lastObtained = System.currentTimeMillis();
        return lock;
    }

    /**
     * Drops the lock objects not locked now and last obtained more than {@code age} ago (a later
     * {@link #obtain(Object)} makes a new one). Asks no node.
     *
     * @param age milliseconds
     * @since 0.1.0
     */
    @Override
    public void expireUnusedOlderThan(long age) {
        long before = System.currentTimeMillis() - age;
        locks.values().removeIf(lock -> lock.lastObtained < before && !lock.local.isLocked());
    }

    /**
     * Resets the lease's time to live to the options' expiry on the nodes. Waits for the nodes' answers (bounded by
     * the node timeout); an interrupt does not abort it (the interrupt status is kept).
     *
     * @param lockKey the key, whose lock the current thread must hold
     * @throws IllegalStateException          if the current thread does not hold the lock
     * @throws io.redsync.LeaseExpiredException as {@link Lease#extend()}, also if the lease was lost
     * @throws io.redsync.LockNotHeldException  as {@link Lease#extend()}
     * @throws io.redsync.ExtendFailedException as {@link Lease#extend()}
     * @since 0.1.0
     */
    @Override
    public void renewLock(Object lockKey) {
        heldLease(lockKey).extend();
    }

    /**
     * Sets the lease's time to live to {@code ttl} on the nodes; see {@link #renewLock(Object)}.
     *
     * @param lockKey the key, whose lock the current thread must hold
     * @param ttl     the new time to live, a whole number of milliseconds
     * @throws IllegalStateException    if the current thread does not hold the lock
     * @throws IllegalArgumentException if {@code ttl} is out of range
     * @since 0.1.0
     */
    @Override
    public void renewLock(Object lockKey, Duration ttl) {
        heldLease(lockKey).extend(Objects.requireNonNull(ttl, "ttl must not be null"));
    }

    private Lease heldLease(Object lockKey) {
        RedsyncLock lock = lockKey instanceof String key ? locks.get(key) : null;
        Lease lease = lock == null || !lock.local.isHeldByCurrentThread() ? null : lock.lease;
        if (lease == null) {
            throw new IllegalStateException("cannot renew lock '" + lockKey + "': the current thread does not hold it");
        }
        return lease;
    }

    @Override
    public String toString() {
        return "RedsyncLockRegistry{keyPrefix='" + keyPrefix + "', " + redsync.nodeCount() + " nodes, " + locks.size() + " locks}";
    }

    /** A lock: a local reentrant lock that orders this JVM's threads, and the owning thread's lease. */
    private final class RedsyncLock implements DistributedLock {
        private final String name;
        private final ReentrantLock local = new ReentrantLock();
        /** The owner's lease; written and read by the owning thread (volatile for renewLock and toString). */
        private volatile Lease lease;
        private volatile long lastObtained;

        RedsyncLock(String name) {
            this.name = name;
        }

        /**
         * Waits until this thread holds the lock, however long that takes; an interrupt meanwhile is kept (the
         * interrupt status is set on return) and the waiting goes on.
         *
         * @throws io.redsync.LockAcquisitionException if an attempt failed without a quorum of nodes answering
         */
        @Override
        public void lock() {
            lock(null);
        }

        @Override
        public void lock(Duration ttl) {
            boolean interrupted = false;
            while (true) {
                try {
                    acquire(Long.MAX_VALUE, ttl);
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        /**
         * Waits until this thread holds the lock or it is interrupted.
         *
         * @throws InterruptedException if interrupted while waiting; nothing is held then
         */
        @Override
        public void lockInterruptibly() throws InterruptedException {
            acquire(Long.MAX_VALUE, null);
        }

        /** One attempt, no waiting (only for the nodes' answers, bounded by the node timeout). */
        @Override
        public boolean tryLock() {
            try {
                return acquire(0, null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        /**
         * Waits at most {@code time} for the lock.
         *
         * @throws InterruptedException if interrupted while waiting; nothing is held then
         */
        @Override
        public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
            return acquire(Math.max(0, unit.toNanos(time)), null);
        }

        @Override
        public boolean tryLock(Duration waitTime, Duration ttl) throws InterruptedException {
            return acquire(Math.max(0, waitTime.toNanos()), Objects.requireNonNull(ttl, "ttl must not be null"));
        }

        /**
         * Takes the local lock, then (first hold) a lease or (reentrant) renews the lease; the wait is bounded by
         * {@code waitNanos} (Long.MAX_VALUE: none). Returns false, holding nothing more, when the lock stays busy.
         */
        private boolean acquire(long waitNanos, Duration ttl) throws InterruptedException {
            long start = System.nanoTime();
            if (local.isHeldByCurrentThread()) {
                return renew(ttl);
            }
            if (waitNanos == Long.MAX_VALUE) {
                local.lockInterruptibly();
            } else if (!local.tryLock(waitNanos, TimeUnit.NANOSECONDS)) {
                return false;
            }
            try {
                long left = waitNanos == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, waitNanos - (System.nanoTime() - start));
                Lease acquired = lease(left, ttl);
                if (acquired == null) {
                    local.unlock();
                    return false;
                }
                lease = acquired;
                return true;
            } catch (InterruptedException | RuntimeException | Error e) {
                local.unlock();
                throw e;
            }
        }

        /**
         * A reentrant acquisition: renews the lease and counts one more hold; a lease found lost voids every hold
         * of this thread (the local lock is released) and the answer is false.
         */
        private boolean renew(Duration ttl) {
            Lease held = lease;
            if (held != null && held.isValid()) {
                try {
                    if (ttl == null) {
                        held.extend();
                    } else {
                        held.extend(ttl);
                    }
                } catch (RedsyncException e) {
                    // A refusal marks the lease lost; node errors leave it valid until its deadline.
                }
                if (held.isValid()) {
                    local.lock();
                    return true;
                }
            }
            lease = null;
            while (local.isHeldByCurrentThread()) {
                local.unlock();
            }
            return false;
        }

        private Lease lease(long waitNanos, Duration ttl) throws InterruptedException {
            LockOptions.Builder builder = options.toBuilder();
            if (ttl != null) {
                builder.expiry(ttl);
            }
            Lease acquired;
            if (waitNanos == 0) {
                acquired = redsync.mutex(name, builder.build()).tryLock().orElse(null);
            } else {
                builder.tries(Integer.MAX_VALUE);
                if (waitNanos != Long.MAX_VALUE) {
                    builder.acquireTimeout(Duration.ofNanos(waitNanos));
                }
                LockOptions waiting = builder.build();
                acquired = null;
                while (acquired == null) {
                    try {
                        acquired = redsync.mutex(name, waiting).lock();
                    } catch (LockTakenException e) {
                        if (waitNanos != Long.MAX_VALUE) {
                            return null;
                        }
                    }
                }
            }
            if (acquired != null && options.keepAlive().enabled()) {
                acquired.keepAlive(options.keepAlive());
            }
            return acquired;
        }

        /**
         * Drops one hold; the last one releases the lease (waiting for the nodes' answers, bounded by the node timeout).
         *
         * @throws IllegalMonitorStateException if the current thread does not hold the lock
         * @throws IllegalStateException        if the lease had been lost or had expired before this unlock (the
         *                                      local lock is released all the same)
         */
        @Override
        public void unlock() {
            if (!local.isHeldByCurrentThread()) {
                throw new IllegalMonitorStateException("lock '" + name + "' is not held by the current thread ("
                        + Thread.currentThread().getName() + "): only the thread that locked it may unlock it");
            }
            if (local.getHoldCount() > 1) {
                local.unlock();
                return;
            }
            Lease held = lease;
            lease = null;
            try {
                if (held != null) {
                    held.release();
                }
            } catch (RedsyncException e) {
                throw new IllegalStateException("lock '" + name + "' was no longer held when unlocked (" + e.getMessage()
                        + "): another process may have held it meanwhile", e);
            } finally {
                local.unlock();
            }
        }

        /** @throws UnsupportedOperationException always */
        @Override
        public Condition newCondition() {
            throw new UnsupportedOperationException("RedsyncLockRegistry locks have no conditions: await() would have to "
                    + "release and retake the distributed lock '" + name + "' atomically, which Redis cannot do. Signal "
                    + "through your own channel (a message, a Redis key) while holding the lock instead.");
        }

        @Override
        public String toString() {
            Lease held = lease;
            return "RedsyncLock{name='" + name + "', " + (held != null && held.isValid() ? "held by " + local : "not held") + '}';
        }
    }
}
