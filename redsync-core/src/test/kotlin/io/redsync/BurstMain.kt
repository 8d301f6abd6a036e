package io.redsync

import io.redsync.testkit.runChildJvm
import java.lang.management.ManagementFactory
import java.lang.management.MemoryType
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/**
 * The child JVM of [BurstSpec]: `calls` simultaneous lock calls with the default options on `names` names, each
 * releasing at once when granted, in a heap of 256 MB. Prints one summary line: how many were granted, ended
 * "taken", or ended otherwise (with the first such error), and the heap's peak.
 */
object BurstMain {
    @JvmStatic
    fun main(args: Array<String>) {
        val calls = args[0].toInt()
        val names = args[1].toInt()
        val uris = args[2].split(",")
        val granted = AtomicInteger()
        val taken = AtomicInteger()
        val other = AtomicInteger()
        var firstOther: Throwable? = null
        Redsync.builder().uris(uris).build().use { redsync ->
            redsync.mutex("warm-up").lock().close()
            val all = (0 until calls).map { i ->
                redsync.lockAsync("burst-${i % names}").thenCompose { it.releaseAsync() }.handle { _, e ->
                    val cause = (e as? java.util.concurrent.CompletionException)?.cause ?: e
                    when (cause) {
                        null -> granted.incrementAndGet()
                        is LockTakenException -> taken.incrementAndGet()
                        else -> { other.incrementAndGet(); if (firstOther == null) firstOther = cause }
                    }
                }
            }
            try {
                CompletableFuture.allOf(*all.toTypedArray()).get(5, TimeUnit.MINUTES)
            } catch (e: ExecutionException) {
                firstOther = e.cause
            }
            // The shared timer still runs: a timed lock call after the burst completes.
            redsync.mutex("after-burst").lock().close()
        }
        val peak = ManagementFactory.getMemoryPoolMXBeans().filter { it.type == MemoryType.HEAP }.sumOf { it.peakUsage.used }
        println("burst: granted=$granted taken=$taken other=$other firstOther=$firstOther heapPeakMB=${peak / (1 shl 20)}")
    }

    fun runChild(calls: Int, names: Int, uris: List<String>): String {
        val child = runChildJvm(BurstMain::class.java.name, listOf(calls.toString(), names.toString(), uris.joinToString(",")),
            timeoutSeconds = 600, jvmArgs = listOf("-Xmx256m", "-XX:+ExitOnOutOfMemoryError"))
        check(child.exitCode == 0) { "child JVM exited with ${child.exitCode}: ${child.toString().takeLast(3000)}" }
        return child.stdout
    }
}
