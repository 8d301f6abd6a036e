package io.redsync;

import java.time.Duration;
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
     * @throws IllegalStateException     if the {@link Redsync} instance is closed, before or while this call waits
     *                                   ({@code "Redsync was closed while acquiring lock '<name>'"}); nothing of the
     *                                   attempt stays on the nodes
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
     * @return completes with the lease, or exceptionally as {@link #lock()} throws (closing the instance while it
     *         waits completes it with {@link IllegalStateException})
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
     * {@link LeaseLostException} is thrown instead of its outcome (its exception, if any, suppressed).
     *
     * <p>The rule, the same as Kotlin's {@code withLock}: a loss declared before the action returned
     * ({@link Lease#isLost()} true by then) fails the call, even if the action ignored the interrupt and
     * returned normally; a loss declared after it returned does not discard its result, and the release then
     * throws {@link LeaseExpiredException} or {@link LockNotHeldException} if the keys are gone. The
     * thread's interrupt status is left as the action left it: an interrupt the action did not consume is
     * still set when {@code executeLocked} throws, since it cannot be told apart from one sent by other code.
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
     * @throws IllegalStateException    as {@link #lock()}, when the instance is closed
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

    /**
     * Asks the nodes whether anyone holds this lock (any owner, this mutex included), and for how long: the
     * "is it locked?" of other lock libraries (Redisson's {@code isLocked()} and {@code remainTimeToLive()},
     * redislock's {@code TTL()}). The lock counts as held when one owner's key stands on a quorum of nodes; its
     * TTL is how long until enough of those keys expire that fewer than a quorum remain, counted from when the
     * question was sent, so it never says more than the nodes do. A key on a minority, or keys of different
     * owners none of which has a quorum, is no lock: the answer is empty.
     *
     * <p>The answer is a snapshot: the lock may be taken or released right after it. Never use "not held" as
     * permission to do the guarded work; acquire the lock for that. {@link #valid()} answers a different
     * question: whether this mutex's own lease still holds.
     *
     * <p>Waits only for the nodes' answers (bounded by the node timeout); an interrupt meanwhile is kept as the
     * thread's interrupt status, not thrown. Read-only: it writes nothing.
     *
     * @return the holder's remaining TTL, or empty when no owner holds the lock on a quorum;
     *         {@code ChronoUnit.FOREVER}'s duration when the keys have no TTL (not written by this library)
     * @throws LockQueryException if so many nodes failed that they could make up a quorum with a holder's keys,
     *                            so that neither answer is known
     * @since 0.1.0
     */
    Optional<Duration> holderTtl();

    /**
     * Asynchronous {@link #holderTtl()}. Cancelling the future does not stop the nodes' reads (read-only, bounded
     * by the node timeout).
     *
     * @return completes with the answer, or exceptionally as {@link #holderTtl()} throws
     * @since 0.1.0
     */
    CompletableFuture<Optional<Duration>> holderTtlAsync();

    /** @return the end of the latest lease's validity, empty before the first acquisition or extension @since 0.1.0 */
    Optional<Instant> until();

    /** @return the latest lease's owner token, or the preset value, or empty before the first acquisition @since 0.1.0 */
    Optional<String> value();
}
