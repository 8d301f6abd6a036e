package io.redsync.internal

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe

/**
 * The record of who has the turn on each key ({@link Waiters#othersTurn}): a turn is seen while it lasts and not
 * after, never by its own holder, and turns that ended without being given back (leases that expired or were lost
 * unreleased, one per key ever locked) do not pile up.
 */
class TurnsSpec : FunSpec({
    /** A turn lasting until [until] (System.nanoTime). */
    class FixedTurn(@Volatile var until: Long) : Waiters.Turn {
        override fun endsInNanos(now: Long): Long = maxOf(0, until - now)
    }

    test("another's turn is seen while it lasts, with how long it lasts at most; one's own never") {
        val waiters = Waiters(arrayOf(MemoryNode()), 1)
        val now = System.nanoTime()
        val turn = FixedTurn(now + 1_000_000_000)
        val self = FixedTurn(now + 1_000_000_000)
        waiters.take("k", turn)
        waiters.othersTurn("k", self, now) shouldBe 1_000_000_000L
        waiters.othersTurn("k", turn, now) shouldBe 0L
        waiters.othersTurn("other", self, now) shouldBe 0L
        turn.until = now
        waiters.othersTurn("k", self, now) shouldBe 0L
        waiters.turnCount() shouldBe 0 // an ended turn is dropped when seen
    }

    test("a turn given back ends at once; a later one on the key is not given back by the earlier holder") {
        val waiters = Waiters(arrayOf(MemoryNode()), 1)
        val now = System.nanoTime()
        val first = FixedTurn(now + 1_000_000_000)
        val second = FixedTurn(now + 1_000_000_000)
        val self = FixedTurn(now)
        waiters.take("k", first)
        waiters.take("k", second)
        waiters.give("k", first)
        waiters.othersTurn("k", self, now) shouldBeGreaterThan 0L
        waiters.give("k", second)
        waiters.othersTurn("k", self, now) shouldBe 0L
    }

    /** Runs nothing until told: what a release hands to a worker stays visible here. */
    class HeldTasks : java.util.concurrent.Executor {
        val tasks = java.util.ArrayDeque<Runnable>()
        override fun execute(command: Runnable) { tasks.add(command) }
        fun runAll() { while (tasks.isNotEmpty()) tasks.poll().run() }
    }

    test("a release of this instance wakes its first waiter on the releasing thread itself") {
        val worker = HeldTasks()
        val waiters = Waiters(arrayOf(MemoryNode()), 1, worker)
        val lease = FixedTurn(System.nanoTime() + 60_000_000_000)
        val wokenOn = mutableListOf<Thread>()
        waiters.join("k") { wokenOn += Thread.currentThread(); true }
        waiters.join("k") { throw AssertionError("a second waiter was offered a release the first took") }
        waiters.take("k", lease)
        waiters.releasedHere("k", lease, "v")
        wokenOn shouldBe listOf(Thread.currentThread())
        worker.tasks.size shouldBe 0
        // The turn is the woken waiter's until it sends (it would take it with its attempt).
        waiters.othersTurn("k", FixedTurn(0), System.nanoTime()) shouldBeGreaterThan 0L
    }

    test("past the first few waiters, the walk moves to a worker, and still reaches one that takes it") {
        val worker = HeldTasks()
        val waiters = Waiters(arrayOf(MemoryNode()), 1, worker)
        val lease = FixedTurn(System.nanoTime() + 60_000_000_000)
        var declined = 0
        var taken = 0
        repeat(10) { waiters.join("k") { declined++; false } } // ending, or holding a wake-up already
        waiters.join("k") { taken++; true }
        waiters.take("k", lease)
        waiters.releasedHere("k", lease, "v")
        declined shouldBeLessThanOrEqual 4 // the releasing thread's share is bounded
        taken shouldBe 0
        worker.tasks.size shouldBe 1
        worker.runAll()
        taken shouldBe 1
        waiters.othersTurn("k", FixedTurn(0), System.nanoTime()) shouldBeGreaterThan 0L
    }

    test("a release that no waiter takes leaves no turn behind, inline or on the worker") {
        for (listeners in listOf(2, 10)) {
            val worker = HeldTasks()
            val waiters = Waiters(arrayOf(MemoryNode()), 1, worker)
            val lease = FixedTurn(System.nanoTime() + 60_000_000_000)
            repeat(listeners) { waiters.join("k") { false } }
            waiters.take("k", lease)
            waiters.releasedHere("k", lease, "v")
            worker.runAll()
            waiters.othersTurn("k", FixedTurn(0), System.nanoTime()) shouldBe 0L
        }
    }

    test("turns that ended unnoticed on keys never looked at again are swept as the record grows") {
        val waiters = Waiters(arrayOf(MemoryNode()), 1)
        val live = FixedTurn(System.nanoTime() + 60_000_000_000)
        repeat(100) { waiters.take("live-$it", live) }
        repeat(100_000) { waiters.take("ended-$it", FixedTurn(0)) }
        // Swept whenever it outgrows twice what the last sweep left (at least 1,024): never near 100,000.
        waiters.turnCount() shouldBeLessThanOrEqual 2_048
        (0 until 100).forEach { waiters.othersTurn("live-$it", FixedTurn(0), System.nanoTime()) shouldBeGreaterThan 0L }
    }
})
