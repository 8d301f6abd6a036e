package io.redsync;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * One named lock with its options: the object Go redsync users know ({@code lock}, {@code tryLock},
 * {@code unlock}, {@code extend}, {@code valid}, {@code until}, {@code value}, {@code name}).
 *
 * <p>Each successful {@link #lock()} returns a {@link Lease}, and the mutex remembers the latest one so
 * that {@link #unlock()}, {@link #extend()}, {@link #until()} and {@link #value()} work as in redsync.
 * A mutex is thread-safe: concurrent callers contend like separate processes. When several threads share
 * one mutex, release each its own lease, because {@link #unlock()} always means the latest one.
 *
 * <p>Mutexes are cheap; create one per use or keep one per name.
 *
 * @since 0.1.0
 */
public interface Mutex {

    /** @return the lock name, as given (without key prefix) @since 0.1.0 */
    String name();

    /** @return the options this mutex uses @since 0.1.0 */
    LockOptions options();

    /**
     * Acquires the lock, retrying up to {@link LockOptions#tries()} times within
     * {@link LockOptions#acquireTimeout()}. Waits between attempts block this thread (a virtual thread
     * unmounts); no other thread is parked.
     *
     * <p>On interrupt: stops retrying at once, releases whatever the attempt in flight acquired (bounded by
     * the node timeout), then throws {@link InterruptedException}, never {@link LockAcquisitionException}.
     *
     * @return the lease
     * @throws LockTakenException        if the lock was busy in the last attempt: another owner held it on at
     *                                   least one node and a quorum of nodes answered (see {@link LockTakenException})
     * @throws LockAcquisitionException  if all attempts failed otherwise (node errors attached)
     * @throws InterruptedException      if interrupted while waiting
     * @since 0.1.0
     */
    Lease lock() throws InterruptedException;

    /**
     * Asynchronous {@link #lock()}. No thread waits on it; retries are scheduled.
     *
     * <p>Cancelling the returned future stops retrying at once and releases whatever the attempt in flight
     * acquired (in the background, bounded by the node timeout); the future then reports cancellation,
     * never {@link LockAcquisitionException}. Cancel this very future: cancelling a stage derived from it
     * with {@code thenApply} does not reach it. If {@code cancel} returns false the future had already
     * completed: the lease it holds is yours to release.
     *
     * <p>The future completes on the I/O thread that received the last node reply (or on a library worker):
     * do not block in a non-async continuation of it; use {@code thenApplyAsync} or the {@code *Async} calls.
     *
     * @return completes with the lease, or exceptionally as {@link #lock()} throws
     * @since 0.1.0
     */
    CompletableFuture<Lease> lockAsync();

    /**
     * One acquisition attempt, no retry. Waits only for the nodes' answers (bounded by the node timeout);
     * an interrupt meanwhile is kept as the thread's interrupt status, not thrown.
     *
     * @return the lease, or empty when the lock is busy: another owner held it on at least one node, a quorum
     *         of nodes answered and none is misconfigured (a split vote counts as busy; see
     *         {@link LockTakenException})
     * @throws LockAcquisitionException if the attempt failed for another reason: fewer than a quorum of nodes
     *                                  answered or a node is misconfigured (node errors attached), or the
     *                                  validity was used up
     * @since 0.1.0
     */
    Optional<Lease> tryLock();

    /**
     * Asynchronous {@link #tryLock()}; cancellation behaves as for {@link #lockAsync()}.
     *
     * @return completes with the lease or empty, or exceptionally as {@link #tryLock()} throws
     * @since 0.1.0
     */
    CompletableFuture<Optional<Lease>> tryLockAsync();

    /**
     * Acquires the lock, runs {@code action} holding it, and releases it on every exit path. While the
     * action runs the lease is kept alive with {@link LockOptions#keepAlive()}; if it is lost, the calling
     * thread is interrupted (virtual or platform alike) and, once the action returns or throws,
     * {@link LeaseLostException} is thrown instead of its outcome (its exception, if any, suppressed). The
     * interrupt this caused is cleared before the throw.
     *
     * <p>The Java counterpart of Kotlin's {@code withLock}; named after Spring's
     * {@code LockRegistry.executeLocked} because a member named {@code withLock} would shadow the
     * coroutines extension in Kotlin.
     *
     * @param action the work
     * @param <T>    the result type
     * @param <E>    the action's own checked exception
     * @return what the action returned
     * @throws E                        as thrown by the action (released first)
     * @throws LeaseLostException       if the lease was lost while the action ran
     * @throws LockAcquisitionException as {@link #lock()}
     * @throws InterruptedException     if interrupted while waiting for the lock
     * @since 0.1.0
     */
    <T, E extends Exception> T executeLocked(LockedAction<T, E> action) throws E, InterruptedException;

    /**
     * Releases the latest lease of this mutex, or, when none was acquired here, the keys holding the
     * preset {@link LockOptions#value()} (ownership transfer).
     *
     * @throws IllegalStateException if there is neither a lease nor a preset value
     * @throws LeaseExpiredException as {@link Lease#release()}
     * @throws LockNotHeldException  as {@link Lease#release()}
     * @throws UnlockFailedException as {@link Lease#release()}
     * @since 0.1.0
     */
    void unlock();

    /**
     * Asynchronous {@link #unlock()}.
     *
     * @return completes when released, or exceptionally as {@link #unlock()} throws
     * @since 0.1.0
     */
    CompletableFuture<Void> unlockAsync();

    /**
     * Extends the latest lease to {@link LockOptions#expiry()}, or, when none was acquired here, the keys
     * holding the preset {@link LockOptions#value()}; the latter then becomes this mutex's lease.
     *
     * @throws IllegalStateException as {@link #unlock()}
     * @throws LeaseExpiredException  as {@link Lease#extend()}
     * @throws LockNotHeldException   as {@link Lease#extend()}
     * @throws ExtendFailedException  as {@link Lease#extend()}
     * @since 0.1.0
     */
    void extend();

    /**
     * Asynchronous {@link #extend()}.
     *
     * @return completes when extended, or exceptionally as {@link #extend()} throws
     * @since 0.1.0
     */
    CompletableFuture<Void> extendAsync();

    /**
     * Asks the nodes whether a quorum still holds this mutex's value (redsync's {@code Valid}). Bounded
     * by the node timeout; nodes that fail count as not holding it.
     *
     * @return true if a quorum of nodes holds the value; false when there is no value yet
     * @since 0.1.0
     */
    boolean valid();

    /**
     * Asynchronous {@link #valid()}.
     *
     * @return completes with the answer
     * @since 0.1.0
     */
    CompletableFuture<Boolean> validAsync();

    /** @return the end of the latest lease's validity, empty before the first acquisition or extension @since 0.1.0 */
    Optional<Instant> until();

    /** @return the latest lease's owner token, or the preset value, or empty before the first acquisition @since 0.1.0 */
    Optional<String> value();
}
