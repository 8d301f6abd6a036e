package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.io.IOException
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference

class KeepAliveSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    val short = LockOptions.builder().expiry(ms(600)).build()

    /**
     * Completes with the loss and the validity that was left when the callback ran (a lost lease itself
     * reports none, so it is measured against the deadline the lease reported before the loss).
     */
    fun lossOf(lease: Lease): CompletableFuture<Pair<LeaseLostException, Duration>> {
        val seen = CompletableFuture<Pair<LeaseLostException, Duration>>()
        val deadline = validUntilBeforeLoss(lease)
        lease.onLost { seen.complete(it to Duration.between(java.time.Instant.now(), deadline())) }
        return seen
    }

    test("a kept-alive lease outlives its expiry several times; a competitor never gets the lock meanwhile") {
        nodes.redsync().use { redsync ->
            nodes.redsync().use { competitor ->
                val lease = redsync.lock("kept", short).keepAlive()
                val start = System.nanoTime()
                var refused = 0
                while (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(1800)) { // 3x the expiry
                    competitor.mutex("kept", LockOptions.builder().tries(1).build()).tryLock().isPresent shouldBe false
                    refused++
                    lease.isValid shouldBe true
                }
                refused.toLong() shouldBeGreaterThan 3L
                lease.isLost shouldBe false
                lease.close()
                nodes.keysByNode().forEach { it.shouldBeEmpty() }
            }
        }
    }

    test("keys deleted behind the holder's back: lost as REFUSED before the validity deadline") {
        nodes.redsync().use { redsync ->
            val lease = redsync.lock("stolen", short).keepAlive()
            val loss = lossOf(lease)
            nodes.nodes().forEach { it.call("DEL", "stolen") }
            val (e, left) = loss.get(5, TimeUnit.SECONDS)
            e.reason() shouldBe LeaseLostException.Reason.REFUSED
            e.lockName() shouldBe "stolen"
            left.toNanos() shouldBeGreaterThan 0L // a refusal is acted on at once, long before the deadline
            lease.isLost shouldBe true
            lease.isValid shouldBe false
            shouldThrow<LeaseLostException> { lease.checkValid() }.reason() shouldBe LeaseLostException.Reason.REFUSED
        }
    }

    test("a majority of nodes unreachable: lost as UNREACHABLE while validity remains") {
        nodes.redsync(defaults = LockOptions.builder().expiry(ms(1000)).nodeTimeout(ms(50)).build()).use { redsync ->
            val lease = redsync.lock("cut").keepAlive()
            val loss = lossOf(lease)
            nodes.node(1).pause()
            nodes.node(2).pause()
            try {
                val (e, left) = loss.get(5, TimeUnit.SECONDS)
                e.reason() shouldBe LeaseLostException.Reason.UNREACHABLE
                left.toNanos() shouldBeGreaterThan 0L // decided before the deadline, not after
                e.message!! shouldContain "could not be extended"
            } finally {
                nodes.node(1).resume()
                nodes.node(2).resume()
            }
        }
    }

    test("maxExtensions caps keeping: lost as LIMIT after that many extensions") {
        val options = LockOptions.builder().expiry(ms(600)).keepAlive(KeepAlive.builder().maxExtensions(2).build()).build()
        nodes.redsync().use { redsync ->
            val lease = redsync.lock("capped", options)
            val loss = lossOf(lease)
            lease.keepAlive(options.keepAlive())
            val (e, left) = loss.get(5, TimeUnit.SECONDS)
            e.reason() shouldBe LeaseLostException.Reason.LIMIT
            e.message!! shouldContain "after 2 extensions"
            left.toNanos() shouldBeGreaterThan 0L
        }
    }

    test("maxDuration caps keeping") {
        val options = LockOptions.builder().expiry(ms(600)).keepAlive(KeepAlive.builder().maxDuration(ms(500)).build()).build()
        nodes.redsync().use { redsync ->
            val lease = redsync.lock("capped-time", options)
            val loss = lossOf(lease)
            lease.keepAlive(options.keepAlive())
            loss.get(5, TimeUnit.SECONDS).first.reason() shouldBe LeaseLostException.Reason.LIMIT
        }
    }

    test("release stops keeping: no further extension reaches the nodes and no loss is reported") {
        nodes.redsync().use { redsync ->
            val lease = redsync.lock("stop", short).keepAlive()
            val loss = lossOf(lease)
            awaitUntil("one extension") { nodes.node(0).scriptCalls() >= 1 } // the first extension
            lease.close()
            val after = nodes.node(0).lockCommands()
            // Two keep-alive intervals pass with the lease released.
            CompletableFuture.runAsync({}, CompletableFuture.delayedExecutor(500, TimeUnit.MILLISECONDS)).get()
            nodes.node(0).lockCommands() shouldBe after
            loss.isDone shouldBe false
            shouldThrow<IllegalStateException> { lease.keepAlive() }
        }
    }

    test("keep-alive options are checked against the expiry") {
        shouldThrow<IllegalArgumentException> {
            LockOptions.builder().expiry(ms(1000)).keepAlive(KeepAlive.builder().interval(ms(1000)).build()).build()
        }.message!! shouldContain "keepAlive interval must be < expiry"
        // Extensions are scheduled from the deadline, so the interval no longer bounds the margin; the round
        // trip of an extension does (KeepAliveScheduleSpec).
        LockOptions.builder().expiry(ms(1000)).keepAlive(KeepAlive.builder().interval(ms(500)).lostMargin(ms(500)).build()).build()
        shouldThrow<IllegalArgumentException> {
            LockOptions.builder().expiry(ms(1000)).keepAlive(KeepAlive.builder().interval(ms(500)).lostMargin(ms(900)).build()).build()
        }.message!! shouldContain "keepAlive lostMargin must be in [20 ms, 858 ms] for expiry 1000 ms, was PT0.9S"
        shouldThrow<IllegalArgumentException> { KeepAlive.builder().maxExtensions(0) }.message shouldBe "maxExtensions must be >= 1, was 0"
        shouldThrow<IllegalArgumentException> { KeepAlive.builder().interval(Duration.ZERO) }.message shouldBe "interval must be > 0, was PT0S"
    }

    context("executeLocked") {
        test("returns the action's result, keeps the lease while it runs, releases after") {
            nodes.redsync(defaults = short).use { redsync ->
                val result = redsync.executeLocked<List<Int>, Exception>("job") { lease ->
                    val until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500)
                    while (System.nanoTime() < until) {
                        lease.checkValid()
                        Thread.sleep(20) // simulated work
                    }
                    nodes.nodesHolding("job")
                }
                result shouldContainExactly listOf(0, 1, 2)
                nodes.keysByNode().forEach { it.shouldBeEmpty() }
            }
        }

        test("the action's checked exception propagates unchanged after release") {
            nodes.redsync().use { redsync ->
                val e = shouldThrow<IOException> {
                    redsync.executeLocked<Unit, IOException>("io") { throw IOException("disk full") }
                }
                e.message shouldBe "disk full"
                nodes.keysByNode().forEach { it.shouldBeEmpty() }
            }
        }

        test("lease lost: the action's thread is interrupted and LeaseLostException is thrown, interrupt cleared") {
            nodes.redsync(defaults = short).use { redsync ->
                val interrupted = AtomicReference<Boolean>()
                val started = CountDownLatch(1)
                val outcome = AtomicReference<Throwable>()
                val stillInterrupted = AtomicReference<Boolean>()
                val worker = Thread {
                    try {
                        redsync.executeLocked<Unit, Exception>("victim") { _ ->
                            started.countDown()
                            try {
                                Thread.sleep(10_000)
                            } catch (e: InterruptedException) {
                                interrupted.set(true)
                                throw e
                            }
                        }
                    } catch (e: Throwable) {
                        outcome.set(e)
                        stillInterrupted.set(Thread.currentThread().isInterrupted)
                    }
                }
                worker.start()
                started.await(5, TimeUnit.SECONDS) shouldBe true
                nodes.nodes().forEach { it.call("DEL", "victim") }
                worker.join(5_000)
                worker.isAlive shouldBe false
                interrupted.get() shouldBe true
                val e = outcome.get().shouldBeInstanceOf<LeaseLostException>()
                e.reason() shouldBe LeaseLostException.Reason.REFUSED
                e.suppressed.any { it is InterruptedException } shouldBe true
                stillInterrupted.get() shouldBe false
            }
        }

        test("keep-alive switched off: a long action outlives its lease, and release reports it") {
            val options = LockOptions.builder().expiry(ms(300)).keepAlive(KeepAlive.disabled()).build()
            nodes.redsync().use { redsync ->
                val calls = AtomicInteger()
                shouldThrow<LeaseExpiredException> {
                    redsync.executeLocked<Unit, Exception>("unkept", options) { lease ->
                        calls.incrementAndGet()
                        while (lease.isValid) Thread.onSpinWait()
                        awaitKeysGone(nodes, "unkept")
                    }
                }
                calls.get() shouldBe 1
            }
        }
    }
})

private fun awaitKeysGone(nodes: RedisNodes, key: String) {
    val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5)
    while (nodes.nodesHolding(key).isNotEmpty()) {
        check(System.nanoTime() < deadline) { "keys of $key did not expire" }
        Thread.onSpinWait()
    }
}
