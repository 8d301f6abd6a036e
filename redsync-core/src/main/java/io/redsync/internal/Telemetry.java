package io.redsync.internal;

import io.redsync.LeaseExpiredException;
import io.redsync.LeaseLostException;
import io.redsync.LockNotHeldException;
import io.redsync.LockTakenException;
import io.redsync.NodeException;
import io.redsync.RedsyncListener;
import io.redsync.RedsyncListener.AcquireOutcome;
import io.redsync.RedsyncListener.ExtendOutcome;
import io.redsync.RedsyncListener.NodeOperation;
import io.redsync.RedsyncListener.ReleaseOutcome;
import io.redsync.spi.AcquireReply;
import io.redsync.spi.KeyState;
import io.redsync.spi.LockNode;
import io.redsync.spi.Ownership;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Everything the instance tells its {@link RedsyncListener}s, in one place: the engine calls one method per event
 * (a lock call starting, a lease granted, released, extended or lost) and the nodes are wrapped to report each
 * command. Without listeners ({@link #NONE}) every method returns at once, nothing is allocated and the nodes are
 * not wrapped. A listener that throws is logged once and ignored: it never changes a lock call's outcome.
 *
 * <p>Call sites (keep them when the engine moves): {@code AcquireCall}'s constructor ({@link #acquireStarted}) and
 * {@code grant} ({@link #granted}, before the caller can see the lease, so a lease's release or loss is always
 * reported after its grant); {@code LeaseImpl.releaseAsync} ({@link #released}), {@code extendNanos}
 * ({@link #extended}) and {@code markLost} ({@link #leaseLost}); {@code RedsyncImpl}'s constructor
 * ({@link #of}, {@link #observe}).
 */
final class Telemetry {
    private static final Logger LOG = LoggerFactory.getLogger(RedsyncListener.class);

    /** No listener: reports nothing. */
    static final Telemetry NONE = new Telemetry(new RedsyncListener[0]);

    private final RedsyncListener[] listeners;
    /** Per listener: whether its first failure was logged (later ones are logged at debug level). */
    private final AtomicBoolean[] warned;
    /** Shared by all instances: one listener registered on two instances still tells their calls apart. */
    private static final AtomicLong CALL_IDS = new AtomicLong();

    private Telemetry(RedsyncListener[] listeners) {
        this.listeners = listeners;
        this.warned = new AtomicBoolean[listeners.length];
        for (int i = 0; i < listeners.length; i++) {
            warned[i] = new AtomicBoolean();
        }
    }

    static Telemetry of(List<RedsyncListener> listeners) {
        return listeners.isEmpty() ? NONE : new Telemetry(listeners.toArray(RedsyncListener[]::new));
    }

    boolean isNoop() {
        return listeners.length == 0;
    }

    /** One lock call being observed: its id, its start, and whether its grant was reported. */
    static final class Call {
        final long id;
        final String lockName;
        final long startNanos = System.nanoTime();
        /** The lease reported granted; null before. */
        volatile LeaseImpl granted;

        Call(long id, String lockName) {
            this.id = id;
            this.lockName = lockName;
        }
    }

    /**
     * A lock call starts (on the caller's thread). Its end is reported by {@link #granted}, or, for every other
     * outcome, when its result completes.
     *
     * @return what {@link #granted} needs, or null without listeners
     */
    Call acquireStarted(AcquireCall call) {
        if (isNoop()) {
            return null;
        }
        Call observed = new Call(CALL_IDS.incrementAndGet(), call.lockName());
        RedsyncListener.AcquireStarted started = new RedsyncListener.AcquireStarted(observed.id, observed.lockName);
        emit(l -> l.acquireStarted(started));
        call.result.whenComplete((lease, error) -> {
            if (error == null) {
                return; // reported by granted(), before the caller saw the lease
            }
            Throwable cause = Engine.unwrap(error);
            LeaseImpl given = observed.granted;
            if (given != null) {
                // Granted in the instant the caller cancelled: the call gives the lease back (its cleanup releases
                // it), which ends the lease as a release would.
                long held = System.nanoTime() - given.grantedNanos;
                emit(l -> l.released(new RedsyncListener.Released(given, ReleaseOutcome.RELEASED, held, 0, null)));
                return;
            }
            AcquireOutcome outcome = cause instanceof CancellationException ? AcquireOutcome.CANCELLED
                    : cause instanceof LockTakenException ? AcquireOutcome.BUSY : AcquireOutcome.FAILED;
            RedsyncListener.Acquired ended = new RedsyncListener.Acquired(observed.id, observed.lockName, outcome,
                    call.attempts(), System.nanoTime() - observed.startNanos, null, cause);
            emit(l -> l.acquired(ended));
        });
        return observed;
    }

    /** The call is about to hand {@code lease} to its caller. */
    void granted(Call observed, AcquireCall call, LeaseImpl lease) {
        if (observed == null) {
            return;
        }
        observed.granted = lease;
        RedsyncListener.Acquired ended = new RedsyncListener.Acquired(observed.id, observed.lockName, AcquireOutcome.GRANTED,
                call.attempts(), System.nanoTime() - observed.startNanos, lease, null);
        emit(l -> l.acquired(ended));
    }

    /** Reports the release's outcome when it completes; returns {@code release} itself. */
    <T> CompletableFuture<T> released(LeaseImpl lease, CompletableFuture<T> release) {
        if (isNoop()) {
            return release;
        }
        long start = System.nanoTime();
        release.whenComplete((v, error) -> {
            long now = System.nanoTime();
            Throwable cause = error == null ? null : Engine.unwrap(error);
            ReleaseOutcome outcome = cause == null ? ReleaseOutcome.RELEASED
                    : cause instanceof LockNotHeldException ? ReleaseOutcome.NOT_HELD
                    : cause instanceof LeaseExpiredException ? ReleaseOutcome.EXPIRED : ReleaseOutcome.FAILED;
            RedsyncListener.Released event = new RedsyncListener.Released(lease, outcome, now - lease.grantedNanos,
                    now - start, cause);
            emit(l -> l.released(event));
        });
        return release;
    }

    /** Reports the extension's outcome when it completes; returns {@code extension} itself. */
    <T> CompletableFuture<T> extended(LeaseImpl lease, CompletableFuture<T> extension) {
        if (isNoop()) {
            return extension;
        }
        long start = System.nanoTime();
        extension.whenComplete((v, error) -> {
            Throwable cause = error == null ? null : Engine.unwrap(error);
            ExtendOutcome outcome = cause == null ? ExtendOutcome.EXTENDED
                    : Redlock.refused(cause) ? ExtendOutcome.REFUSED : ExtendOutcome.FAILED;
            RedsyncListener.Extended event = new RedsyncListener.Extended(lease, outcome, System.nanoTime() - start, cause);
            emit(l -> l.extended(event));
        });
        return extension;
    }

    /** The lease was just declared lost (once). */
    void leaseLost(LeaseImpl lease, LeaseLostException loss) {
        if (isNoop()) {
            return;
        }
        RedsyncListener.LeaseLost event = new RedsyncListener.LeaseLost(lease, loss.reason(),
                System.nanoTime() - lease.grantedNanos, loss);
        emit(l -> l.leaseLost(event));
    }

    /** The nodes as given, or, with listeners, each wrapped to report its commands. */
    LockNode[] observe(LockNode[] nodes) {
        if (isNoop()) {
            return nodes;
        }
        LockNode[] observed = new LockNode[nodes.length];
        for (int i = 0; i < nodes.length; i++) {
            observed[i] = new ObservedNode(nodes[i], i, this);
        }
        return observed;
    }

    private void emit(Consumer<RedsyncListener> event) {
        for (int i = 0; i < listeners.length; i++) {
            try {
                event.accept(listeners[i]);
            } catch (RuntimeException | LinkageError e) {
                if (warned[i].compareAndSet(false, true)) {
                    LOG.warn("RedsyncListener {} failed; its failures are ignored (this is logged once, later ones at debug level)",
                            listeners[i], e);
                } else {
                    LOG.debug("RedsyncListener {} failed", listeners[i], e);
                }
            }
        }
    }

    /** Wraps a node to report each command: operation, node, outcome, failure class and latency. */
    static final class ObservedNode implements LockNode {
        private final LockNode node;
        private final int index;
        private final Telemetry telemetry;

        ObservedNode(LockNode node, int index, Telemetry telemetry) {
            this.node = node;
            this.index = index;
            this.telemetry = telemetry;
        }

        private <T> CompletionStage<T> observe(NodeOperation operation, Supplier<CompletionStage<T>> call) {
            long start = System.nanoTime();
            CompletionStage<T> stage;
            try {
                stage = call.get();
            } catch (RuntimeException e) {
                report(operation, start, e);
                throw e;
            }
            // A side branch: the engine keeps the node's own stage, so nothing it orders on it changes.
            stage.whenComplete((v, error) -> report(operation, start, error));
            return stage;
        }

        private void report(NodeOperation operation, long start, Throwable error) {
            long latency = System.nanoTime() - start;
            Throwable cause = error == null ? null : Engine.unwrap(error);
            RedsyncListener.NodeCall event = new RedsyncListener.NodeCall(operation, index, node.address(), cause,
                    cause == null ? null : NodeException.Reason.of(cause), latency);
            telemetry.emit(l -> l.nodeCall(event));
        }

        @Override
        public String address() {
            return node.address();
        }

        @Override
        public CompletionStage<String> connect() {
            return observe(NodeOperation.CONNECT, node::connect);
        }

        @Override
        public CompletionStage<AcquireReply> acquire(String key, String value, long expiryMillis, boolean refreshIfHeld,
                                                     String counterKey) {
            return observe(NodeOperation.ACQUIRE, () -> node.acquire(key, value, expiryMillis, refreshIfHeld, counterKey));
        }

        @Override
        public CompletionStage<Ownership> fence(String key, String value, String counterKey, long token) {
            return observe(NodeOperation.FENCE, () -> node.fence(key, value, counterKey, token));
        }

        @Override
        public CompletionStage<Subscription> subscribe(String key, Consumer<String> listener) {
            return observe(NodeOperation.SUBSCRIBE, () -> node.subscribe(key, listener));
        }

        @Override
        public CompletionStage<Ownership> release(String key, String value) {
            return observe(NodeOperation.RELEASE, () -> node.release(key, value));
        }

        @Override
        public CompletionStage<Ownership> extend(String key, String value, long expiryMillis, boolean setIfAbsent) {
            return observe(NodeOperation.EXTEND, () -> node.extend(key, value, expiryMillis, setIfAbsent));
        }

        @Override
        public CompletionStage<String> get(String key) {
            return observe(NodeOperation.GET, () -> node.get(key));
        }

        @Override
        public CompletionStage<KeyState> inspect(String key) {
            return observe(NodeOperation.INSPECT, () -> node.inspect(key));
        }

        @Override
        public void close() {
            node.close();
        }

        @Override
        public String toString() {
            return node.toString();
        }
    }
}
