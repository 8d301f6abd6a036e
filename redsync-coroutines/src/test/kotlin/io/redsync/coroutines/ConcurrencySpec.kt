package io.redsync.coroutines

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.ints.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.redsync.testkit.RedisNodes
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import kotlinx.coroutines.yield
import kotlin.time.Duration.Companion.seconds
import java.lang.management.ManagementFactory
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicInteger

/** One critical section as its holder saw it, on this JVM's monotonic clock. */
data class Section(val client: Int, val enteredNanos: Long, val exitedNanos: Long)

class ConcurrencySpec : FunSpec({
    val cluster = clusterPerSpec()
    val nodes = cluster.nodes

    test("64 coroutines contending on ONE lock over 3 nodes: no two critical sections overlap, the unguarded counter is exact") {
        val coroutines = 64
        val rounds = 3
        // One Redsync per 8 coroutines, as if they were separate processes sharing the nodes.
        val instances = (0 until 8).map { cluster.redsync(fastRetryOptions()) }
        val sections = ConcurrentLinkedQueue<Section>()
        val inside = AtomicInteger()
        val violations = AtomicInteger()
        var counter = 0 // deliberately unsynchronised: only the lock protects it
        try {
            withContext(Dispatchers.Default) {
                repeat(coroutines) { id ->
                    launch {
                        repeat(rounds) {
                            instances[id % instances.size].withLock("contended") {
                                val entered = System.nanoTime()
                                if (inside.incrementAndGet() != 1) violations.incrementAndGet()
                                val read = counter
                                yield() // widen the window a broken lock would expose
                                counter = read + 1
                                if (inside.decrementAndGet() != 0) violations.incrementAndGet()
                                sections.add(Section(id, entered, System.nanoTime()))
                            }
                        }
                    }
                }
            }
        } finally {
            instances.forEach { it.close() }
        }
        violations.get() shouldBe 0
        sections.size shouldBe coroutines * rounds
        counter shouldBe coroutines * rounds
        sections.sortedBy { it.enteredNanos }.zipWithNext().forEach { (a, b) ->
            if (b.enteredNanos <= a.exitedNanos) throw AssertionError("critical sections overlap: $a and $b")
        }
        sections.map { it.client }.toSet().size shouldBe coroutines
        cluster.keysByNode().forEach { it.shouldBeEmpty() }
    }

    test("10,000 concurrent withLock calls on distinct names complete on 4 threads, without a thread per lock") {
        val calls = 10_000
        val threads = ManagementFactory.getThreadMXBean()
        // A 10,000-call burst on 2 cores queues replies past the default node timeout (400 ms for an 8 s
        // expiry), and every timed-out attempt is retried: 2 s keeps that rare. Rare, not absent: how long the
        // burst's replies queue depends on the machine's load (CI once saw 89 of 10,000 calls retry), so the
        // attempts are bounded below, not counted exactly; what this test is about is threads.
        val (redsync, counting) = cluster.counting(lockOptions { nodeTimeout = 2.seconds })
        redsync.use {
            redsync.withLock("warm-up") {} // connections and the instance's timer exist from here on
            val baseline = threads.threadCount
            val pool = Executors.newFixedThreadPool(4)
            val dispatcher = pool.asCoroutineDispatcher()
            val done = AtomicInteger()
            val maxInFlight = AtomicInteger()
            val inFlight = AtomicInteger()
            try {
                threads.resetPeakThreadCount()
                withContext(dispatcher) {
                    coroutineScope {
                        repeat(calls) { i ->
                            launch {
                                redsync.withLock("job:$i") {
                                    maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), ::maxOf)
                                    delay(500) // many of them hold their lock at about the same time
                                    inFlight.decrementAndGet()
                                }
                                done.incrementAndGet()
                            }
                        }
                    }
                }
                val peak = threads.peakThreadCount
                done.get() shouldBe calls
                // Every call attempted (plus the warm-up); a retry is a second attempt of the same call.
                counting.forEach { it.acquires.get() shouldBeGreaterThanOrEqual calls + 1 }
                // 4 dispatcher threads plus a small constant (Lettuce's computation threads, the common
                // pool, redsync's workers): a thread per lock or lease would be thousands.
                (peak - baseline) shouldBeLessThan 4 + 30
                maxInFlight.get() shouldBeGreaterThan 1_000 // they really held their locks concurrently
                println("10k distinct withLock: baseline $baseline threads, peak $peak, max concurrently held ${maxInFlight.get()}, " +
                    "attempts per node ${counting.map { it.acquires.get() }}")
            } finally {
                dispatcher.close()
            }
        }
        cluster.keysByNode().forEach { it.shouldBeEmpty() }
    }
})
