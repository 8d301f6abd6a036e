package io.redsync.coroutines

import io.redsync.KeepAlive
import io.redsync.Lease
import io.redsync.LeaseLostException
import kotlinx.coroutines.CoroutineScope
import kotlin.time.Duration
import kotlin.time.toKotlinDuration

/**
 * A held lock, whose release and extension suspend: the coroutine view of a [Lease]. It has no blocking
 * `close()`; release it with [release], or scope it with [use], which releases on every exit path without
 * blocking a thread:
 *
 * ```
 * redsync.tryLock("report")?.use { lease -> buildReport(fence = lease.fencingToken) }
 * ```
 *
 * Ownership is the lease's [value], not a coroutine or thread: any coroutine may extend or release it. A
 * second release does nothing. Validity is measured on this JVM's monotonic clock from the start of the
 * acquiring attempt; after it ends other callers may acquire the lock, whatever this process believes.
 *
 * @since 0.1.0
 */
public class CoroutineLease internal constructor(private val lease: Lease) {

    /**
     * The lock name, as given (without key prefix).
     *
     * @since 0.1.0
     */
    public val name: String get() = lease.name()

    /**
     * The owner token stored in the lock keys.
     *
     * @since 0.1.0
     */
    public val value: String get() = lease.value()

    /**
     * The fencing token (with `fencing = true` in the options): strictly greater than the token of every
     * earlier lease of this lock; pass it to the storage you write to. `null` without fencing.
     *
     * @since 0.1.0
     */
    public val fencingToken: Long? get() = lease.fencingToken().let { if (it.isPresent) it.asLong else null }

    /**
     * The validity left; [Duration.ZERO] once it ran out or the lease was released.
     *
     * @since 0.1.0
     */
    public val remaining: Duration get() = lease.remaining().toKotlinDuration()

    /**
     * Whether the lease is still held as far as this process knows: not released, not lost, validity left.
     * Asks no node.
     *
     * @since 0.1.0
     */
    public val isValid: Boolean get() = lease.isValid

    /**
     * Whether the lease was declared lost while kept alive.
     *
     * @since 0.1.0
     */
    public val isLost: Boolean get() = lease.isLost

    /**
     * Whether [release] was called (or a scope ended by [use] or `withLock` released it).
     *
     * @since 0.1.0
     */
    public val isReleased: Boolean get() = lease.isReleased

    /**
     * Throws unless [isValid]; call it before each step that must not run unprotected. Asks no node.
     *
     * @throws LeaseLostException if the lease was kept alive and declared lost
     * @throws io.redsync.LeaseExpiredException if the validity ran out or the lease was released
     * @since 0.1.0
     */
    public fun checkValid() {
        lease.checkValid()
    }

    /**
     * Keeps this lease alive in the background with the options' keep-alive policy ([KeepAlive.defaults]
     * when they disable it) until it is released or lost; see [onLost]. No thread or coroutine is dedicated
     * to it: extensions run on the instance's timer. Calling it again has no effect.
     *
     * @return this lease
     * @throws IllegalStateException if the lease was released
     * @since 0.1.0
     */
    public fun keepAlive(): CoroutineLease {
        lease.keepAlive()
        return this
    }

    /**
     * Keeps this lease alive with a policy built from [KeepAlive.defaults] by [configure]:
     * `lease.keepAlive { interval = 2.seconds; lostMargin = 1.seconds }`.
     *
     * @param configure sets the values that differ
     * @return this lease
     * @throws IllegalArgumentException if the policy does not fit this lease's expiry
     * @throws IllegalStateException if the lease was released
     * @since 0.1.0
     */
    public fun keepAlive(configure: KeepAliveBuilder.() -> Unit): CoroutineLease {
        lease.keepAlive(KeepAliveBuilder(KeepAlive.defaults()).apply(configure).build())
        return this
    }

    /**
     * Registers [listener], run once if the lease is lost while kept alive, before its validity ends (at
     * once if it is already lost). It runs on a library thread: keep it quick (cancel a job, set a flag).
     * Not run for a lease that is released, or that simply expires without keeping.
     *
     * @param listener receives the reason
     * @since 0.1.0
     */
    public fun onLost(listener: (LeaseLostException) -> Unit) {
        lease.onLost { listener(it) }
    }

    /**
     * Deletes the lease's keys on every node where they still hold its value (compare-and-delete). A
     * second call does nothing.
     *
     * **Cancellation.** Cancellable, but cancelling stops the wait only: the lease counts as released at
     * once, and the release commands already sent still take effect, so nothing is left held; the caller's
     * [kotlinx.coroutines.CancellationException] is thrown. To learn the outcome in cleanup code of a
     * cancelled coroutine, call it in `withContext(NonCancellable)` ([use] and `withLock` do).
     *
     * @throws io.redsync.LeaseExpiredException if the keys had already expired on too many nodes
     * @throws io.redsync.LockNotHeldException if another owner holds the lock on some nodes
     * @throws io.redsync.UnlockFailedException if node errors prevented a quorum (the keys expire with their TTL)
     * @since 0.1.0
     */
    public suspend fun release() {
        lease.awaitRelease()
    }

    /**
     * Resets the lease's TTL on every node holding it, to [ttl] or, when `null`, to the options' expiry.
     * Extending a lease whose validity already ran out fails without asking any node.
     *
     * **Cancellation.** Cancellable, but cancelling stops the wait only: an extension already sent is not
     * undone (the lease's deadline then stays where it was, or is shortened if [ttl] was shorter); the lease
     * stays held until released or expired; the caller's [kotlinx.coroutines.CancellationException] is thrown.
     *
     * @param ttl the new TTL: positive, whole milliseconds, at least twice the drift it implies; `null` for
     *            the options' expiry
     * @throws IllegalArgumentException if [ttl] is out of range
     * @throws io.redsync.LeaseExpiredException if the validity already ran out or the keys are gone on too many nodes
     * @throws io.redsync.LockNotHeldException if another owner holds the lock on some nodes
     * @throws io.redsync.ExtendFailedException if node errors prevented a quorum, or it came too late to help
     * @since 0.1.0
     */
    public suspend fun extend(ttl: Duration? = null) {
        lease.awaitExtend(ttl)
    }

    /**
     * Runs [block] and releases this lease on every exit path, suspending for the release, never
     * blocking a thread. If the lease is kept alive ([keepAlive]) and lost while [block] runs, [block]'s
     * scope is cancelled at once and [LeaseLostException] is thrown once it has finished.
     *
     * **Cancellation.** [block] is cancelled as usual; once it has finished the lease is released in
     * `withContext(NonCancellable)` (a failure of that release is logged) and the caller's
     * [kotlinx.coroutines.CancellationException] is thrown unchanged. Nothing is left held.
     *
     * **Failure.** An exception from [block] is rethrown after the release (a release failure attached as
     * suppressed). After a normal return, a release prevented only by node errors is logged at WARN (the
     * keys expire with their TTL); [io.redsync.LeaseExpiredException] and [io.redsync.LockNotHeldException]
     * are thrown: the lock was not held to the end.
     *
     * @param block the work, given this lease, in a child scope
     * @return what [block] returned
     * @throws LeaseLostException if the lease was lost while [block] ran
     * @since 0.1.0
     */
    public suspend fun <T> use(block: suspend CoroutineScope.(lease: CoroutineLease) -> T): T =
        lease.holding(keepAlive = null) { block(this@CoroutineLease) }

    /**
     * The blocking and `CompletableFuture` API of the same lease (for code that takes the Java type); its
     * `close()` blocks the calling thread until the release completes.
     *
     * @return the lease this view wraps
     * @since 0.1.0
     */
    public fun asJava(): Lease = lease

    override fun toString(): String = "CoroutineLease($name)"
}
