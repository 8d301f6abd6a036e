@file:JvmName("CoroutineDrivers")

package io.redsync.benchmarks

import io.redsync.LockOptions
import io.redsync.Redsync
import io.redsync.RedsyncException
import io.redsync.RetryDelay
import io.redsync.coroutines.awaitLock
import io.redsync.coroutines.awaitRelease
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancel
import kotlinx.coroutines.future.await
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.HdrHistogram.Histogram
import java.lang.management.ManagementFactory
import java.time.Duration
import java.util.concurrent.atomic.AtomicInteger
import java.util.function.Consumer
import java.util.function.LongSupplier

// The coroutines contenders, driven from the Java harness: redsync-coroutines' suspend API
// (Mutex.awaitLock, Lease.awaitRelease) as a Kotlin service would call it.

/**
 * One block of uncontended lock+unlock cycles in one coroutine, on the calling thread (runBlocking), so
 * it is timed exactly like the blocking contenders. Returns the number of failed cycles.
 */
fun latencyBlock(redsync: Redsync, name: String, cycles: Int, latency: Histogram): Long = runBlocking {
    var failures = 0L
    repeat(cycles) {
        val t0 = System.nanoTime()
        try {
            redsync.mutex(name).awaitLock().awaitRelease()
        } catch (e: RedsyncException) {
            failures++
        }
        latency.recordValue(System.nanoTime() - t0)
    }
    failures
}

/**
 * Throughput: one coroutine per name on Dispatchers.Default, each locking and unlocking its own name until
 * the deadline. Returns {ops, failures, elapsed ns}; per-operation latencies go into [latency].
 */
fun throughput(redsync: Redsync, names: List<String>, durationNanos: Long, latency: Histogram): LongArray =
    loops(names, durationNanos, latency) { name ->
        try {
            redsync.mutex(name).awaitLock().awaitRelease()
            true
        } catch (e: RedsyncException) {
            false
        }
    }

/** The floor driven like [throughput]: the same coroutines, awaiting plain Lettuce futures. */
fun floorThroughput(floorCycle: java.util.function.Function<String, java.util.concurrent.CompletableFuture<Boolean>>,
                    names: List<String>, durationNanos: Long, latency: Histogram): LongArray =
    loops(names, durationNanos, latency) { name -> floorCycle.apply(name).await() }

private fun loops(names: List<String>, durationNanos: Long, latency: Histogram, cycle: suspend (String) -> Boolean): LongArray =
    runBlocking(Dispatchers.Default) {
        val start = System.nanoTime()
        val deadline = start + durationNanos
        val perCaller = names.map { name ->
            async {
                val h = BenchSupport.histogram()
                var ops = 0L
                var failures = 0L
                while (System.nanoTime() - deadline < 0) {
                    val t0 = System.nanoTime()
                    if (cycle(name)) ops++ else failures++
                    h.recordValue(System.nanoTime() - t0)
                }
                Triple(ops, failures, h)
            }
        }.awaitAll()
        val elapsed = System.nanoTime() - start
        var ops = 0L
        var failures = 0L
        for ((o, f, h) in perCaller) {
            ops += o
            failures += f
            latency.add(h)
        }
        longArrayOf(ops, failures, elapsed)
    }

/** What [crowd] measured. Bytes and counts are absolute unless named as a difference. */
class CrowdResult(
    @JvmField val waiters: Int,
    @JvmField val batch: Int,
    @JvmField val settleCommands: Long,
    @JvmField val settleMillis: Long,
    @JvmField val settled: Boolean,
    @JvmField val heapBefore: Long,
    @JvmField val heapWaiting: Long,
    @JvmField val heapAfter: Long,
    @JvmField val threadsBefore: Int,
    @JvmField val threadsWaiting: Int,
    @JvmField val threadsAfter: Int,
    @JvmField val dispatcherThreads: Int,
    @JvmField val newThreads: String,
    @JvmField val commandsPerSecondWaiting: Double,
    @JvmField val cancelMillis: Long,
    @JvmField val acquiredWhileHeld: Int,
    @JvmField val stillRunning: Int,
)

/**
 * [waiters] coroutines on Dispatchers.Default all wait for one lock name that another caller holds (3 nodes,
 * release notifications on, a 60 s retry delay: after their first attempt they just wait). Measured while
 * they wait: heap used after GC, live threads, Redis commands per second; then all are cancelled.
 *
 * @param lockCommands SET+EVALSHA+EVAL calls the nodes have served so far (INFO commandstats), to see when every
 *                     waiter has made its first attempt and whether any polls while waiting
 */
fun crowd(redsync: Redsync, name: String, waiters: Int, batch: Int, nodeCount: Int, lockCommands: LongSupplier,
          settleTimeoutMillis: Long, log: Consumer<String>): CrowdResult {
    val threads = ManagementFactory.getThreadMXBean()
    val heapBefore = heapAfterGc()
    val threadsBefore = threads.threadCount
    val namesBefore = liveThreadNames()

    val holder = redsync.mutex(name, LockOptions.builder().expiry(Duration.ofSeconds(120)).build()).lock()
    val waiterOptions = LockOptions.builder()
        .retryDelay(RetryDelay.constant(Duration.ofSeconds(60)))
        .tries(1000)
        .build()
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    val acquired = AtomicInteger()
    val callsBefore = lockCommands.asLong
    val start = System.nanoTime()
    val jobs = ArrayList<kotlinx.coroutines.Job>(waiters)
    // Settled: every waiter launched so far made its first attempt on every node, and the count stopped moving.
    var settled = true
    val giveUp = start + settleTimeoutMillis * 1_000_000
    while (jobs.size < waiters) {
        repeat(minOf(batch, waiters - jobs.size)) {
            jobs += scope.launch {
                val lease = redsync.mutex(name, waiterOptions).awaitLock()
                acquired.incrementAndGet()
                lease.awaitRelease()
            }
        }
        val quiet = awaitQuiet(lockCommands, callsBefore + jobs.size.toLong() * nodeCount, giveUp)
        settled = settled && quiet
    }
    val settleMillis = (System.nanoTime() - start) / 1_000_000
    val settleCalls = lockCommands.asLong - callsBefore
    log.accept("  $waiters waiters (launched $batch at a time) ${if (settled) "settled" else "NOT settled"} after $settleMillis ms " +
            "($settleCalls lock commands for ${waiters.toLong() * nodeCount} first attempts)")

    val quietFrom = lockCommands.asLong
    val quietStart = System.nanoTime()
    Thread.sleep(2000)
    val commandsPerSecond = (lockCommands.asLong - quietFrom) * 1e9 / (System.nanoTime() - quietStart)
    val heapWaiting = heapAfterGc()
    if (java.lang.Boolean.getBoolean("bench.crowd.histogram")) {
        log.accept(classHistogram(30))
    }
    val threadsWaiting = threads.threadCount
    val namesWaiting = liveThreadNames()
    val acquiredWhileHeld = acquired.get()

    val cancelStart = System.nanoTime()
    scope.cancel()
    runBlocking { jobs.joinAll() }
    val cancelMillis = (System.nanoTime() - cancelStart) / 1_000_000
    val stillRunning = jobs.count { it.isActive }
    holder.release()
    Thread.sleep(500)
    val heapAfter = heapAfterGc()
    val threadsAfter = threads.threadCount

    return CrowdResult(waiters, batch, settleCalls, settleMillis, settled, heapBefore, heapWaiting, heapAfter, threadsBefore, threadsWaiting,
        threadsAfter, Runtime.getRuntime().availableProcessors().coerceAtLeast(2), difference(namesBefore, namesWaiting),
        commandsPerSecond, cancelMillis, acquiredWhileHeld, stillRunning)
}

/** Waits until the lock-command count reached [expected] and then stayed put for half a second. */
private fun awaitQuiet(lockCommands: LongSupplier, expected: Long, giveUp: Long): Boolean {
    var last = -1L
    var stableSince = System.nanoTime()
    while (System.nanoTime() - giveUp < 0) {
        val now = lockCommands.asLong
        if (now >= expected && now == last) {
            if (System.nanoTime() - stableSince > 500_000_000) {
                return true
            }
        } else {
            stableSince = System.nanoTime()
        }
        last = now
        Thread.sleep(100)
    }
    return false
}

private fun heapAfterGc(): Long {
    val memory = ManagementFactory.getMemoryMXBean()
    repeat(3) {
        System.gc()
        Thread.sleep(150)
    }
    return memory.heapMemoryUsage.used
}

/** Live threads by name, numbers stripped: "lettuce-nioEventLoop" -> 2. */
private fun liveThreadNames(): Map<String, Int> =
    Thread.getAllStackTraces().keys.groupingBy { it.name.replace(Regex("[-#_ ]?\\d+$"), "") }.eachCount()

private fun difference(before: Map<String, Int>, after: Map<String, Int>): String {
    val grown = after.mapNotNull { (name, n) ->
        val d = n - (before[name] ?: 0)
        if (d > 0) "$name +$d" else null
    }
    return if (grown.isEmpty()) "none" else grown.joinToString(", ")
}

/** The top of a live-object class histogram (what jmap -histo:live shows), via the DiagnosticCommand MBean. */
private fun classHistogram(lines: Int): String {
    val server = ManagementFactory.getPlatformMBeanServer()
    val name = javax.management.ObjectName("com.sun.management:type=DiagnosticCommand")
    val text = server.invoke(name, "gcClassHistogram", arrayOf<Any>(arrayOf<String>()), arrayOf(Array<String>::class.java.name)) as String
    return text.lines().take(lines + 3).joinToString("\n")
}
