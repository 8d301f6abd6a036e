@file:JvmName("RedsyncWithLock")

package io.redsync.coroutines

import io.redsync.KeepAlive
import io.redsync.Lease
import io.redsync.LeaseLostException
import io.redsync.LockOptions
import io.redsync.Mutex
import io.redsync.Redsync
import io.redsync.UnlockFailedException
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.isActive
import kotlinx.coroutines.job
import kotlinx.coroutines.withContext
import org.slf4j.LoggerFactory
import java.util.concurrent.atomic.AtomicReference
import kotlin.contracts.ExperimentalContracts
import kotlin.contracts.InvocationKind
import kotlin.contracts.contract

/**
 * Acquires the lock [name], runs [block] holding it, and releases it on every exit path:
 *
 * ```
 * val paid = redsync.withLock("invoice:42") { lease -> billing.charge(42) }
 * ```
 *
 * Shortcut for `mutex(name, options).withLock(block)`; see [Mutex.withLock] for what happens on
 * cancellation, failure and loss of the lease.
 *
 * @param name the lock name, non-blank
 * @param options the options, including [LockOptions.keepAlive]; this instance's defaults when omitted
 * @param block the work; it runs in a child scope that is cancelled if the lease is lost
 * @return what [block] returned
 * @throws LeaseLostException if the lease was lost while [block] ran
 * @throws io.redsync.LockTakenException as [Mutex.awaitLock]
 * @throws io.redsync.LockAcquisitionException as [Mutex.awaitLock]
 * @since 0.1.0
 */
@OptIn(ExperimentalContracts::class)
public suspend fun <T> Redsync.withLock(
    name: String,
    options: LockOptions = defaults(),
    block: suspend CoroutineScope.(lease: Lease) -> T,
): T {
    contract { callsInPlace(block, InvocationKind.EXACTLY_ONCE) }
    return mutex(name, options).withLock(block)
}

/**
 * Acquires this lock (suspending, as [awaitLock]), runs [block] holding it, and releases it on every exit
 * path. While [block] runs the lease is kept alive with [LockOptions.keepAlive] (extended about every
 * third of the expiry) unless the options disable it. Not reentrant: calling it again for the same name
 * inside [block] waits for this very lease as another process would, until its tries run out.
 *
 * **Cancellation while waiting for the lock** (including a `withTimeout` or other deadline): the lock
 * future is cancelled, so the engine stops retrying at once and releases the nodes the attempt in flight
 * had acquired (in the background, bounded by [LockOptions.nodeTimeout]); [block] is not run and the
 * caller's [CancellationException] (e.g. `TimeoutCancellationException`) is thrown unchanged. A lease
 * granted in the instant of the cancellation is released.
 *
 * **Cancellation while [block] runs**: [block] is cancelled as usual; once it has finished the lease is
 * released exactly once, in `withContext(NonCancellable)` so that the release is sent and awaited despite
 * the cancellation, and the caller's [CancellationException] is thrown unchanged (a release failure is
 * logged, not thrown over it).
 *
 * **[block] fails**: the lease is released, then the exception is rethrown unchanged (a release failure
 * is attached to it as suppressed).
 *
 * **The lease is lost** (the keep-alive could not extend it: its keys were deleted or taken, a quorum of
 * nodes stopped answering, or a [KeepAlive] cap was reached): [block]'s scope is cancelled at once, before
 * the validity deadline, with a [CancellationException] whose cause is the [LeaseLostException]. Once
 * [block] has finished, the release is still attempted, and [LeaseLostException] is thrown, not a
 * cancellation, so that it is not silently swallowed by a `launch`; whatever [block] threw other than the
 * cancellation, and a release failure, are attached to it as suppressed. The rule, the same as Java's
 * `executeLocked`: a loss declared before [block] returned ([Lease.isLost] true by then) fails the call,
 * even if [block] completed before its cancellation reached it; a loss declared after [block] returned does
 * not discard its result, and the release then reports it if the keys are gone.
 *
 * **[block] returns**: the lease is released; its result is returned. A release prevented only by node
 * errors ([UnlockFailedException]) is logged at WARN, since the keys expire with their TTL, as
 * [Lease.close] does; signs that the lock was lost ([io.redsync.LeaseExpiredException],
 * [io.redsync.LockNotHeldException]) are thrown.
 *
 * @param block the work, given the lease; it runs in a child scope (a [CoroutineScope] receiver, so it
 *              may launch children, which are awaited before the release)
 * @return what [block] returned
 * @throws LeaseLostException if the lease was lost while [block] ran
 * @throws io.redsync.LockTakenException as [Mutex.awaitLock]
 * @throws io.redsync.LockAcquisitionException as [Mutex.awaitLock]
 * @throws io.redsync.LeaseExpiredException if [block] outlived the lease without keep-alive, as [Lease.release]
 * @throws io.redsync.LockNotHeldException as [Lease.release]
 * @since 0.1.0
 */
@OptIn(ExperimentalContracts::class)
public suspend fun <T> Mutex.withLock(block: suspend CoroutineScope.(lease: Lease) -> T): T {
    contract { callsInPlace(block, InvocationKind.EXACTLY_ONCE) }
    val lease = awaitLock()
    // From here on every path releases the lease: nothing suspends between the acquisition and the try.
    return lease.holding(options().keepAlive()) { block(lease) }
}

/**
 * Runs [block] while holding this lease, then releases it on every exit path: the rules [Mutex.withLock]
 * documents (the block's scope cancelled on loss, the release in `NonCancellable`, [LeaseLostException]
 * thrown for a loss while the block ran). Keeps the lease alive with [keepAlive] when given and enabled; a
 * lease kept alive before is guarded too. Shared by `withLock`, [CoroutineLease.use] and leader election.
 */
internal suspend fun <T> Lease.holding(keepAlive: KeepAlive?, block: suspend CoroutineScope.() -> T): T {
    val lease = this
    val guard = LossGuard()
    val result: T
    try {
        lease.onLost(guard::lost) // before keeping starts, so no loss goes unheard
        if (keepAlive != null && keepAlive.enabled()) {
            lease.keepAlive(keepAlive)
        }
        // A scope of its own, so that the loss can cancel the block (and its children) without
        // cancelling the caller: a child's cancellation does not propagate to its parent.
        result = coroutineScope {
            guard.attach(coroutineContext.job)
            block()
        }
    } catch (failure: Throwable) {
        val lost = guard.finish() ?: lease.declaredLoss()
        if (lost != null && currentCoroutineContext().isActive) {
            // The cancellation was ours, not the caller's: report the loss. A copy, because the core
            // hands the same instance to every listener, and suppressed exceptions are added below.
            val thrown = LeaseLostException(lost.lockName(), lost.reason(), lost.message, lost.cause)
            // The cancellation we caused, or the block's own checkValid() reporting this loss, add nothing.
            val sameLoss = failure is LeaseLostException && failure.lockName() == lost.lockName()
            if (failure !is CancellationException && !sameLoss) {
                thrown.addSuppressed(failure)
            }
            releaseAfterFailure(lease, thrown)
            throw thrown
        }
        releaseAfterFailure(lease, failure)
        throw failure
    }
    val lost = guard.finish() ?: lease.declaredLoss()
    if (lost != null) {
        // Declared before the block returned, but its cancellation came too late to cut the block short.
        val thrown = LeaseLostException(lost.lockName(), lost.reason(), lost.message, lost.cause)
        releaseAfterFailure(lease, thrown)
        throw thrown
    }
    releaseAfterSuccess(lease)
    return result
}

/** The loss if the lease was declared lost by now; its listener may not have run yet. */
private fun Lease.declaredLoss(): LeaseLostException? =
    if (isLost) runCatching { checkValid() }.exceptionOrNull() as? LeaseLostException else null

private val log = LoggerFactory.getLogger("io.redsync.coroutines.withLock")

/** Releases after [outcome]; a release failure is attached to it, or logged when [outcome] is a cancellation. */
private suspend fun releaseAfterFailure(lease: Lease, outcome: Throwable) {
    try {
        withContext(NonCancellable) { lease.awaitRelease() }
    } catch (releaseFailure: Throwable) {
        if (outcome is CancellationException) {
            // A cancellation is often one instance shared by every child of the cancelled job:
            // attaching to it would pile up the failures of unrelated locks.
            log.warn("lock '{}' could not be released after cancellation: {}", lease.name(), releaseFailure.toString())
        } else if (releaseFailure !== outcome) {
            outcome.addSuppressed(releaseFailure)
        }
    }
}

/** Releases after a normal return, with [Lease.close]'s rule: node errors alone are logged, not thrown. */
private suspend fun releaseAfterSuccess(lease: Lease) {
    try {
        withContext(NonCancellable) { lease.awaitRelease() }
    } catch (e: UnlockFailedException) {
        log.warn("{}", e.message)
    }
}

/**
 * Connects the lease's loss to the block's scope. The loss may be declared (on a library thread) before
 * the scope exists, while the block runs, or after it finished; only the middle case cancels, and
 * [finish] tells whether the block was cut short by it.
 */
private class LossGuard {
    /** `null` before [attach]; then the block's [Job]; [Finished] after [finish]; or the loss. */
    private val state = AtomicReference<Any?>(null)

    fun attach(job: Job) {
        if (!state.compareAndSet(null, job)) {
            (state.get() as? LeaseLostException)?.let { job.cancel(cancellation(it)) }
        }
    }

    /** Ends the guarded section; returns the loss if it was declared while the block ran. */
    fun finish(): LeaseLostException? {
        while (true) {
            val current = state.get()
            if (current is LeaseLostException) return current
            if (current === Finished || state.compareAndSet(current, Finished)) return null
        }
    }

    /** The lease's onLost listener; runs on a library thread. */
    fun lost(loss: LeaseLostException) {
        while (true) {
            val current = state.get()
            if (current === Finished || current is LeaseLostException) return
            if (state.compareAndSet(current, loss)) {
                (current as? Job)?.cancel(cancellation(loss))
                return
            }
        }
    }

    private fun cancellation(loss: LeaseLostException) = CancellationException(loss.message, loss)

    private object Finished
}
