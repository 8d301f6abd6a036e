package io.redsync

import io.redsync.testkit.RedisNode
import io.redsync.testkit.RedisNodes
import kotlinx.coroutines.delay
import java.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource

fun ms(n: Long): Duration = Duration.ofMillis(n)

/** Options that retry quickly, so contention tests finish in seconds instead of minutes. */
fun fastRetry(): LockOptions.Builder =
    LockOptions.builder().retryDelay(RetryDelay.uniform(ms(1), ms(5))).tries(Int.MAX_VALUE).acquireTimeout(Duration.ofSeconds(60))

fun RedisNodes.redsync(
    count: Int = size(),
    prefix: String = "",
    defaults: LockOptions = LockOptions.defaults(),
): Redsync = Redsync.builder().uris(uris().take(count)).keyPrefix(prefix).defaults(defaults).build()

/** Every running node's keys, by node index (a stopped node reports none). */
fun RedisNodes.keysByNode(): List<Set<String>> = nodes().map { if (it.isRunning && !it.isPaused) it.keys() else emptySet() }

fun RedisNodes.nodesHolding(key: String): List<Int> = keysByNode().withIndex().filter { key in it.value }.map { it.index }

/** Restarts every node that is not running and resumes paused ones, then empties them all. */
fun RedisNodes.heal() {
    nodes().forEach {
        if (it.isPaused) it.resume()
        if (!it.isRunning) it.restart()
    }
    flushAll()
    nodes().forEach { it.call("CONFIG", "RESETSTAT") }
}

/** How many times the node has run one of our scripts (EVALSHA plus EVAL fallbacks) since the last RESETSTAT. */
fun RedisNode.scriptCalls(): Long = commandCalls("evalsha", "eval")

/**
 * How many lock commands the node has run since the last RESETSTAT: first attempts are a plain SET NX,
 * retries, releases and extensions are scripts.
 */
fun RedisNode.lockCommands(): Long = commandCalls("set", "evalsha", "eval")

fun RedisNode.commandCalls(vararg commands: String): Long {
    val stats = call("INFO", "commandstats") as String
    return stats.lines()
        .filter { line -> commands.any { line.startsWith("cmdstat_$it:") } }
        .sumOf { Regex("calls=(\\d+)").find(it)!!.groupValues[1].toLong() }
}

/** Polls [condition] until it holds or [timeout] passes; then fails with [message]. Never a fixed sleep. */
suspend fun awaitUntil(message: String, timeout: kotlin.time.Duration = 10.seconds, condition: () -> Boolean) {
    val start = TimeSource.Monotonic.markNow()
    while (!condition()) {
        if (start.elapsedNow() > timeout) throw AssertionError("not within $timeout: $message")
        delay(5)
    }
}

/**
 * Watches [lease] on a daemon thread and returns the end of validity it last reported while valid. A lost
 * lease reports no validity, so a spec asking whether a loss came before the deadline compares the moment
 * of the loss with this.
 */
fun validUntilBeforeLoss(lease: Lease): () -> java.time.Instant {
    val last = java.util.concurrent.atomic.AtomicReference(lease.until())
    Thread {
        while (lease.isValid) {
            val until = lease.until()
            if (lease.isValid) last.set(until) else break // read while valid: the deadline, not the loss
            Thread.sleep(1)
        }
    }.apply { isDaemon = true }.start()
    return { last.get() }
}
