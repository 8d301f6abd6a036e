package io.redsync;

import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A held lock: what a successful acquisition returns. Release it with {@link #close()} (so
 * try-with-resources works) or {@link #release()}:
 *
 * <pre>{@code
 * try (Lease lease = redsync.lock("invoice:42")) {
 *     lease.checkValid();   // before each step that must not run unprotected
 *     ...
 * }
 * }</pre>
 *
 * <p>Ownership is the lease's {@link #value()}, not a thread: any thread, virtual thread or coroutine
 * may extend or release it. Leases are thread-safe; a second release is a no-op.
 *
 * <p>Validity is measured on this JVM's monotonic clock ({@link System#nanoTime()}) from the start of
 * the acquiring attempt: {@code expiry − elapsed − drift}. After it ends other callers may acquire
 * the lock, whatever this process believes.
 *
 * @since 0.1.0
 */
public interface Lease extends AutoCloseable {

    /** @return the lock name, as given (without key prefix) @since 0.1.0 */
    String name();

    /** @return the owner token stored in the lock keys; pass it as {@link LockOptions#value()} to hand the lock over @since 0.1.0 */
    String value();

    /**
     * The fencing token of this lease, with {@link LockOptions#fencing()}: strictly greater than the token of
     * every earlier lease of the same lock (as long as the nodes' counters survive restarts). Pass it to the
     * storage you write to, and have the storage reject a write whose token is lower than the highest it has
     * seen (equal is the same lease writing again), e.g. {@code UPDATE t SET ..., fence = ? WHERE id = ? AND fence <= ?}
     * with {@code fence NOT NULL DEFAULT 0}, checking that one row was updated, or {@link FencedWrites}.
     * Extensions keep the token.
     *
     * @return the token, or empty without fencing
     * @since 0.1.0
     */
    OptionalLong fencingToken();

    /**
     * The wall-clock time at which the validity ends, derived from the monotonic deadline at the time of
     * the call (so it follows wall-clock adjustments; compare it with {@link Instant#now()} only). For a
     * {@linkplain #isLost() lost} lease, the moment of the loss at the latest.
     *
     * @return the end of validity
     * @since 0.1.0
     */
    Instant until();

    /** @return the validity left, {@link Duration#ZERO} once it ran out, or the lease was released or {@linkplain #isLost() lost} @since 0.1.0 */
    Duration remaining();

    /**
     * Whether the lease is still held as far as this process knows: not released and validity left.
     * Asks no node; see {@link Mutex#valid()} for a check against Redis.
     *
     * @return true while valid
     * @since 0.1.0
     */
    boolean isValid();

    /**
     * Throws unless {@link #isValid()}; call it before each step that must not run unprotected.
     *
     * @throws LeaseLostException    if the lease was kept alive and declared lost
     * @throws LeaseExpiredException if the validity ran out or the lease was released
     * @since 0.1.0
     */
    void checkValid();

    /** @return whether {@link #release()} or {@link #close()} was called @since 0.1.0 */
    boolean isReleased();

    /**
     * Keeps this lease alive in the background with {@link LockOptions#keepAlive()} (or
     * {@link KeepAlive#defaults()} when the options disable it) until it is released or lost. No thread is
     * dedicated to it: extensions run on the instance's timer. Calling it again has no effect.
     *
     * @return this lease
     * @throws IllegalStateException if the lease was released
     * @since 0.1.0
     */
    Lease keepAlive();

    /**
     * Keeps this lease alive with the given policy; see {@link #keepAlive()}.
     *
     * @param policy how to keep it; {@link KeepAlive#disabled()} does nothing
     * @return this lease
     * @throws IllegalArgumentException if the policy does not fit this lease's expiry
     * @throws IllegalStateException    if the lease was released
     * @since 0.1.0
     */
    Lease keepAlive(KeepAlive policy);

    /**
     * Whether the lease was declared lost: while kept alive (see {@link KeepAlive}), or when an extension
     * was refused ({@link LockNotHeldException}, or {@link LeaseExpiredException} because its keys were gone
     * on a majority). A lost lease is not {@linkplain #isValid() valid} and reports no
     * {@linkplain #remaining() remaining} validity.
     *
     * @return true once lost
     * @since 0.1.0
     */
    boolean isLost();

    /**
     * Registers a callback run once if the lease is lost (see {@link #isLost()}); a keep-alive declares
     * the loss before the validity ends. Runs at once if the lease is already lost. Callbacks run on a library thread and should be quick (interrupt a
     * thread, cancel a job, set a flag); they are not run for a lease that is released or simply expires
     * without keeping.
     *
     * @param listener receives the reason
     * @since 0.1.0
     */
    void onLost(Consumer<? super LeaseLostException> listener);

    /**
     * Resets the keys' TTL to {@link LockOptions#expiry()} on every node holding them. Bounded by the
     * node timeout; an interrupt does not abort it (the interrupt status is kept).
     *
     * <p>Extensions of one lease may run concurrently (keep-alive, other threads): they reach every node in
     * the order they were called, and the lease's validity never ends later than what the nodes were last
     * told; a shorter TTL takes effect at once. A refusal ({@link LockNotHeldException}, or
     * {@link LeaseExpiredException} with votes) marks the lease {@linkplain #isLost() lost}.
     *
     * @throws LeaseExpiredException if the validity already ran out or the lease was lost (no node is
     *                               asked), or the keys are gone on too many nodes
     * @throws LockNotHeldException  if another owner holds the lock on some nodes
     * @throws ExtendFailedException if node errors prevented a quorum, or it came too late to help
     * @since 0.1.0
     */
    void extend();

    /**
     * Like {@link #extend()}, with a new TTL.
     *
     * @param ttl the new TTL, positive and at least twice the drift it implies
     * @throws IllegalArgumentException if {@code ttl} is out of range
     * @since 0.1.0
     */
    void extend(Duration ttl);

    /**
     * Asynchronous {@link #extend()}. Cancelling the returned future does not undo an extension already
     * sent.
     *
     * @return completes when a quorum extended, or exceptionally as {@link #extend()} throws
     * @since 0.1.0
     */
    CompletableFuture<Void> extendAsync();

    /**
     * Asynchronous {@link #extend(Duration)}.
     *
     * @param ttl the new TTL
     * @return as {@link #extendAsync()}
     * @since 0.1.0
     */
    CompletableFuture<Void> extendAsync(Duration ttl);

    /**
     * Deletes the keys on every node where they still hold this lease's value (compare-and-delete).
     * Bounded by the node timeout; an interrupt does not abort it (the interrupt status is kept).
     * A second call does nothing.
     *
     * @throws LeaseExpiredException if the keys had already expired on too many nodes
     * @throws LockNotHeldException  if another owner holds the lock on some nodes
     * @throws UnlockFailedException if node errors prevented a quorum (the keys expire with their TTL)
     * @since 0.1.0
     */
    void release();

    /**
     * Asynchronous {@link #release()}; a second call returns a completed future.
     *
     * @return completes when a quorum released, or exceptionally as {@link #release()} throws
     * @since 0.1.0
     */
    CompletableFuture<Void> releaseAsync();

    /**
     * {@link #release()} for try-with-resources, except that a release prevented only by node errors
     * ({@link UnlockFailedException}) is logged at WARN instead of thrown: the guarded work is done, nothing
     * indicates the lease was lost, and the keys expire with their TTL. Signs that the lease was lost
     * ({@link LeaseExpiredException}, {@link LockNotHeldException}) are thrown.
     *
     * @throws LeaseExpiredException as {@link #release()}
     * @throws LockNotHeldException  as {@link #release()}
     * @since 0.1.0
     */
    @Override
    void close();
}
