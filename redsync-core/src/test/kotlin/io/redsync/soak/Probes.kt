package io.redsync.soak

import io.redsync.testkit.RedisNode
import io.redsync.testkit.RedisNodes
import java.lang.management.ManagementFactory

/**
 * The resources a soak watches, read from this JVM and from the nodes. Each reading is a plain number so
 * that a report can print it and a test can compare it.
 */
object Probes {
    private val memory = ManagementFactory.getMemoryMXBean()
    private val threadBean = ManagementFactory.getThreadMXBean()

    /**
     * Heap in use after full collections: the lowest of three `System.gc()`-then-read rounds. One
     * collection can leave objects whose finalisation or reference processing frees them only in the
     * next one; the minimum of several rounds is stable to well under a megabyte on an idle JVM.
     */
    fun heapAfterGc(): Long {
        var lowest = Long.MAX_VALUE
        repeat(3) {
            System.gc()
            lowest = minOf(lowest, memory.heapMemoryUsage.used)
        }
        return lowest
    }

    /** Live threads in this JVM (ThreadMXBean). */
    fun liveThreads(): Int = threadBean.threadCount

    /** Highest live thread count since the last [resetPeakThreads]. */
    fun peakThreads(): Int = threadBean.peakThreadCount

    fun resetPeakThreads() = threadBean.resetPeakThreadCount()

    /** The library's threads and Lettuce's, by family; daemon-ness matters for shared idle threads. */
    fun libraryThreads(): Map<String, ThreadFamily> =
        Thread.getAllStackTraces().keys.filter { it.isAlive }.mapNotNull { t -> family(t.name)?.let { it to t } }
            .groupBy({ it.first }, { it.second })
            .mapValues { (_, threads) -> ThreadFamily(threads.size, threads.count { !it.isDaemon }) }

    private fun family(name: String): String? = when {
        name.startsWith("redsync-worker") -> "redsync-worker"
        name.startsWith("redsync-timer") -> "redsync-timer"
        name.startsWith("lettuce-") -> "lettuce"
        else -> null
    }

    /**
     * Clients connected to the node, not counting the probes' own. `RedisNode.call` opens a connection per
     * call: this one is subtracted, and the previous probe's, closed just before, may not be freed by the
     * server yet when this one is answered; such a straggler only ever adds, so the lower of two readings
     * is taken.
     */
    fun clients(node: RedisNode): Int = minOf(connectedClients(node), connectedClients(node)) - 1

    private fun connectedClients(node: RedisNode): Int {
        val info = node.call("INFO", "clients") as String
        return info.lines().first { it.startsWith("connected_clients:") }.substringAfter(':').trim().toInt()
    }

    fun keys(node: RedisNode): Long = node.call("DBSIZE") as Long

    fun clientsByNode(nodes: RedisNodes): List<Int> = nodes.nodes().map(::clients)

    fun keysByNode(nodes: RedisNodes): List<Long> = nodes.nodes().map(::keys)
}

/** Threads of one family: how many, and how many of them would keep the JVM alive. */
data class ThreadFamily(val count: Int, val nonDaemon: Int) {
    override fun toString() = if (nonDaemon == 0) "$count" else "$count ($nonDaemon non-daemon)"
}

/** One reading of everything the soak watches, after [cycles] cycles. */
data class Snapshot(
    val label: String,
    val cycles: Long,
    val elapsedSeconds: Double,
    /** Cycles per second since the previous snapshot of the run. */
    val opsPerSecond: Double,
    val heapBytes: Long,
    val threads: Int,
    val library: Map<String, ThreadFamily>,
    val clients: List<Int>,
    val keys: List<Long>,
) {
    val heapMb: Double get() = heapBytes / (1024.0 * 1024.0)

    fun familyCount(name: String): Int = library[name]?.count ?: 0

    override fun toString(): String = String.format(
        java.util.Locale.ROOT,
        "%-9s cycles=%,9d  t=%7.1fs  ops/s=%,8.0f  heapAfterGC=%6.1f MB  threads=%3d %s  clients/node=%s  keys/node=%s",
        label, cycles, elapsedSeconds, opsPerSecond, heapMb, threads, library.toSortedMap(), clients, keys,
    )

    companion object {
        /** Reads everything now; [previous] gives the interval for ops/s. */
        fun take(label: String, nodes: RedisNodes, cycles: Long, startNanos: Long, previous: Snapshot?): Snapshot {
            val elapsed = (System.nanoTime() - startNanos) / 1e9
            val rate = if (previous == null || elapsed <= previous.elapsedSeconds) 0.0
            else (cycles - previous.cycles) / (elapsed - previous.elapsedSeconds)
            val heap = Probes.heapAfterGc()
            return Snapshot(
                label, cycles, elapsed, rate, heap, Probes.liveThreads(), Probes.libraryThreads(),
                Probes.clientsByNode(nodes), Probes.keysByNode(nodes),
            )
        }
    }
}
