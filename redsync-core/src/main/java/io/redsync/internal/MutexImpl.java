package io.redsync.internal;

import io.redsync.Lease;
import io.redsync.LeaseLostException;
import io.redsync.LockOptions;
import io.redsync.LockedAction;
import io.redsync.LockTakenException;
import io.redsync.Mutex;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/** One lock name with its options; remembers its latest lease for redsync's unlock/extend/until/value. */
final class MutexImpl implements Mutex {
    private final Context context;
    private final Engine engine;
    private final String name;
    private final LockOptions options;
    private final Target target;
    private final AtomicReference<LeaseImpl> latest = new AtomicReference<>();

    MutexImpl(Context context, LockOptions options, Target target) {
        this.context = context;
        this.engine = context.engine();
        this.name = target.lockName();
        this.options = options;
        this.target = target;
    }

    Engine engine() {
        return engine;
    }

    Target target() {
        return target;
    }

    Waiters waiters() {
        return context.waiters();
    }

    Calls calls() {
        return context.calls();
    }

    /** The order in which nodes are asked (shuffled once per mutex with shufflePools). */
    int[] order() {
        return target.order();
    }

    /** Makes {@code lease} the latest; returns the one it replaced. */
    LeaseImpl adopt(LeaseImpl lease) {
        return latest.getAndSet(lease);
    }

    /** Undoes {@link #adopt} unless another lease was adopted since. */
    void unadopt(LeaseImpl lease, LeaseImpl previous) {
        latest.compareAndSet(lease, previous);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LockOptions options() {
        return options;
    }

    private AcquireCall call(int attempts) {
        return new AcquireCall(this, Tokens.forCall(options, name), attempts);
    }

    @Override
    public Lease lock() throws InterruptedException {
        AcquireCall call = call(options.tries());
        // A lease granted in the instant of the interrupt is given back, not dropped.
        return Await.interruptibly(call.start(), call.settled, Redlock.settleBoundNanos(target.timeoutNanos()), Lease::releaseAsync);
    }

    @Override
    public CompletableFuture<Lease> lockAsync() {
        return call(options.tries()).start();
    }

    @Override
    public Optional<Lease> tryLock() {
        return Await.uninterruptibly(tryLockAsync());
    }

    @Override
    public CompletableFuture<Optional<Lease>> tryLockAsync() {
        CompletableFuture<Lease> attempt = call(1).start();
        CompletableFuture<Optional<Lease>> out = new CompletableFuture<>();
        attempt.whenComplete((lease, error) -> {
            if (error == null) {
                if (!out.complete(Optional.of(lease))) {
                    lease.releaseAsync();
                }
            } else if (Engine.unwrap(error) instanceof LockTakenException) {
                out.complete(Optional.empty());
            } else {
                out.completeExceptionally(Engine.unwrap(error));
            }
        });
        // Cancelling the mapped future must reach the attempt, so partial holds are released.
        out.whenComplete((v, e) -> {
            if (e instanceof CancellationException) {
                attempt.cancel(false);
            }
        });
        return out;
    }

    @Override
    public <T, E extends Exception> T executeLocked(LockedAction<T, E> action) throws E, InterruptedException {
        Objects.requireNonNull(action, "action must not be null");
        LeaseImpl lease = (LeaseImpl) lock();
        Thread caller = Thread.currentThread();
        Object guard = new Object();
        boolean[] running = {true};
        // Interrupt only while the action runs: an interrupt arriving after it returned would leak into
        // whatever the caller does next.
        lease.onLost(loss -> {
            synchronized (guard) {
                if (running[0]) {
                    caller.interrupt();
                }
            }
        });
        lease.keepAlive(options.keepAlive());
        T result = null;
        Throwable failure = null;
        try {
            result = action.run(lease);
        } catch (Throwable t) {
            failure = t;
        } finally {
            synchronized (guard) {
                running[0] = false;
            }
        }
        // The rule, shared with Kotlin's withLock: a loss declared before the action returned (seen here)
        // fails the call; one declared later does not discard the result (the release reports lost keys).
        // The interrupt status is left as the action left it: an interrupt the library sent and the action
        // did not consume cannot be told apart from one sent by other code, which must not be swallowed.
        LeaseLostException loss = lease.lostCause();
        if (loss != null) {
            LeaseLostException thrown = new LeaseLostException(name, loss.reason(), loss.getMessage(), loss.getCause());
            if (failure != null) {
                thrown.addSuppressed(failure);
            }
            try {
                lease.release();
            } catch (RuntimeException releaseFailure) {
                thrown.addSuppressed(releaseFailure);
            }
            throw thrown;
        }
        try {
            lease.close();
        } catch (RuntimeException releaseFailure) {
            if (failure == null) {
                throw releaseFailure;
            }
            failure.addSuppressed(releaseFailure);
        }
        if (failure != null) {
            throw MutexImpl.<E>sneaky(failure);
        }
        return result;
    }

    /** Rethrows the action's own exception unchanged (a checked E, or unchecked). */
    @SuppressWarnings("unchecked")
    private static <E extends Exception> RuntimeException sneaky(Throwable t) throws E {
        throw (E) t;
    }

    @Override
    public void unlock() {
        Await.uninterruptibly(unlockAsync());
    }

    @Override
    public CompletableFuture<Void> unlockAsync() {
        LeaseImpl lease = latest.get();
        if (lease != null) {
            return lease.releaseAsync();
        }
        // Releases whatever holds the preset value or the token of a lock call made with it: a promise to release the
        // lock for whoever holds that value.
        String preset = presetValue("unlock");
        return engine.fanOut(target, new Operation.ReleaseMadeWith(target, preset)).decided
                .thenApply(b -> Redlock.released(name, b, false));
    }

    @Override
    public void extend() {
        Await.uninterruptibly(extendAsync());
    }

    @Override
    public CompletableFuture<Void> extendAsync() {
        LeaseImpl lease = latest.get();
        if (lease != null) {
            return lease.extendAsync();
        }
        String preset = presetValue("extend");
        // Ownership transfer: this process never acquired, so the extension's result becomes its lease. It
        // extends the one lock call made with the preset value that holds a quorum (or the value itself).
        return tokenMadeWith(preset).thenCompose(token -> {
            String value = token.orElse(preset);
            return LeaseImpl.extend(this, value, Redlock.Term.from(System.nanoTime(), options.expiry(), options.drift()))
                    .thenAccept(deadline -> latest.compareAndSet(null, new LeaseImpl(this, value, deadline, -1)));
        });
    }

    private String presetValue(String operation) {
        return options.value().orElseThrow(() -> new IllegalStateException("cannot " + operation + " mutex '" + name
                + "': it holds no lease; call lock() first, or preset the owner token with LockOptions.value(...)"));
    }

    @Override
    public boolean valid() {
        return Await.uninterruptibly(validAsync());
    }

    @Override
    public CompletableFuture<Boolean> validAsync() {
        LeaseImpl lease = latest.get();
        if (lease != null) {
            return engine.fanOut(target, new Operation.Look(target, lease.value())).decided.thenApply(Redlock::held);
        }
        if (options.value().isEmpty()) {
            return CompletableFuture.completedFuture(false);
        }
        return tokenMadeWith(options.value().get()).thenApply(Optional::isPresent);
    }

    /**
     * The token that holds the lock for whoever knows {@code preset}: {@code preset} itself or the token of the
     * lock call made with it ({@link Tokens#madeWith}) that a quorum of nodes holds; empty if none does.
     */
    private CompletableFuture<Optional<String>> tokenMadeWith(String preset) {
        return engine.fanOut(target.patient(), new Operation.LookMadeWith(target, preset)).decided.thenApply(Redlock::tokenOnQuorum);
    }

    @Override
    public Optional<Duration> holderTtl() {
        return Await.uninterruptibly(holderTtlAsync());
    }

    @Override
    public CompletableFuture<Optional<Duration>> holderTtlAsync() {
        return HolderQuery.ask(engine, target.patient());
    }

    @Override
    public Optional<Instant> until() {
        LeaseImpl lease = latest.get();
        return lease == null ? Optional.empty() : Optional.of(lease.until());
    }

    @Override
    public Optional<String> value() {
        LeaseImpl lease = latest.get();
        return lease != null ? Optional.of(lease.value()) : options.value();
    }

    @Override
    public String toString() {
        return "Mutex[" + name + "]";
    }
}
