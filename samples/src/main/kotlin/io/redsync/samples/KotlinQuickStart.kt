package io.redsync.samples

// region README kotlin-quick-start
import io.redsync.coroutines.CoroutineRedsync
import kotlinx.coroutines.withTimeout
import kotlin.time.Duration.Companion.seconds
// endregion
import kotlinx.coroutines.runBlocking

/**
 * The README's Kotlin quick start ([kotlinQuickStart], shown there verbatim), run against local nodes.
 *
 * `mvn -q -pl samples -am test-compile exec:java -Dexec.mainClass=io.redsync.samples.KotlinQuickStartKt`
 */
fun main() {
    LocalNodes.fromEnvironmentOrStart(3).use { nodes -> runBlocking { println(kotlinQuickStart(nodes.uris())) } }
}

/** Stands for the application's own work in the quick start. */
internal fun charge(invoice: Int, fencingToken: Long): String = "invoice $invoice charged with fencing token $fencingToken"

internal fun render(): String = "report rendered"

// region README kotlin-quick-start
// nodes: one URI per independent Redis master, e.g. listOf("redis://10.0.0.1", "redis://10.0.0.2", "redis://10.0.0.3")
// charge(...) and render() stand for your own work.
suspend fun kotlinQuickStart(nodes: List<String>): String {
    val redsync = CoroutineRedsync(nodes) {
        keyPrefix = "billing:"
        defaults { expiry = 10.seconds; fencing = true }
    }
    redsync.use {
        // Every member suspends (no thread blocked); cancelling the caller cancels the wait and releases partial
        // holds. The lease is kept alive while the block runs; if it is lost, the block is cancelled and withLock
        // throws LeaseLostException (not a CancellationException that would vanish in a launch).
        val receipt = redsync.withLock("invoice:42") { lease ->
            charge(42, fencingToken = lease.fencingToken!!)
        }

        // Per-call options start from the instance's defaults (10 s, fencing): wait at most 2 s, however many attempts.
        withTimeout(2.seconds) { redsync.withLock("report", redsync.options { tries = Int.MAX_VALUE }) { render() } }

        val lease = redsync.tryLock("job")      // null when another owner holds it
        lease?.use { render() }                 // released on every exit path, suspending, never blocking a thread
        return receipt
    }
}
// endregion
