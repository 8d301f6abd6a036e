package io.redsync

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.nodesPerSpec
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/** One critical section as its holder saw it, on this JVM's monotonic clock. */
data class Section(val client: Int, val enteredNanos: Long, val exitedNanos: Long)

/** Sorted by entry, each section must end before the next begins. */
fun assertNoOverlap(sections: Collection<Section>) {
    val sorted = sections.sortedBy { it.enteredNanos }
    sorted.zipWithNext().forEach { (a, b) ->
        if (b.enteredNanos <= a.exitedNanos) throw AssertionError("critical sections overlap: $a and $b")
    }
}

class ContentionSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    test("16 clients on ONE lock, 500 critical sections: none overlap and the unguarded counter is exact") {
        val clients = 16
        val total = 500
        val options = fastRetryBuilder().build()
        val instances = (1..clients).map { nodes.redsync(defaults = options) } // one per "process"
        val sections = ConcurrentLinkedQueue<Section>()
        val inside = AtomicInteger()
        val violations = AtomicInteger()
        val remaining = AtomicInteger(total)
        var counter = 0L // deliberately unsynchronised: only the lock protects it
        val pool = Executors.newFixedThreadPool(clients)
        try {
            val done = CountDownLatch(clients)
            instances.forEachIndexed { id, redsync ->
                pool.execute {
                    try {
                        while (remaining.getAndDecrement() > 0) {
                            redsync.lock("contended").use { lease ->
                                val entered = System.nanoTime()
                                if (inside.incrementAndGet() != 1) violations.incrementAndGet()
                                val read = counter
                                Thread.yield() // widen the race window a broken lock would expose
                                counter = read + 1
                                lease.checkValid()
                                if (inside.decrementAndGet() != 0) violations.incrementAndGet()
                                sections.add(Section(id, entered, System.nanoTime()))
                            }
                        }
                    } finally {
                        done.countDown()
                    }
                }
            }
            done.await(120, TimeUnit.SECONDS) shouldBe true
        } finally {
            pool.shutdownNow()
            instances.forEach { it.close() }
        }
        violations.get() shouldBe 0
        sections.size shouldBe total
        counter shouldBe total.toLong()
        assertNoOverlap(sections)
        sections.map { it.client }.toSet().size shouldBe clients
        nodes.keysByNode().forEach { it.shouldBeEmpty() }
    }

    test("one Mutex shared by 8 threads: its state stays consistent and sections never overlap") {
        nodes.redsync(defaults = fastRetryBuilder().build()).use { redsync ->
            val mutex = redsync.mutex("shared-mutex")
            val sections = ConcurrentLinkedQueue<Section>()
            val values = ConcurrentLinkedQueue<String>()
            val pool = Executors.newFixedThreadPool(8)
            try {
                (0 until 8).map { id ->
                    pool.submit {
                        repeat(25) {
                            val lease = mutex.lock()
                            val entered = System.nanoTime()
                            values.add(lease.value())
                            val exited = System.nanoTime() // before release: the next holder enters after it
                            lease.release()
                            sections.add(Section(id, entered, exited))
                        }
                    }
                }.forEach { it.get(120, TimeUnit.SECONDS) }
            } finally {
                pool.shutdownNow()
            }
            sections.size shouldBe 200
            values.toSet().size shouldBe 200 // a fresh owner token per lock call
            assertNoOverlap(sections)
            // The mutex remembers one of the leases it handed out.
            values.contains(mutex.value().get()) shouldBe true
            nodes.keysByNode().forEach { it.shouldBeEmpty() }
        }
    }
})
