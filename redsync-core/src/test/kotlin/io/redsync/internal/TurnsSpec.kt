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
