package io.redsync.coroutines

import io.redsync.LockOptions
import io.redsync.Mutex
import kotlinx.coroutines.CoroutineScope

/**
 * One named lock with its options, whose members suspend: the coroutine view of a [Mutex], from
 * [CoroutineRedsync.mutex]. Like [Mutex] it remembers its latest lease, for [unlock] and [extend] as in Go
 * redsync; prefer the lease itself ([CoroutineLease.release]) or [withLock].
 *
 * Not reentrant: locking a name this coroutine already holds waits for that very lease, as another
 * process would, until the tries run out. Thread-safe; concurrent callers contend like separate processes.
 *
 * @since 0.1.0
 */
public class CoroutineMutex internal constructor(private val mutex: Mutex) {

    /**
     * The lock name, as given (without key prefix).
     *
     * @since 0.1.0
     */
    public val name: String get() = mutex.name()

    /**
     * The options this mutex uses.
     *
     * @since 0.1.0
     */
    public val options: LockOptions get() = mutex.options()

    /**
     * The owner token of the latest lease (or the preset [LockOptions.value]); `null` before any.
     *
     * @since 0.1.0
     */
    public val value: String? get() = mutex.value().orElse(null)

    /**
     * Acquires the lock, retrying up to [LockOptions.tries] times within [LockOptions.acquireTimeout] and
     * waking early when the holder releases. Waiting suspends; no thread is blocked, so any number of
     * waiters can share one thread.
     *
     * The lease is not kept alive: call [CoroutineLease.keepAlive] for that, or prefer [withLock], which
     * keeps it and always releases it.
     *
     * **Cancellation.** This suspending function is cancellable: if the calling coroutine's job is cancelled
     * (or its `withTimeout` expires) while it waits, it stops retrying at once and throws the caller's
     * [kotlinx.coroutines.CancellationException] (e.g. `TimeoutCancellationException`), never
     * [io.redsync.LockAcquisitionException]. There is a prompt cancellation guarantee: even if the lock was
     * granted, a caller cancelled while suspended gets the [kotlinx.coroutines.CancellationException], not
     * the lease. Nothing is left held: the nodes the attempt in flight had acquired are released (in the
     * background, bounded by [LockOptions.nodeTimeout]), and a lease granted at the instant of the
     * cancellation is released too.
     *
     * @return the lease
     * @throws io.redsync.LockTakenException if another owner held the lock on a quorum in the last attempt
     * @throws io.redsync.LockAcquisitionException if all attempts failed otherwise (node errors attached)
     * @since 0.1.0
     */
    public suspend fun lock(): CoroutineLease = CoroutineLease(mutex.awaitLock())

    /**
     * Makes one acquisition attempt, no retry, suspending only for the nodes' answers (bounded by
     * [LockOptions.nodeTimeout]).
     *
     * **Cancellation.** Cancellable with a prompt cancellation guarantee, as [lock]: the attempt is
     * abandoned, the nodes it acquired are released in the background, a lease granted at the instant of
     * the cancellation is released, and the caller's [kotlinx.coroutines.CancellationException] is thrown.
     *
     * @return the lease, or `null` when another owner holds the lock on a quorum
     * @throws io.redsync.LockAcquisitionException if the attempt failed for another reason (node errors, validity)
     * @since 0.1.0
     */
    public suspend fun tryLock(): CoroutineLease? = mutex.awaitTryLock()?.let(::CoroutineLease)

    /**
     * Releases this mutex's latest lease, or, when none was acquired here, the keys holding the preset
     * [LockOptions.value] (redsync's `Unlock`).
     *
     * **Cancellation.** Cancellable, but cancelling stops the wait only: the release commands were already
     * sent and still take effect on the nodes; the caller's [kotlinx.coroutines.CancellationException] is
     * thrown. Nothing is left held that was not held before. To learn the outcome during cancellation, call
     * it in `withContext(NonCancellable)`.
     *
     * @throws IllegalStateException if there is neither a lease nor a preset value
     * @throws io.redsync.LeaseExpiredException if the keys had already expired on too many nodes
     * @throws io.redsync.LockNotHeldException if another owner holds the lock on some nodes
     * @throws io.redsync.UnlockFailedException if node errors prevented a quorum (the keys expire with their TTL)
     * @since 0.1.0
     */
    public suspend fun unlock() {
        mutex.awaitUnlock()
    }

    /**
     * Extends this mutex's latest lease to [LockOptions.expiry] (redsync's `Extend`).
     *
     * **Cancellation.** Cancellable, but cancelling stops the wait only: an extension already sent is not
     * undone, and the lease stays held until released or expired; the caller's
     * [kotlinx.coroutines.CancellationException] is thrown.
     *
     * @throws IllegalStateException if there is neither a lease nor a preset value
     * @throws io.redsync.LeaseExpiredException if the validity already ran out or the keys are gone on too many nodes
     * @throws io.redsync.LockNotHeldException if another owner holds the lock on some nodes
     * @throws io.redsync.ExtendFailedException if node errors prevented a quorum, or it came too late to help
     * @since 0.1.0
     */
    public suspend fun extend() {
        mutex.awaitExtend()
    }

    /**
     * Asks the nodes whether a quorum still holds this mutex's value (redsync's `Valid`), bounded by
     * [LockOptions.nodeTimeout]; nodes that fail count as not holding it. This checks this mutex's own
     * token, not whether anyone holds the lock.
     *
     * **Cancellation.** Cancellable with a prompt cancellation guarantee; the read-only check is abandoned
     * and the caller's [kotlinx.coroutines.CancellationException] is thrown. Nothing is held, so nothing
     * needs releasing.
     *
     * @return true if a quorum holds the value; false when there is no value yet
     * @since 0.1.0
     */
    public suspend fun valid(): Boolean = mutex.awaitValid()

    /**
     * Acquires this lock (suspending, as [lock]), runs [block] holding it, and releases it on every exit
     * path. While [block] runs the lease is kept alive with the options' keep-alive policy (extended about
     * every third of the expiry) unless the options disable it.
     *
     * **Cancellation while waiting for the lock** (including a `withTimeout`): as [lock]: retries stop,
     * whatever the attempt in flight held is released, a lease granted at the instant of the cancellation
     * is released, [block] is not run, and the caller's [kotlinx.coroutines.CancellationException] is
     * thrown unchanged.
     *
     * **Cancellation while [block] runs**: [block] is cancelled as usual; once it has finished, the lease
     * is released exactly once, in `withContext(NonCancellable)` (sent and awaited despite the
     * cancellation, suspending, never blocking a thread), and the caller's
     * [kotlinx.coroutines.CancellationException] is thrown unchanged (a release failure is logged).
     *
     * **[block] fails**: the lease is released, then the exception is rethrown unchanged (a release
     * failure attached to it as suppressed).
     *
     * **The lease is lost** (the keep-alive could not extend it: its keys were deleted or taken, a quorum
     * of nodes stopped answering, or a keep-alive cap was reached): [block]'s scope is cancelled at once,
     * before the validity deadline, with a [kotlinx.coroutines.CancellationException] whose cause is the
     * [io.redsync.LeaseLostException]. Once [block] has finished, the release is still attempted, and the
     * [io.redsync.LeaseLostException] is thrown, not a cancellation, so that a `launch` cannot swallow it.
     *
     * **[block] returns**: the lease is released and the result returned. A release prevented only by node
     * errors is logged at WARN (the keys expire with their TTL); signs that the lock was lost
     * ([io.redsync.LeaseExpiredException], [io.redsync.LockNotHeldException]) are thrown.
     *
     * @param block the work, given the lease, in a child scope (children it launches are awaited before
     *              the release)
     * @return what [block] returned
     * @throws io.redsync.LeaseLostException if the lease was lost while [block] ran
     * @throws io.redsync.LockTakenException as [lock]
     * @throws io.redsync.LockAcquisitionException as [lock]
     * @throws io.redsync.LeaseExpiredException if [block] outlived the lease without keep-alive
     * @throws io.redsync.LockNotHeldException if another owner took the lock over meanwhile
     * @since 0.1.0
     */
    public suspend fun <T> withLock(block: suspend CoroutineScope.(lease: CoroutineLease) -> T): T {
        val lease = lock()
        // Nothing suspends between the acquisition and holding's try: every path releases the lease.
        return lease.asJava().holding(options.keepAlive()) { block(lease) }
    }

    /**
     * The blocking and `CompletableFuture` API of the same mutex (sharing its latest lease).
     *
     * @return the mutex this view wraps
     * @since 0.1.0
     */
    public fun asJava(): Mutex = mutex

    override fun toString(): String = "CoroutineMutex($name)"
}
