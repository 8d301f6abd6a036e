@file:JvmName("RedsyncLeadership")

package io.redsync.coroutines

import io.redsync.KeepAlive
import io.redsync.LeaseLostException
import io.redsync.LockOptions
import io.redsync.Redsync
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import java.util.concurrent.atomic.AtomicReference

/**
 * What [CoroutineRedsync.lead] reports to its `onEvent` callback.
 *
 * @since 0.1.0
 */
public sealed interface LeadershipEvent {
    /**
     * The lease of this term of leadership.
     *
     * @since 0.1.0
     */
    public val lease: CoroutineLease

    /**
     * This caller became leader: the lease is held and kept alive, and the block is about to run.
     *
     * @since 0.1.0
     */
    public class Elected internal constructor(override val lease: CoroutineLease) : LeadershipEvent {
        override fun toString(): String = "Elected(${lease.name}, token ${lease.fencingToken})"
    }

    /**
     * This caller is no longer leader: the block has finished and the release was attempted.
     *
     * @property cause `null` when it stepped down (the block returned, or the caller was cancelled); the
     *           [LeaseLostException] when leadership was lost; otherwise what the block threw, or what the
     *           release reported after the block returned (e.g. [io.redsync.LeaseExpiredException])
     * @since 0.1.0
     */
    public class Revoked internal constructor(
        override val lease: CoroutineLease,
        public val cause: Throwable?,
    ) : LeadershipEvent {
        override fun toString(): String = "Revoked(${lease.name}, ${cause?.toString() ?: "stepped down"})"
    }
}

/** [CoroutineRedsync.lead]'s loop: one term of leadership per iteration, until cancelled or [block] fails. */
internal suspend fun leadLoop(
    redsync: Redsync,
    name: String,
    options: LockOptions,
    onEvent: (LeadershipEvent) -> Unit,
    block: suspend CoroutineScope.(lease: CoroutineLease) -> Unit,
): Nothing {
    require(!options.value().isPresent) {
        "leadership options must not preset a value (owner token): each term of leadership needs a fresh one; " +
            "remove value from the options"
    }
    // The same rules as Java's Leadership: wait as long as it takes, and always keep the lease alive.
    val candidate = options.copy {
        tries = Int.MAX_VALUE
        acquireTimeout = null
        if (!keepAlive) keepAlivePolicy = KeepAlive.defaults()
    }
    while (true) {
        // A mutex per term: on an instance closed under us this throws at once, ending the loop.
        val lease = CoroutineMutex(redsync.mutex(name, candidate)).lock()
        var returned = false
        // The loss, however the term ended: a block that saw it first (checkValid) and returned still lost
        // its leadership, and the release then fails for that reason.
        val loss = AtomicReference<LeaseLostException?>() // set on a library thread
        lease.onLost { loss.set(it) }
        val outcome: Throwable? = try {
            lease.asJava().holding(candidate.keepAlive()) {
                onEvent(LeadershipEvent.Elected(lease))
                block(lease)
                returned = true
            }
            null
        } catch (e: LeaseLostException) {
            if (e.lockName() != name && !returned) {
                onEvent(LeadershipEvent.Revoked(lease, e))
                throw e // another lock's loss inside the block: the block's failure
            }
            e
        } catch (e: CancellationException) {
            onEvent(LeadershipEvent.Revoked(lease, null))
            throw e
        } catch (e: Throwable) {
            if (!returned) {
                onEvent(LeadershipEvent.Revoked(lease, e))
                throw e
            }
            e // the release after stepping down found the lease gone: this term ended badly, not the leadership
        }
        onEvent(LeadershipEvent.Revoked(lease, loss.get() ?: outcome))
    }
}
