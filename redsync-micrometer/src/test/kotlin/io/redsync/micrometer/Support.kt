package io.redsync.micrometer

import io.micrometer.core.instrument.MeterRegistry
import io.micrometer.core.instrument.search.Search
import io.redsync.LockOptions
import io.redsync.Redsync
import io.redsync.RedsyncListener
import io.redsync.testkit.RedisNodes
import kotlinx.coroutines.delay
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource

fun RedisNodes.redsync(vararg listeners: RedsyncListener): Redsync =
    Redsync.builder().uris(uris()).apply { listeners.forEach { listener(it) } }.build()

/** Options that retry quickly, so a waiter makes several attempts within a test. */
fun fastRetry(): LockOptions = LockOptions.builder()
    .retryDelay(io.redsync.RetryDelay.uniform(java.time.Duration.ofMillis(1), java.time.Duration.ofMillis(5)))
    .tries(Int.MAX_VALUE).acquireTimeout(java.time.Duration.ofSeconds(60)).build()

/** The count of the timer [name] with [tags], 0 when absent. */
fun MeterRegistry.timerCount(name: String, vararg tags: String): Long =
    Search.`in`(this).name(name).tags(*tags).timers().sumOf { it.count() }

fun MeterRegistry.counterValue(name: String, vararg tags: String): Double =
    Search.`in`(this).name(name).tags(*tags).counters().sumOf { it.count() }

fun MeterRegistry.gaugeValue(name: String): Double = get(name).gauge().value()

/** Polls [condition] until it holds or 10 s pass. Never a fixed sleep. */
suspend fun awaitUntil(message: String, condition: () -> Boolean) {
    val start = TimeSource.Monotonic.markNow()
    while (!condition()) {
        if (start.elapsedNow() > 10.seconds) throw AssertionError("not within 10 s: $message")
        delay(5)
    }
}
