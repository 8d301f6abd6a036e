@file:JvmName("LockOptionsDsl")

package io.redsync.coroutines

import io.redsync.KeepAlive
import io.redsync.LockOptions
import io.redsync.RetryDelay
import java.util.function.Supplier
import kotlin.contracts.ExperimentalContracts
import kotlin.contracts.InvocationKind
import kotlin.contracts.contract
import kotlin.time.Duration
import kotlin.time.toJavaDuration
import kotlin.time.toKotlinDuration

/**
 * Marks redsync's configuration DSLs, so that an inner block (`keepAlive { }` inside `lockOptions { }`,
 * `defaults { }` inside `Redsync { }`) cannot set the outer block's properties by accident.
 *
 * @since 0.1.0
 */
@DslMarker
@Target(AnnotationTarget.CLASS)
public annotation class RedsyncDsl

/**
 * Builds [LockOptions] the Kotlin way, with [kotlin.time.Duration]s:
 *
 * ```
 * val options = lockOptions {
 *     expiry = 10.seconds
 *     tries = 5
 *     retryDelay { failedAttempts -> (10 * failedAttempts).milliseconds }
 *     keepAlive { interval = 2.seconds }
 * }
 * ```
 *
 * The values go to [LockOptions.builder]; validation happens once, in its `build()`, which runs when
 * [configure] returns.
 *
 * @param configure sets the values that differ from the defaults
 * @return the options
 * @throws IllegalArgumentException naming the field, the value and the allowed range, as
 *         [LockOptions.Builder.build] does
 * @since 0.1.0
 */
@OptIn(ExperimentalContracts::class)
public fun lockOptions(configure: LockOptionsBuilder.() -> Unit): LockOptions {
    contract { callsInPlace(configure, InvocationKind.EXACTLY_ONCE) }
    return LockOptionsBuilder(LockOptions.defaults()).apply(configure).build()
}

/**
 * A variant of these options: starts from their values ([LockOptions.toBuilder]) and applies [configure].
 *
 * ```
 * val patient = redsync.defaults().copy { acquireTimeout = 1.minutes; tries = Int.MAX_VALUE }
 * ```
 *
 * @param configure sets the values that differ
 * @return the new options; these are unchanged
 * @throws IllegalArgumentException as [lockOptions]
 * @since 0.1.0
 */
@OptIn(ExperimentalContracts::class)
public fun LockOptions.copy(configure: LockOptionsBuilder.() -> Unit): LockOptions {
    contract { callsInPlace(configure, InvocationKind.EXACTLY_ONCE) }
    return LockOptionsBuilder(this).apply(configure).build()
}

/**
 * The receiver of [lockOptions] and [copy]. Each property reads as the value the options will have
 * (starting from the defaults or from the options copied) and writes through to a
 * [LockOptions.Builder]; see [LockOptions] for the meaning and range of each.
 *
 * @since 0.1.0
 */
@RedsyncDsl
public class LockOptionsBuilder internal constructor(base: LockOptions) {
    private val builder: LockOptions.Builder = base.toBuilder()

    /**
     * The lock keys' TTL: positive, whole milliseconds (default 8 s).
     *
     * @since 0.1.0
     */
    public var expiry: Duration = base.expiry().toKotlinDuration()
        set(newValue) {
            builder.expiry(newValue.toJavaDuration())
            field = newValue
        }

    /**
     * Tries per lock call, one due every [retryDelay], at least 1 (default 32); [Int.MAX_VALUE] with an
     * [acquireTimeout] waits. A waiter subscribed to release announcements does not send a try due while the
     * lock is known held (its last try is always sent); see [LockOptions.tries].
     *
     * @since 0.1.0
     */
    public var tries: Int = base.tries()
        set(newValue) {
            builder.tries(newValue)
            field = newValue
        }

    /**
     * The wait between tries (default uniform in [50, 250) ms), e.g. `RetryDelay.uniform(...)`; see
     * [LockOptions.retryDelay].
     *
     * @since 0.1.0
     */
    public var retryDelay: RetryDelay = base.retryDelay()
        set(newValue) {
            builder.retryDelay(newValue)
            field = newValue
        }

    /**
     * Sets the wait between attempts as a function of how many attempts have failed so far (1 before the
     * second attempt): `retryDelay { failedAttempts -> (10 * failedAttempts).milliseconds }`.
     *
     * @param delay returns a non-negative wait; a negative one fails the lock call
     * @since 0.1.0
     */
    public fun retryDelay(delay: (failedAttempts: Int) -> Duration) {
        retryDelay = RetryDelay { failedAttempts -> delay(failedAttempts).toJavaDuration() }
    }

    /**
     * Clock drift allowance as a fraction of the expiry, in (0, 1) (default 0.01).
     *
     * @since 0.1.0
     */
    public var driftFactor: Double = base.driftFactor()
        set(newValue) {
            builder.driftFactor(newValue)
            field = newValue
        }

    /**
     * The derived node timeout's fraction of the expiry, in (0, 1) (default 0.05).
     *
     * @since 0.1.0
     */
    public var timeoutFactor: Double = base.timeoutFactor()
        set(newValue) {
            builder.timeoutFactor(newValue)
            field = newValue
        }

    /**
     * The longest wait for one node's answer. Reads as the options' current node timeout (derived from
     * [expiry] × [timeoutFactor] unless set); setting it makes it explicit: positive, shorter than [expiry].
     *
     * @since 0.1.0
     */
    public var nodeTimeout: Duration = base.nodeTimeout().toKotlinDuration()
        set(newValue) {
            builder.nodeTimeout(newValue.toJavaDuration())
            field = newValue
        }

    /**
     * The total budget of one lock call, positive; `null` (the default) for none.
     *
     * @since 0.1.0
     */
    public var acquireTimeout: Duration? = base.acquireTimeout().orElse(null)?.toKotlinDuration()
        set(newValue) {
            builder.acquireTimeout(newValue?.toJavaDuration())
            field = newValue
        }

    /**
     * The source of owner tokens; each call must return a unique non-blank value (default: 16
     * SecureRandom bytes, base64).
     *
     * @since 0.1.0
     */
    public var valueGenerator: () -> String = base.valueGenerator().let { supplier -> { supplier.get() } }
        set(newValue) {
            builder.valueGenerator(Supplier { newValue() })
            field = newValue
        }

    /**
     * A preset owner token for ownership transfer (see [LockOptions.value]), non-blank; `null` (the
     * default) generates one per lock call.
     *
     * @since 0.1.0
     */
    public var value: String? = base.value().orElse(null)
        set(newValue) {
            builder.value(newValue)
            field = newValue
        }

    /**
     * Decide as soon as a quorum agrees for or against (default false).
     *
     * @since 0.1.0
     */
    public var failFast: Boolean = base.failFast()
        set(newValue) {
            builder.failFast(newValue)
            field = newValue
        }

    /**
     * Ask the nodes in a random order per mutex (default false).
     *
     * @since 0.1.0
     */
    public var shufflePools: Boolean = base.shufflePools()
        set(newValue) {
            builder.shufflePools(newValue)
            field = newValue
        }

    /**
     * Extensions re-create missing keys; weaker, see [LockOptions.setNXOnExtend] (default false).
     *
     * @since 0.1.0
     */
    public var setNXOnExtend: Boolean = base.setNXOnExtend()
        set(newValue) {
            builder.setNXOnExtend(newValue)
            field = newValue
        }

    /**
     * Waiting calls wake when the holder releases instead of polling, and send nothing while the lock is known
     * held (default true); see [LockOptions.releaseNotifications].
     *
     * @since 0.1.0
     */
    public var releaseNotifications: Boolean = base.releaseNotifications()
        set(newValue) {
            builder.releaseNotifications(newValue)
            field = newValue
        }

    /**
     * Each lease carries a strictly increasing fencing token (default false); see [LockOptions.fencing]
     * and [io.redsync.Lease.fencingToken].
     *
     * @since 0.1.0
     */
    public var fencing: Boolean = base.fencing()
        set(newValue) {
            builder.fencing(newValue)
            field = newValue
        }

    /**
     * How `withLock` and `executeLocked` keep leases alive (default [KeepAlive.defaults]). For the common
     * cases use `keepAlive = false` or `keepAlive { ... }`.
     *
     * @since 0.1.0
     */
    public var keepAlivePolicy: KeepAlive = base.keepAlive()
        set(newValue) {
            builder.keepAlive(newValue)
            field = newValue
        }

    /**
     * Whether leases are kept alive: `false` sets [KeepAlive.disabled]; `true` sets [KeepAlive.defaults]
     * unless a policy is already enabled.
     *
     * @since 0.1.0
     */
    public var keepAlive: Boolean
        get() = keepAlivePolicy.enabled()
        set(enabled) {
            if (!enabled) {
                keepAlivePolicy = KeepAlive.disabled()
            } else if (!keepAlivePolicy.enabled()) {
                keepAlivePolicy = KeepAlive.defaults()
            }
        }

    /**
     * Enables keeping and configures it, starting from the current policy when enabled, else from
     * [KeepAlive.defaults]: `keepAlive { interval = 2.seconds; lostMargin = 1.seconds }`.
     *
     * @param configure sets the values that differ
     * @throws IllegalArgumentException as [KeepAlive.Builder]'s setters, naming the field and value; rules
     *         against the [expiry] are checked when the options are built
     * @since 0.1.0
     */
    @OptIn(ExperimentalContracts::class)
    public fun keepAlive(configure: KeepAliveBuilder.() -> Unit) {
        contract { callsInPlace(configure, InvocationKind.EXACTLY_ONCE) }
        val start = if (keepAlivePolicy.enabled()) keepAlivePolicy else KeepAlive.defaults()
        keepAlivePolicy = KeepAliveBuilder(start).apply(configure).build()
    }

    internal fun build(): LockOptions = builder.build()
}

/**
 * The receiver of [LockOptionsBuilder.keepAlive]; see [KeepAlive] for the meaning of each value. `null`
 * means the default (derived from the expiry, or no cap).
 *
 * @since 0.1.0
 */
@RedsyncDsl
public class KeepAliveBuilder internal constructor(base: KeepAlive) {
    /**
     * Time between extensions, positive, shorter than the expiry; `null`: a third of the expiry.
     *
     * @since 0.1.0
     */
    public var interval: Duration? = base.interval().orElse(null)?.toKotlinDuration()

    /**
     * How long before the validity deadline a lease not extended counts as lost, positive; `null`: a tenth
     * of the expiry. Make it longer than the guarded work needs to notice cancellation and stop.
     *
     * @since 0.1.0
     */
    public var lostMargin: Duration? = base.lostMargin().orElse(null)?.toKotlinDuration()

    /**
     * The longest time a lease is kept alive, positive; `null`: no limit.
     *
     * @since 0.1.0
     */
    public var maxDuration: Duration? = base.maxDuration().orElse(null)?.toKotlinDuration()

    /**
     * The most extensions made, at least 1; `null`: no limit.
     *
     * @since 0.1.0
     */
    public var maxExtensions: Int? = base.maxExtensions().let { if (it.isPresent) it.asInt else null }

    // Built from scratch rather than written through, so that a cap can be removed again with null.
    internal fun build(): KeepAlive {
        val builder = KeepAlive.builder()
        interval?.let { builder.interval(it.toJavaDuration()) }
        lostMargin?.let { builder.lostMargin(it.toJavaDuration()) }
        maxDuration?.let { builder.maxDuration(it.toJavaDuration()) }
        maxExtensions?.let { builder.maxExtensions(it) }
        return builder.build()
    }
}
