@file:JvmName("RedsyncCoroutines")

package io.redsync.coroutines

import io.redsync.LockOptions
import io.redsync.Redsync
import kotlinx.coroutines.CoroutineScope

/**
 * The coroutine view of a [Redsync] instance: the same locks, with members that suspend instead of
 * blocking a thread, and Kotlin types (`kotlin.time.Duration`, `null` for "none"). Like Lettuce's
 * `connection.coroutines()`, it is a separate type whose members have the blocking API's names, so that a
 * coroutine cannot reach a blocking call by accident:
 *
 * ```
 * val redsync = CoroutineRedsync(listOf("redis://10.0.0.1", "redis://10.0.0.2", "redis://10.0.0.3")) {
 *     defaults { expiry = 10.seconds; fencing = true }
 * }
 * redsync.withLock("invoice:42") { lease -> billing.charge(42, fence = lease.fencingToken) }
 * val lease = redsync.tryLock("report") ?: return      // null when another owner holds it
 * lease.use { ... }                                     // released on every exit, no thread blocked
 * ```
 *
 * Get one from [CoroutineRedsync] (the factory) or from a Java-built instance with [coroutines]; both
 * views share the instance, its connections and its defaults. Per-call options start from the
 * instance's [defaults]: `mutex(name) { tries = 3 }`, `options { acquireTimeout = 5.seconds }`.
 *
 * Thread-safe; create one per application and share it.
 *
 * @since 0.1.0
 */
public class CoroutineRedsync internal constructor(private val redsync: Redsync) : AutoCloseable {

    /**
     * The options used when a call gives none (the instance's, e.g. set with `defaults { }` in the factory).
     *
     * @since 0.1.0
     */
    public val defaults: LockOptions get() = redsync.defaults()

    /**
     * The prefix put before every lock name to form its key (empty by default).
     *
     * @since 0.1.0
     */
    public val keyPrefix: String get() = redsync.keyPrefix()

    /**
     * The number of nodes.
     *
     * @since 0.1.0
     */
    public val nodeCount: Int get() = redsync.nodeCount()

    /**
     * The number of nodes that must agree: `nodeCount / 2 + 1`.
     *
     * @since 0.1.0
     */
    public val quorum: Int get() = redsync.quorum()

    /**
     * Options for one call, starting from this instance's [defaults] and changing only what [configure]
     * sets, so that the instance's expiry, fencing and keep-alive are kept:
     * `redsync.withLock("report", redsync.options { tries = Int.MAX_VALUE; acquireTimeout = 1.minutes }) { }`.
     * ([lockOptions] starts from the library's defaults instead.)
     *
     * @param configure sets the values that differ
     * @return the options
     * @throws IllegalArgumentException as [lockOptions], naming the option, value and range
     * @since 0.1.0
     */
    public fun options(configure: LockOptionsBuilder.() -> Unit): LockOptions = defaults.copy(configure)

    /**
     * A mutex for the lock [name]; mutexes are cheap, create one per use or keep one per name.
     *
     * @param name the lock name, non-blank; the key is [keyPrefix] + [name]
     * @param options the options; this instance's [defaults] when omitted
     * @return a new mutex
     * @throws IllegalArgumentException if [name] is blank
     * @since 0.1.0
     */
    public fun mutex(name: String, options: LockOptions = defaults): CoroutineMutex =
        CoroutineMutex(redsync.mutex(name, options))

    /**
     * A mutex whose options are this instance's [defaults] changed by [configure]:
     * `redsync.mutex("report") { tries = Int.MAX_VALUE; acquireTimeout = 30.seconds }`.
     *
     * @param name the lock name, non-blank
     * @param configure sets the values that differ from the defaults
     * @return a new mutex
     * @throws IllegalArgumentException if [name] is blank, or as [options]
     * @since 0.1.0
     */
    public fun mutex(name: String, configure: LockOptionsBuilder.() -> Unit): CoroutineMutex =
        mutex(name, options(configure))

    /**
     * Shortcut for `mutex(name, options).lock()`: waits, suspending, until acquired or the tries run out.
     *
     * **Cancellation.** As [CoroutineMutex.lock]: cancellable with a prompt cancellation guarantee; retries
     * stop, whatever the attempt in flight held is released, a lease granted at the instant of the
     * cancellation is released, and the caller's [kotlinx.coroutines.CancellationException] is thrown.
     *
     * @param name the lock name, non-blank
     * @param options the options; this instance's [defaults] when omitted
     * @return the lease, not kept alive; release it, or prefer [withLock]
     * @throws io.redsync.LockTakenException if another owner still held the lock when the tries ran out
     * @throws io.redsync.LockAcquisitionException if all attempts failed otherwise (node errors attached)
     * @since 0.1.0
     */
    public suspend fun lock(name: String, options: LockOptions = defaults): CoroutineLease = mutex(name, options).lock()

    /**
     * Shortcut for `mutex(name, options).tryLock()`: one attempt, no retry.
     *
     * **Cancellation.** As [CoroutineMutex.tryLock]: cancellable with a prompt cancellation guarantee;
     * whatever the attempt held is released, a lease granted at the instant of the cancellation too, and
     * the caller's [kotlinx.coroutines.CancellationException] is thrown.
     *
     * @param name the lock name, non-blank
     * @param options the options; this instance's [defaults] when omitted
     * @return the lease, or `null` when another owner holds the lock on a quorum
     * @throws io.redsync.LockAcquisitionException if the attempt failed for another reason
     * @since 0.1.0
     */
    public suspend fun tryLock(name: String, options: LockOptions = defaults): CoroutineLease? = mutex(name, options).tryLock()

    /**
     * Acquires the lock [name], runs [block] holding it (kept alive), and releases it on every exit path:
     * `val paid = redsync.withLock("invoice:42") { lease -> billing.charge(42) }`.
     *
     * Shortcut for `mutex(name, options).withLock(block)`; see [CoroutineMutex.withLock] for failure and loss
     * of the lease.
     *
     * **Cancellation.** While waiting, as [lock] (nothing left held, [block] not run); while [block] runs,
     * it is cancelled and the lease released once it has finished, in `NonCancellable`, suspending, never
     * blocking a thread; the caller's [kotlinx.coroutines.CancellationException] is thrown unchanged.
     *
     * @param name the lock name, non-blank
     * @param options the options, including the keep-alive policy; this instance's [defaults] when omitted
     * @param block the work, given the lease; it runs in a child scope that is cancelled if the lease is lost
     * @return what [block] returned
     * @throws io.redsync.LeaseLostException if the lease was lost while [block] ran
     * @throws io.redsync.LockTakenException as [lock]
     * @throws io.redsync.LockAcquisitionException as [lock]
     * @since 0.1.0
     */
    public suspend fun <T> withLock(
        name: String,
        options: LockOptions = defaults,
        block: suspend CoroutineScope.(lease: CoroutineLease) -> T,
    ): T = mutex(name, options).withLock(block)

    /**
     * Leader election: competes for the lock [name] with every other caller of `lead` (or Java
     * [io.redsync.Leadership]) for that name, and whenever this caller wins runs [block] as the leader,
     * until the caller is cancelled; it never returns normally.
     *
     * ```
     * launch {
     *     redsync.lead("scheduler", onEvent = { event -> log.info("{}", event) }) { lease ->
     *         while (true) { runDueJobs(fence = lease.fencingToken); delay(1.seconds) }
     *     }
     * }
     * ```
     *
     * One term of leadership: wait for the lock (suspending, unlimited tries, woken when the holder
     * releases); emit [LeadershipEvent.Elected]; run [block] with the lease kept alive ([options]'s
     * keep-alive policy, or [io.redsync.KeepAlive.defaults] when it is disabled); release; emit
     * [LeadershipEvent.Revoked]. Then the next term.
     *
     * - **Leadership lost** (the keep-alive could not extend the lease: its keys were deleted or taken, or
     *   a quorum of nodes stopped answering): [block]'s scope is cancelled at once, before the lease's
     *   validity ends (by the keep-alive's lost margin, which should exceed the time [block] needs to stop),
     *   and this caller competes again. [LeadershipEvent.Revoked.cause] is the [io.redsync.LeaseLostException].
     * - **[block] returns**: this caller steps down (releases the lease) and competes again at once. To lead
     *   for as long as possible, do not return (loop, or end with `awaitCancellation()`).
     * - **[block] throws**: the lease is released, [LeadershipEvent.Revoked] carries the exception, and it is
     *   rethrown: leadership ends for this caller, as a failure of a child ends its parent.
     *
     * **Cancellation.** Cancellable at any point, with a prompt cancellation guarantee. While waiting for
     * the lock, the attempt in flight is cancelled and whatever it held is released (a lease granted at the
     * instant of the cancellation is released too); while leading, [block] is cancelled and, once it has
     * finished, the lease is released in `NonCancellable` and [LeadershipEvent.Revoked] emitted with a
     * `null` cause. The caller's [kotlinx.coroutines.CancellationException] is thrown.
     *
     * **Safety.** Leadership is the lease: after the lease's validity ends another caller may lead, whatever
     * this process believes (a long GC pause or a stopped process outlives its lease). Check
     * [CoroutineLease.checkValid] before steps that must not run twice, and pass [CoroutineLease.fencingToken]
     * (with `fencing = true`) to storage that must reject a former leader's late writes.
     *
     * @param name the lock name, non-blank; every candidate must use the same name and key prefix
     * @param options the options (default: this instance's [defaults]); their expiry bounds how long a dead
     *                leader delays a takeover. `tries` and `acquireTimeout` are overridden: a candidate
     *                waits as long as it takes
     * @param onEvent called on this coroutine when this caller becomes leader and when it stops being leader;
     *                keep it quick and non-throwing (a failure there counts as a failure of [block])
     * @param block the leader's work, given the lease; runs in a child scope cancelled when leadership is lost
     * @throws IllegalArgumentException if [options] preset an owner token (`value`): each term needs its own
     * @throws io.redsync.LockAcquisitionException if the nodes refuse for a reason retrying cannot cure
     *         (credentials, permissions, a replica): too few could ever grant the lock
     * @since 0.1.0
     */
    public suspend fun lead(
        name: String,
        options: LockOptions = defaults,
        onEvent: (LeadershipEvent) -> Unit = {},
        block: suspend CoroutineScope.(lease: CoroutineLease) -> Unit,
    ): Nothing = leadLoop(redsync, name, options, onEvent, block)

    /**
     * The blocking and `CompletableFuture` API of the same instance, for code that takes the Java types.
     *
     * @return the instance this view wraps
     * @since 0.1.0
     */
    public fun asJava(): Redsync = redsync

    /**
     * Closes the instance (shared with [asJava]): its connections and clients, not those passed in. It may
     * wait briefly for the connections to close; call it when the application shuts down, not from a
     * coroutine that must stay responsive. Idempotent.
     *
     * @since 0.1.0
     */
    override fun close() {
        redsync.close()
    }

    override fun toString(): String = "CoroutineRedsync($redsync)"
}

/**
 * The coroutine view of this instance, as Lettuce's `connection.coroutines()`: members that suspend
 * instead of blocking, with the blocking API's names. Cheap; the view shares this instance.
 *
 * @return the coroutine view
 * @since 0.1.0
 */
public fun Redsync.coroutines(): CoroutineRedsync = CoroutineRedsync(this)
