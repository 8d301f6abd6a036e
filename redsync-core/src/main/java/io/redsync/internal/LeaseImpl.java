package io.redsync.internal;

import io.redsync.KeepAlive;
import io.redsync.Lease;
import io.redsync.LeaseExpiredException;
import io.redsync.LeaseLostException;
import io.redsync.LockOptions;
import io.redsync.UnlockFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/** A held lock. Thread-safe: the deadline is volatile, release happens once. */
final class LeaseImpl implements Lease {
    private static final Logger LOG = LoggerFactory.getLogger(Lease.class);
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final MutexImpl mutex;
    private final String value;
    private final AtomicBoolean released = new AtomicBoolean();
    private volatile long deadlineNanos;
    /** Guarded by this: the keeper while kept alive, the loss once lost, listeners waiting for it. */
    private Keeper keeper;
    private volatile LeaseLostException lost;
    private final List<Consumer<? super LeaseLostException>> lostListeners = new ArrayList<>();

    /** The fencing token, or -1 without fencing. */
    private final long token;

    LeaseImpl(MutexImpl mutex, String value, long deadlineNanos, long token) {
        this.mutex = mutex;
        this.value = value;
        this.deadlineNanos = deadlineNanos;
        this.token = token;
    }

    @Override
    public String name() {
        return mutex.name();
    }

    @Override
    public String value() {
        return value;
    }

    @Override
    public OptionalLong fencingToken() {
        return token < 0 ? OptionalLong.empty() : OptionalLong.of(token);
    }

    long deadlineNanos() {
        return deadlineNanos;
    }

    private synchronized void shortenTo(long bound) {
        if (bound - deadlineNanos < 0) {
            deadlineNanos = bound;
        }
    }

    @Override
    public Instant until() {
        return Instant.now().plusNanos(deadlineNanos - System.nanoTime());
    }

    @Override
    public Duration remaining() {
        long left = deadlineNanos - System.nanoTime();
        return released.get() || left <= 0 ? Duration.ZERO : Duration.ofNanos(left);
    }

    @Override
    public boolean isValid() {
        return !released.get() && lost == null && deadlineNanos - System.nanoTime() > 0;
    }

    @Override
    public void checkValid() {
        LeaseLostException loss = lost;
        if (loss != null) {
            throw new LeaseLostException(name(), loss.reason(), loss.getMessage(), loss);
        }
        if (released.get()) {
            throw new LeaseExpiredException(name(), "lease on lock '" + name() + "' was released", null);
        }
        long over = System.nanoTime() - deadlineNanos;
        if (over >= 0) {
            throw new LeaseExpiredException(name(), "lease on lock '" + name() + "' expired " + Duration.ofNanos(over).toMillis()
                    + " ms ago; other callers may hold the lock now", null);
        }
    }

    @Override
    public boolean isReleased() {
        return released.get();
    }

    @Override
    public Lease keepAlive() {
        KeepAlive policy = mutex.options().keepAlive();
        return keepAlive(policy.enabled() ? policy : KeepAlive.defaults());
    }

    @Override
    public Lease keepAlive(KeepAlive policy) {
        Objects.requireNonNull(policy, "policy must not be null");
        if (!policy.enabled()) {
            return this;
        }
        // Same rules as in LockOptions: the interval and margin must fit this lease's expiry.
        LockOptions.builder().expiry(mutex.options().expiry()).driftFactor(mutex.options().driftFactor()).keepAlive(policy).build();
        Keeper started;
        synchronized (this) {
            if (released.get()) {
                throw new IllegalStateException("lease on lock '" + name() + "' was released; it cannot be kept alive");
            }
            if (keeper != null || lost != null) {
                return this;
            }
            keeper = new Keeper(this, mutex, policy);
            started = keeper;
        }
        started.start();
        return this;
    }

    @Override
    public boolean isLost() {
        return lost != null;
    }

    @Override
    public void onLost(Consumer<? super LeaseLostException> listener) {
        Objects.requireNonNull(listener, "listener must not be null");
        LeaseLostException loss;
        synchronized (this) {
            loss = lost;
            if (loss == null) {
                lostListeners.add(listener);
                return;
            }
        }
        notifyLost(listener, loss);
    }

    /** The loss, once declared; null while not lost. */
    LeaseLostException lostCause() {
        return lost;
    }

    /** Called by the keeper, once: records the loss and tells the listeners. */
    void markLost(LeaseLostException loss) {
        List<Consumer<? super LeaseLostException>> listeners;
        synchronized (this) {
            if (lost != null || released.get()) {
                return;
            }
            lost = loss;
            listeners = List.copyOf(lostListeners);
            lostListeners.clear();
        }
        LOG.warn("{}", loss.getMessage());
        listeners.forEach(listener -> notifyLost(listener, loss));
    }

    /** Listeners run on a worker: never on the timer, whose thread a slow listener would hold up. */
    private void notifyLost(Consumer<? super LeaseLostException> listener, LeaseLostException loss) {
        Engine.WORKERS.execute(() -> {
            try {
                listener.accept(loss);
            } catch (RuntimeException e) {
                LOG.warn("a lease-lost listener of lock '{}' failed", name(), e);
            }
        });
    }

    private void stopKeeping() {
        Keeper current;
        synchronized (this) {
            current = keeper;
            keeper = null;
        }
        if (current != null) {
            current.stop();
        }
    }

    @Override
    public void extend() {
        Await.uninterruptibly(extendAsync());
    }

    @Override
    public void extend(Duration ttl) {
        Await.uninterruptibly(extendAsync(ttl));
    }

    @Override
    public CompletableFuture<Void> extendAsync() {
        return extendNanos(mutex.options().expiry().toNanos(), mutex.options().drift().toNanos());
    }

    @Override
    public CompletableFuture<Void> extendAsync(Duration ttl) {
        Objects.requireNonNull(ttl, "ttl must not be null");
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("ttl must be > 0, was " + ttl);
        }
        if (ttl.getNano() % 1_000_000 != 0) {
            throw new IllegalArgumentException("ttl must be a whole number of milliseconds (Redis sets TTLs in ms), was " + ttl);
        }
        Duration drift = Drift.of(ttl, mutex.options().driftFactor());
        if (ttl.compareTo(drift.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("ttl must be at least 2 × drift (ttl × driftFactor + 2 ms = "
                    + drift.toNanos() / 1e6 + " ms), was " + ttl);
        }
        return extendNanos(ttl.toNanos(), drift.toNanos());
    }

    private CompletableFuture<Void> extendNanos(long ttlNanos, long driftNanos) {
        if (released.get()) {
            return CompletableFuture.failedFuture(new LeaseExpiredException(name(),
                    "lease on lock '" + name() + "' was released; acquire the lock again instead of extending", null));
        }
        if (deadlineNanos - System.nanoTime() <= 0) {
            // Past its validity another owner may hold the lock; asking Redis could only mislead.
            return CompletableFuture.failedFuture(new LeaseExpiredException(name(), "lease on lock '" + name()
                    + "' expired before it was extended; acquire the lock again", null));
        }
        long start = System.nanoTime();
        return mutex.engine().extend(name(), mutex.key(), value, mutex.order(), mutex.options().failFast(),
                        mutex.options().nodeTimeout().toNanos(), start, ttlNanos, driftNanos, mutex.options().setNXOnExtend())
                .handle((deadline, error) -> {
                    if (error == null) {
                        deadlineNanos = deadline;
                        return null;
                    }
                    // Nodes that failed or timed out may still have applied the new TTL: if it was shorter,
                    // the keys may now expire sooner than the old deadline, and the lease must not outlive them.
                    shortenTo(start + ttlNanos - driftNanos);
                    throw error instanceof CompletionException c ? c : new CompletionException(error);
                });
    }

    @Override
    public void release() {
        Await.uninterruptibly(releaseAsync());
    }

    @Override
    public CompletableFuture<Void> releaseAsync() {
        if (!released.compareAndSet(false, true)) {
            return DONE;
        }
        stopKeeping();
        return mutex.engine().release(name(), mutex.key(), value, mutex.order(), mutex.options().failFast(),
                mutex.options().nodeTimeout().toNanos(), deadlineNanos);
    }

    @Override
    public void close() {
        try {
            release();
        } catch (UnlockFailedException e) {
            // Cleanup at the end of a try block: nodes being down must not turn finished work into a
            // failure. Nothing here says the lease was lost (that is thrown), and the keys expire by TTL.
            LOG.warn("{}", e.getMessage());
        }
    }

    @Override
    public String toString() {
        // The value is an owner credential: never printed.
        return "Lease[" + name() + ", remaining=" + remaining().toMillis() + " ms" + (released.get() ? ", released" : "") + "]";
    }
}
