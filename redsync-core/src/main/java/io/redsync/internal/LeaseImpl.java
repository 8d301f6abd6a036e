package io.redsync.internal;

import io.redsync.KeepAlive;
import io.redsync.Lease;
import io.redsync.LeaseExpiredException;
import io.redsync.LeaseLostException;
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
import java.util.function.Consumer;

/** A held lock. Thread-safe: its deadline, extensions, loss and release are kept by {@link Validity}. */
final class LeaseImpl implements Lease, Waiters.Turn {
    private static final Logger LOG = LoggerFactory.getLogger(Lease.class);
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final MutexImpl mutex;
    private final String value;
    private final Validity validity;
    /** Guarded by this: the keeper while kept alive, the loss once lost, listeners waiting for it. */
    private Keeper keeper;
    private volatile LeaseLostException lost;
    private final List<Consumer<? super LeaseLostException>> lostListeners = new ArrayList<>();

    /** The fencing token, or -1 without fencing. */
    private final long token;
    /** When it was granted (System.nanoTime), for the hold time the listeners are told. */
    final long grantedNanos = System.nanoTime();

    LeaseImpl(MutexImpl mutex, String value, long deadlineNanos, long token) {
        this.mutex = mutex;
        this.value = value;
        this.validity = new Validity(deadlineNanos);
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

    /** Its turn on the key lasts while it holds the lock ({@link Waiters}). */
    @Override
    public long endsInNanos(long now) {
        return validity.remainingNanos(now);
    }

    @Override
    public OptionalLong fencingToken() {
        return token < 0 ? OptionalLong.empty() : OptionalLong.of(token);
    }

    long deadlineNanos() {
        return validity.deadline();
    }

    @Override
    public Instant until() {
        return Instant.now().plusNanos(validity.validUntil() - System.nanoTime());
    }

    @Override
    public Duration remaining() {
        return Duration.ofNanos(validity.remainingNanos(System.nanoTime()));
    }

    @Override
    public boolean isValid() {
        return validity.isValid(System.nanoTime());
    }

    @Override
    public void checkValid() {
        LeaseLostException loss = lost;
        if (loss != null) {
            throw new LeaseLostException(name(), loss.reason(), loss.getMessage(), loss);
        }
        if (validity.isReleased()) {
            throw new LeaseExpiredException(name(), "lease on lock '" + name() + "' was released", null);
        }
        long over = System.nanoTime() - validity.validUntil();
        if (over >= 0) {
            throw new LeaseExpiredException(name(), "lease on lock '" + name() + "' expired " + Duration.ofNanos(over).toMillis()
                    + " ms ago; other callers may hold the lock now", null);
        }
    }

    @Override
    public boolean isReleased() {
        return validity.isReleased();
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
        KeepAliveTiming.check(policy, mutex.options());
        Keeper started;
        synchronized (this) {
            if (validity.isReleased()) {
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

    /**
     * Records the loss (by the keeper, or on a refused extension), once: from now on the lease reports no
     * validity; stops the keeper and tells the listeners.
     */
    void markLost(LeaseLostException loss) {
        List<Consumer<? super LeaseLostException>> listeners;
        synchronized (this) {
            if (!validity.lose(System.nanoTime())) {
                return;
            }
            lost = loss;
            listeners = List.copyOf(lostListeners);
            lostListeners.clear();
        }
        stopKeeping();
        LOG.warn("{}", loss.getMessage());
        mutex.engine().telemetry.leaseLost(this, loss);
        listeners.forEach(listener -> notifyLost(listener, loss));
    }

    /** Listeners run on a worker: never on the timer, whose thread a slow listener would hold up. */
    private void notifyLost(Consumer<? super LeaseLostException> listener, LeaseLostException loss) {
        Scheduler.WORKERS.execute(() -> {
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
        return extendBy(mutex.options().expiry(), mutex.options().drift());
    }

    @Override
    public CompletableFuture<Void> extendAsync(Duration ttl) {
        Objects.requireNonNull(ttl, "ttl must not be null");
        Redlock.checkTtl("ttl", ttl);
        return extendBy(ttl, Redlock.checkAboveDrift("ttl", ttl, mutex.options().driftFactor()));
    }

    /**
     * Compare-and-PEXPIRE of {@code value}'s keys on every node, timed from now: the new deadline iff a quorum
     * extended and validity remains ({@link Redlock#extended}).
     */
    static CompletableFuture<Long> extend(MutexImpl mutex, String value, Redlock.Term term) {
        Target target = mutex.target();
        return mutex.engine().fanOut(target, new Operation.Extend(target, value, term.ttlMillis(), mutex.options().setNXOnExtend()))
                .decided.thenApply(b -> Redlock.extended(target.lockName(), b, term, System.nanoTime()));
    }

    /** The point where this lease is extended: numbered, sent, and its answer settled on the validity. */
    private CompletableFuture<Void> extendBy(Duration ttl, Duration drift) {
        if (validity.isReleased()) {
            return CompletableFuture.failedFuture(new LeaseExpiredException(name(),
                    "lease on lock '" + name() + "' was released; acquire the lock again instead of extending", null));
        }
        if (validity.isLost()) {
            return CompletableFuture.failedFuture(new LeaseExpiredException(name(), "lease on lock '" + name()
                    + "' was lost; acquire the lock again", null));
        }
        if (validity.validUntil() - System.nanoTime() <= 0) {
            // Past its validity another owner may hold the lock; asking Redis could only mislead.
            return CompletableFuture.failedFuture(new LeaseExpiredException(name(), "lease on lock '" + name()
                    + "' expired before it was extended; acquire the lock again", null));
        }
        Redlock.Term term = Redlock.Term.from(System.nanoTime(), ttl, drift);
        long candidate = term.deadline();
        long[] ticket = new long[1];
        // Numbered and sent under the validity's lock, so the nodes apply concurrent extensions in number order.
        CompletableFuture<Long> sent = validity.issue(candidate, number -> {
            ticket[0] = number;
            return extend(mutex, value, term);
        });
        return mutex.engine().telemetry.extended(this, sent.handle((deadline, error) -> {
            // A failed extension may still have been applied by nodes that failed or timed out: Validity
            // keeps the deadline no later than its TTL then.
            validity.settle(ticket[0], error == null, candidate);
            if (error == null) {
                return null;
            }
            Throwable cause = Engine.unwrap(error);
            if (Redlock.refused(cause)) {
                markLost(new LeaseLostException(name(), LeaseLostException.Reason.REFUSED, "lease on lock '" + name()
                        + "' lost: an extension was refused: " + cause.getMessage(), cause));
            }
            throw error instanceof CompletionException c ? c : new CompletionException(error);
        }));
    }

    @Override
    public void release() {
        Await.uninterruptibly(releaseAsync());
    }

    @Override
    public CompletableFuture<Void> releaseAsync() {
        if (!validity.release()) {
            return DONE;
        }
        stopKeeping();
        Target target = mutex.target();
        long start = System.nanoTime();
        long deadline = validity.deadline();
        return mutex.engine().telemetry.released(this, mutex.engine().fanOut(target, new Operation.Release(target, value)).decided
                .thenApply(b -> {
                    // Whatever the outcome: a waiter of this instance tries now (or finds the keys' TTL).
                    mutex.waiters().releasedHere(target.key(), this, value);
                    return Redlock.released(name(), b, deadline - start > 0);
                }));
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
        return "Lease[" + name() + ", remaining=" + remaining().toMillis() + " ms" + (validity.isReleased() ? ", released" : "") + "]";
    }
}
