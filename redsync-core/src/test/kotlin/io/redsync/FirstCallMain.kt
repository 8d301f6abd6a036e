package io.redsync

import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.redsync.testkit.runChildJvm
import java.time.Duration
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess

/**
 * A child JVM for [FirstCallSpec]: builds [count] fresh instances one after another, each over one node (taking
 * the given nodes in turn, so a refused first command on that node fails the call), and makes each one's first
 * call at once after `build()`: a one-try `tryLock`, then its release. Prints one line per unexpected outcome and a
 * final `first-call failures: N of M`.
 *
 * Arguments: mode, count, node URIs (comma-separated), busy threads. Modes: `uris` (nodes given as URIs), `client`
 * (as the child's own [RedisClient] plus a [RedisURI.create]d URI, the `node(client, uri)` path, whose credentials
 * provider Lettuce 7 resolves off the event loop), `wrongpass` (URIs whose password the server refuses: every call
 * must fail with [NodeException.Reason.AUTHENTICATION]). The parent runs it with the common pool's parallelism at 1,
 * as on a 2-core machine, where Lettuce's handshake continues on a new thread per step and races the connection's
 * activation, and with busy threads loading the CPU as a shared CI machine does.
 */
object FirstCallMain {
    @JvmStatic
    fun main(args: Array<String>) {
        require(args.size == 4) { "usage: uris|client|wrongpass count uri,uri,... busyThreads" }
        val mode = args[0]
        val count = args[1].toInt()
        val uris = args[2].split(',')
        repeat(args[3].toInt()) { Thread { while (true) Thread.onSpinWait() }.apply { isDaemon = true; start() } }
        val client = if (mode == "client") RedisClient.create() else null
        // Generous bounds: only a refused or lost first command fails here, never a slow one.
        val options = LockOptions.builder().tries(1).expiry(Duration.ofSeconds(30)).nodeTimeout(Duration.ofSeconds(5)).build()
        var failures = 0
        for (i in 0 until count) {
            val uri = uris[i % uris.size]
            val builder = Redsync.builder().defaults(options)
            if (client != null) builder.node(client, RedisURI.create(uri)) else builder.uri(uri)
            builder.build().use { redsync ->
                val outcome = runCatching { redsync.mutex("first-call-$i").tryLock().orElseThrow { IllegalStateException("busy") }.release() }
                val error = outcome.exceptionOrNull()
                val expected = if (mode == "wrongpass") {
                    (error as? LockAcquisitionException)?.votes()?.errors()?.singleOrNull()?.reason() == NodeException.Reason.AUTHENTICATION
                } else {
                    error == null
                }
                if (!expected) {
                    failures++
                    println("instance $i: ${error?.message?.lines()?.first() ?: "acquired"}")
                }
            }
        }
        client?.shutdown()
        println("first-call failures: $failures of $count")
        exitProcess(0)
    }

    /** Runs this main in a child JVM with the common pool's parallelism at 1; returns its output. */
    fun runChild(mode: String, count: Int, uris: List<String>, busyThreads: Int = 3): String {
        val child = runChildJvm(FirstCallMain::class.java.name, listOf(mode, count.toString(), uris.joinToString(","), busyThreads.toString()),
            timeoutSeconds = 600, jvmArgs = listOf("-Xmx256m", "-Djava.util.concurrent.ForkJoinPool.common.parallelism=1"))
        check(child.exitCode == 0) { "child JVM exited with ${child.exitCode}: ${child.toString().takeLast(3000)}" }
        return child.stdout
    }
}
