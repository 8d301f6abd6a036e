@file:JvmName("RedsyncSuspending")

package io.redsync.coroutines

import io.redsync.Lease
import io.redsync.LockOptions
import io.redsync.Mutex
import io.redsync.Redsync
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.future.await
import java.util.concurrent.CompletableFuture
import kotlin.time.Duration
import kotlin.time.toJavaDuration

// Naming: Mutex and Lease already have blocking members lock(), tryLock(), unlock(), extend(), release()
// and valid(). A Kotlin extension with the same name and parameters is shadowed by the member (Kotlin
// always prefers members), so a `suspend fun Mutex.lock()` could never be called. The `await` prefix says
// what these are: the core's …Async() futures, awaited, as kotlinx.coroutines' own `await()` reads.

/**
 * Acquires the lock, suspending (never blocking a thread) while [Mutex.lockAsync] retries up to
 * [LockOptions.tries] times within [LockOptions.acquireTimeout].
 *
 * The returned lease is not kept alive; call [Lease.keepAlive] or prefer [withLock], which keeps it and
 * always releases it.
 *
 * **Cancellation.** Cancellable, with a prompt cancellation guarantee: if the calling coroutine is
 * cancelled (or its `withTimeout` expires) while waiting, the lock future is cancelled, so the engine stops
 * retrying at once and releases the nodes the attempt in flight had acquired (in the background, bounded
 * by [LockOptions.nodeTimeout]); this function then throws the caller's [CancellationException] (e.g.
 * `TimeoutCancellationException`), never [io.redsync.LockAcquisitionException]. A lease granted in the
 * instant of the cancellation is released, not leaked.
 *
 * @return the lease
 * @throws io.redsync.LockTakenException if another owner held the lock on a quorum in the last attempt
 * @throws io.redsync.LockAcquisitionException if all attempts failed otherwise (node errors attached)
 * @since 0.1.0
 */
public suspend fun Mutex.awaitLock(): Lease = lockAsync().awaitReleasingOnCancel { it }

/**
 * Makes one acquisition attempt, no retry, suspending only for the nodes' answers (bounded by
 * [LockOptions.nodeTimeout]).
 *
 * **Cancellation.** Cancellable as [awaitLock]: the attempt's future is cancelled, the nodes it acquired
 * are released in the background, a lease granted in the instant of the cancellation is released, and the
 * caller's [CancellationException] is thrown.
 *
 * @return the lease, or `null` when another owner holds the lock on a quorum
 * @throws io.redsync.LockAcquisitionException if the attempt failed for another reason (node errors, validity)
 * @since 0.1.0
 */
public suspend fun Mutex.awaitTryLock(): Lease? =
    tryLockAsync().awaitReleasingOnCancel { it.orElse(null) }.orElse(null)

/**
 * Releases this mutex's latest lease, or, when none was acquired here, the keys holding the preset
 * [LockOptions.value] (see [Mutex.unlock]).
 *
 * **Cancellation.** Cancelling the caller stops the wait only: the release commands were already sent
 * and may still take effect on the nodes; the caller's [CancellationException] is thrown. To make sure a
 * release completes during cancellation, call it in `withContext(NonCancellable)`.
 *
 * @throws IllegalStateException if there is neither a lease nor a preset value
 * @throws io.redsync.LeaseExpiredException if the keys had already expired on too many nodes
 * @throws io.redsync.LockNotHeldException if another owner holds the lock on some nodes
 * @throws io.redsync.UnlockFailedException if node errors prevented a quorum (the keys expire with their TTL)
 * @since 0.1.0
 */
public suspend fun Mutex.awaitUnlock() {
    unlockAsync().await()
}

/**
 * Extends this mutex's latest lease to [LockOptions.expiry] (see [Mutex.extend]).
 *
 * **Cancellation.** Cancelling the caller stops the wait only: an extension already sent is not undone;
 * the caller's [CancellationException] is thrown.
 *
 * @throws IllegalStateException if there is neither a lease nor a preset value
 * @throws io.redsync.LeaseExpiredException if the validity already ran out or the keys are gone on too many nodes
 * @throws io.redsync.LockNotHeldException if another owner holds the lock on some nodes
 * @throws io.redsync.ExtendFailedException if node errors prevented a quorum, or it came too late to help
 * @since 0.1.0
 */
public suspend fun Mutex.awaitExtend() {
    extendAsync().await()
}

/**
 * Asks the nodes whether a quorum still holds this mutex's value (redsync's `Valid`), bounded by
 * [LockOptions.nodeTimeout]; nodes that fail count as not holding it.
 *
 * **Cancellation.** Cancellable; the read-only check is abandoned and the caller's
 * [CancellationException] is thrown. Nothing is held, so nothing needs releasing.
 *
 * @return true if a quorum holds the value; false when there is no value yet
 * @since 0.1.0
 */
public suspend fun Mutex.awaitValid(): Boolean = validAsync().await()

/**
 * Shortcut for `mutex(name, options).awaitLock()`; see [Mutex.awaitLock] for cancellation.
 *
 * @param name the lock name
 * @param options the options; this instance's defaults when omitted
 * @return the lease, not kept alive
 * @since 0.1.0
 */
public suspend fun Redsync.awaitLock(name: String, options: LockOptions = defaults()): Lease =
    mutex(name, options).awaitLock()

/**
 * Deletes the lease's keys on every node where they still hold its value (compare-and-delete). A second
 * call does nothing.
 *
 * **Cancellation.** Cancelling the caller stops the wait only: the lease counts as released at once and
 * the release commands already sent still take effect; the caller's [CancellationException] is thrown.
 * In cleanup code run it in `withContext(NonCancellable)` so that a cancelled caller still learns the
 * outcome ([withLock] does).
 *
 * @throws io.redsync.LeaseExpiredException if the keys had already expired on too many nodes
 * @throws io.redsync.LockNotHeldException if another owner holds the lock on some nodes
 * @throws io.redsync.UnlockFailedException if node errors prevented a quorum (the keys expire with their TTL)
 * @since 0.1.0
 */
public suspend fun Lease.awaitRelease() {
    releaseAsync().await()
}

/**
 * Resets the lease's TTL on every node holding it, to [ttl] or, when `null`, to the options' expiry.
 * Extending a lease whose validity already ran out fails without asking any node.
 *
 * **Cancellation.** Cancelling the caller stops the wait only: an extension already sent is not undone
 * (the lease's deadline then stays where it was, or is shortened if [ttl] was shorter); the caller's
 * [CancellationException] is thrown.
 *
 * @param ttl the new TTL: positive, whole milliseconds, at least twice the drift it implies; `null` for
 *            the options' expiry
 * @throws IllegalArgumentException if [ttl] is out of range
 * @throws io.redsync.LeaseExpiredException if the validity already ran out or the keys are gone on too many nodes
 * @throws io.redsync.LockNotHeldException if another owner holds the lock on some nodes
 * @throws io.redsync.ExtendFailedException if node errors prevented a quorum, or it came too late to help
 * @since 0.1.0
 */
public suspend fun Lease.awaitExtend(ttl: Duration? = null) {
    (if (ttl == null) extendAsync() else extendAsync(ttl.toJavaDuration())).await()
}

/**
 * Awaits a future that may complete with a lease, cancelling it when the caller is cancelled. A lease that
 * arrives in the instant of the cancellation (the future completed, but `await` resumed with the
 * cancellation: prompt cancellation, or the future won the race against `cancel`) would be lost with the
 * dropped result, leaving the lock taken until its TTL runs out; it is released instead.
 */
private suspend fun <T : Any> CompletableFuture<T>.awaitReleasingOnCancel(leaseOf: (T) -> Lease?): T {
    try {
        return await()
    } catch (e: CancellationException) {
        if (isDone && !isCompletedExceptionally) {
            leaseOf(getNow(null))?.releaseAsync()
        }
        throw e
    }
}
