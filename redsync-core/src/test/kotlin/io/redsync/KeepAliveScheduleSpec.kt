package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit

/**
 * When keep-alive extends and when it declares a lease lost (issue 13 items 5 and 12): never lost without an
 * extension having been tried in time, and a lease whose keys are deleted found lost before its next extension.
 */
class KeepAliveScheduleSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    /** Waits (without asserting on time) until [nanos] on the monotonic clock has passed. */
    suspend fun awaitPast(nanos: Long) = awaitUntil("the clock to pass the mark", kotlin.time.Duration.INFINITE) { System.nanoTime() - nanos > 0 }

    test("keepAlive() called late in the validity extends at once instead of declaring the lease lost") {
        val options = LockOptions.builder().expiry(ms(1000)).build()
        nodes.redsync(defaults = options).use { redsync ->
            val lease = redsync.lock("late")
            while (lease.remaining().toMillis() > 262) Thread.onSpinWait()
            val firstDeadline = System.nanoTime() + lease.remaining().toNanos()
            val lost = CompletableFuture<LeaseLostException>()
            lease.onLost { lost.complete(it) }
            lease.keepAlive()
            // Before the fix: lost as UNREACHABLE ~160 ms later, the first extension being due after 333 ms.
            awaitPast(firstDeadline + TimeUnit.MILLISECONDS.toNanos(700))
            lost.getNow(null)?.let { throw AssertionError("lease declared lost", it) }
            lease.isValid shouldBe true
            lease.release()
        }
    }

    test("executeLocked with a large lostMargin keeps a lease on healthy nodes") {
        // 6.6 s of 10: accepted before, but the loss fell due (9.898 − 6.6 = 3.298 s) before the first
        // extension (3.333 s). (The case was 660 ms of 1 s once; at that scale the fixed schedule leaves an
        // extension about 70 ms for its round trip, which a loaded CI machine does not always give. Ten times
        // the scale, the same proportions, ten times the slack.)
        val options = LockOptions.builder().expiry(ms(10_000))
            .keepAlive(KeepAlive.builder().lostMargin(ms(6_600)).build()).build()
        nodes.redsync(defaults = options).use { redsync ->
            val checks = redsync.executeLocked<Int, Exception>("margin") { lease ->
                // Past the old loss point and the first extension.
                val until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5000)
                var n = 0
                while (System.nanoTime() < until) {
                    lease.checkValid()
                    Thread.sleep(20)
                    n++
                }
                n
            }
            checks.toLong() shouldBeGreaterThan 0L
        }
    }

    test("a lost margin below two timer ticks is refused, naming the field, the value and the range") {
        val e = shouldThrow<IllegalArgumentException> {
            LockOptions.builder().expiry(ms(1000)).keepAlive(KeepAlive.builder().lostMargin(ms(5)).build()).build()
        }
        e.message!! shouldContain "lostMargin"
        e.message!! shouldContain "PT0.005S"
        e.message!! shouldContain "20 ms"
        nodes.redsync().use { redsync ->
            redsync.lock("tiny-margin").use { lease ->
                shouldThrow<IllegalArgumentException> { lease.keepAlive(KeepAlive.builder().lostMargin(ms(5)).build()) }
                    .message!! shouldContain "lostMargin"
            }
        }
    }

    test("a lost margin that leaves no time for an extension's round trip is refused") {
        // expiry 1000 ms: drift 12 ms, node timeout 50 ms; an extension must be sent at the latest at
        // deadline − margin − node timeout − 2 ticks, so the margin may be at most 1000 − 12 − 2 × 50 − 30.
        val e = shouldThrow<IllegalArgumentException> {
            LockOptions.builder().expiry(ms(1000)).keepAlive(KeepAlive.builder().interval(ms(50)).lostMargin(ms(900)).build()).build()
        }
        e.message!! shouldContain "lostMargin"
        e.message!! shouldContain "858 ms"
        LockOptions.builder().expiry(ms(1000)).keepAlive(KeepAlive.builder().lostMargin(ms(858)).build()).build()
    }

    test("keys deleted on a quorum: the loss is found before the next extension is due") {
        // Expiry 2 s: extensions every 667 ms. Before the fix only the next extension noticed the keys were
        // gone, so the work ran on for up to one interval while others could take the lock.
        val options = LockOptions.builder().expiry(ms(2000)).build()
        val windowsMs = mutableListOf<Double>()
        val scriptsRun = mutableListOf<Long>()
        nodes.redsync(defaults = options).use { redsync ->
            repeat(5) { round ->
                val scripts = nodes.nodes().map { it.scriptCalls() }
                val lease = redsync.lock("deleted-$round").keepAlive()
                // On every node, not only the first: an extension is decided by a quorum's replies, and the
                // third node's script may still be on its way. Counted after the deletion below, it looked like an
                // extension needed to find the loss (CI, loaded machine: [0, 0, 2, 0, 0]).
                awaitUntil("first extension on every node") {
                    nodes.nodes().withIndex().all { (i, node) -> node.scriptCalls() > scripts[i] }
                }
                val lost = CompletableFuture<Long>()
                lease.onLost { lost.complete(System.nanoTime()) }
                val scriptsBefore = nodes.nodes().sumOf { it.scriptCalls() }
                val deletedAt = System.nanoTime()
                nodes.nodes().forEach { it.call("DEL", "deleted-$round") }
                val at = lost.get(10, TimeUnit.SECONDS)
                windowsMs += (at - deletedAt) / 1e6
                scriptsRun += nodes.nodes().sumOf { it.scriptCalls() } - scriptsBefore
                lease.isLost shouldBe true
            }
        }
        println("keys deleted → lease lost (ms), expiry 2 s: ${windowsMs.map { "%.0f".format(it) }}, max ${"%.0f".format(windowsMs.max())}")
        // No extension was needed to find it: no script ran between the deletion and the loss.
        scriptsRun shouldBe List(5) { 0L }
    }
})
