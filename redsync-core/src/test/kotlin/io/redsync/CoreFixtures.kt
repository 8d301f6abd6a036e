package io.redsync

import io.redsync.testkit.RedisNode
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.ms
import java.time.Duration

// redsync-core's own fixtures; those of every module (nodesPerSpec, heal, awaitUntil, ms, keysByNode, the API
// dump) are in redsync-testkit's io.redsync.testkit.fixtures.

/** A builder of options that retry quickly, so contention tests finish in seconds instead of minutes. */
fun fastRetryBuilder(): LockOptions.Builder =
    LockOptions.builder().retryDelay(RetryDelay.uniform(ms(1), ms(5))).tries(Int.MAX_VALUE).acquireTimeout(Duration.ofSeconds(60))

fun RedisNodes.redsync(
    count: Int = size(),
    prefix: String = "",
    defaults: LockOptions = LockOptions.defaults(),
): Redsync = Redsync.builder().uris(uris().take(count)).keyPrefix(prefix).defaults(defaults).build()

fun RedisNodes.nodesHolding(key: String): List<Int> = keysByNode().withIndex().filter { key in it.value }.map { it.index }

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
