package io.redsync.coroutines

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.comparables.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf
import io.kotest.matchers.types.shouldBeSameInstanceAs
import io.redsync.Lease
import io.redsync.LeaseExpiredException
import io.redsync.LeaseLostException
import io.redsync.RedsyncException
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.ms
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineExceptionHandler
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.supervisorScope
import kotlinx.coroutines.withTimeout
import java.time.Duration
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource

class WithLockSpec : FunSpec({
    val cluster = clusterPerSpec()
    val nodes = cluster.nodes

    fun List<CountingNode>.releases() = map { it.releases.get() }

    context("on the happy path") {
        test("returns the block's result, holds the lock meanwhile, and releases it exactly once") {
            val (redsync, counting) = cluster.counting()
            redsync.use {
                val result = redsync.withLock("invoice:42") { lease ->
                    cluster.valuesOf("invoice:42") shouldContainExactly List(3) { lease.value() }
                    lease.name() + " done"
                }
                result shouldBe "invoice:42 done"
                counting.releases() shouldContainExactly listOf(1, 1, 1)
                cluster.keysByNode().forEach { it.shouldBeEmpty() }
            }
        }

        test("calls the block exactly once, so it may initialise a val (callsInPlace contract)") {
            cluster.redsync().use { redsync ->
                val assigned: Int
                redsync.mutex("contract").withLock { assigned = 7 }
                assigned shouldBe 7
            }
        }
    }

    context("cancellation while waiting for the lock") {
        test("cancels the lock future: retries stop, the partial hold is released, the CancellationException propagates") {
            // Another owner holds nodes 0 and 1, so every attempt of ours can only take node 2 (a partial
            // hold). Node 2's replies are held back, so the cancel lands while an attempt is in flight and
            // node 2 already holds our key.
            cluster.occupy("busy", on = listOf(0, 1))
            val ours = "waiter-token"
            val (redsync, counting) = cluster.counting(lockOptions {
                valueGenerator = { ours }
                retryDelay = io.redsync.RetryDelay.constant(ms(5))
                tries = Int.MAX_VALUE
            })
            counting[2].acquireReplyDelayMs = 300
            redsync.use {
                val caught = AtomicReference<Throwable>()
                val blockRan = AtomicInteger()
                val cause = CancellationException("the caller gave up")
                coroutineScope {
                    val waiter = launch {
                        try {
                            redsync.withLock("busy") { blockRan.incrementAndGet() }
                        } catch (e: Throwable) {
                            caught.set(e)
                            throw e
                        }
                    }
                    // The generator's value, with the suffix each lock call adds to a custom generator's value.
                    awaitUntil("node 2 holds our key (partial hold)") { cluster.redis(2).get("busy")?.startsWith("$ours#") == true }
                    waiter.cancel(cause)
                    waiter.join()
                }
                caught.get() shouldBeOrRecoveredFrom cause
                blockRan.get() shouldBe 0
                awaitUntil("the partial hold on node 2 is released") { cluster.redis(2).get("busy") == null }
                cluster.valuesOf("busy") shouldContainExactly listOf("someone-else", "someone-else", null)
                // Retries stop: observe a window of ~20 retry delays in which no attempt starts.
                val attempts = counting.map { it.acquires.get() }
                delay(100)
                counting.map { it.acquires.get() } shouldContainExactly attempts
            }
        }

        test("withTimeout during acquisition throws TimeoutCancellationException and leaves no key of ours") {
            cluster.occupy("held")
            cluster.redsync(lockOptions { valueGenerator = { "late-token" } }).use { redsync ->
                val started = TimeSource.Monotonic.markNow()
                shouldThrow<TimeoutCancellationException> {
                    withTimeout(300.milliseconds) {
                        redsync.withLock("held") { error("must not run") }
                    }
                }
                // The default retries (32 × 50-250 ms) would take seconds: the deadline cut them short.
                started.elapsedNow() shouldBeLessThan 2.seconds
                cluster.valuesOf("held") shouldContainExactly List(3) { "someone-else" }
                cluster.keysByNode().forEach { it shouldBe setOf("held") }
            }
        }
    }

    context("cancellation while the block runs") {
        test("releases exactly once, in NonCancellable, before the cancellation propagates") {
            val (redsync, counting) = cluster.counting()
            // Slow release replies: only a release awaited despite the cancellation is answered by the time
            // withLock rethrows.
            counting.forEach { it.releaseReplyDelayMs = 100 }
            redsync.use {
                val entered = CompletableDeferred<Lease>()
                val caught = AtomicReference<Throwable>()
                val cause = CancellationException("shutting down")
                coroutineScope {
                    val job = launch {
                        try {
                            redsync.withLock("job") { lease ->
                                entered.complete(lease)
                                awaitCancellation()
                            }
                        } catch (e: Throwable) {
                            caught.set(e)
                            throw e
                        }
                    }
                    entered.await()
                    job.cancel(cause)
                    job.join()
                }
                caught.get() shouldBeOrRecoveredFrom cause
                // No waiting: the release completed before withLock rethrew (it ran in NonCancellable).
                counting.map { it.releasesAnswered.get() } shouldContainExactly listOf(1, 1, 1)
                counting.releases() shouldContainExactly listOf(1, 1, 1)
                cluster.keysByNode().forEach { it.shouldBeEmpty() }
                entered.await().isReleased shouldBe true
            }
        }

        test("children launched by the block are cancelled too, and awaited before the release") {
            val (redsync, counting) = cluster.counting()
            redsync.use {
                val childStopped = AtomicReference<Boolean>()
                val releasesWhenChildStopped = AtomicReference<List<Int>>()
                val entered = CompletableDeferred<Unit>()
                coroutineScope {
                    val job = launch {
                        redsync.withLock("parent") {
                            launch(start = CoroutineStart.UNDISPATCHED) {
                                try {
                                    awaitCancellation()
                                } finally {
                                    childStopped.set(true)
                                    releasesWhenChildStopped.set(counting.releases())
                                }
                            }
                            entered.complete(Unit)
                        }
                    }
                    entered.await()
                    job.cancel()
                    job.join()
                }
                childStopped.get() shouldBe true
                releasesWhenChildStopped.get() shouldContainExactly listOf(0, 0, 0)
                counting.releases() shouldContainExactly listOf(1, 1, 1)
            }
        }
    }

    context("the block throws") {
        test("the lease is released once and the exception propagates unchanged") {
            val (redsync, counting) = cluster.counting()
            redsync.use {
                val failure = BlockFailure(1)
                val thrown = shouldThrow<BlockFailure> { redsync.withLock("failing") { throw failure } }
                thrown shouldBeSameInstanceAs failure
                thrown.suppressed.toList().shouldBeEmpty()
                counting.releases() shouldContainExactly listOf(1, 1, 1)
                cluster.keysByNode().forEach { it.shouldBeEmpty() }
            }
        }

        test("a failed release is attached to the block's exception as suppressed, not thrown over it") {
            cluster.redsync(lockOptions { keepAlive = false }).use { redsync ->
                val failure = BlockFailure(2)
                val thrown = shouldThrow<BlockFailure> {
                    redsync.withLock("vanishing") {
                        (0 until 3).forEach { cluster.redis(it).del("vanishing") }
                        throw failure
                    }
                }
                thrown shouldBeSameInstanceAs failure
                thrown.suppressed.toList() shouldHaveSize 1
                thrown.suppressed[0].shouldBeInstanceOf<LeaseExpiredException>()
            }
        }
    }

    context("keep-alive") {
        test("a block running 3x the expiry keeps the lock; a competitor never gets it; the keys go afterwards") {
            val (redsync, counting) = cluster.counting(lockOptions { expiry = 1.seconds })
            redsync.use {
                cluster.redsync().use { competitor ->
                    val competitorAttempts = AtomicInteger()
                    val competitorWins = AtomicInteger()
                    val ttls = mutableListOf<Long>()
                    coroutineScope {
                        val entered = CompletableDeferred<Unit>()
                        val rival = launch {
                            entered.await()
                            val mutex = competitor.mutex("long-job")
                            while (isActive) {
                                competitorAttempts.incrementAndGet()
                                mutex.awaitTryLock()?.let { competitorWins.incrementAndGet(); it.awaitRelease() }
                                delay(50)
                            }
                        }
                        redsync.withLock("long-job") { lease ->
                            entered.complete(Unit)
                            val until = TimeSource.Monotonic.markNow() + 3.seconds
                            while (until.hasNotPassedNow()) {
                                ttls += cluster.redis(0).pttl("long-job")!!
                                delay(100)
                            }
                            // Stopped before the release, so any win counted below came while the lock was held.
                            // (Cancelled after withLock returned, the rival could take the freed lock first: a
                            // CI run counted 1 win that way.)
                            rival.cancelAndJoin()
                            lease.isValid shouldBe true
                        }
                    }
                    competitorAttempts.get() shouldBeGreaterThanOrEqual 20
                    competitorWins.get() shouldBe 0
                    ttls.forEach { it shouldBeGreaterThan 0L } // never expired on the node meanwhile
                    counting.forEach { it.extends.get() shouldBeGreaterThanOrEqual 6 } // about every 333 ms
                    counting.releases() shouldContainExactly listOf(1, 1, 1)
                    cluster.keysByNode().forEach { it.shouldBeEmpty() }
                }
            }
        }

        test("keepAlive = false: no extension is made, and a block outliving the expiry learns it from the release") {
            val (redsync, counting) = cluster.counting(lockOptions { expiry = 300.milliseconds; keepAlive = false })
            redsync.use {
                shouldThrow<LeaseExpiredException> {
                    redsync.withLock("short") {
                        awaitUntil("the keys expired") { cluster.keysByNode().all { it.isEmpty() } }
                    }
                }
                counting.forEach { it.extends.get() shouldBe 0 }
            }
        }
    }

    context("lease loss") {
        test("keys deleted behind the holder's back: the block is cancelled before the deadline, LeaseLostException(REFUSED)") {
            val (redsync, counting) = cluster.counting(lockOptions { expiry = 3.seconds }) // extended every second
            redsync.use {
                // A lost lease reports no validity: the cancellation is compared with the deadline reported
                // before the keys went, which the real one can only be later than.
                val untilBefore = AtomicReference<java.time.Instant>()
                val cancelledAt = AtomicReference<java.time.Instant>()
                val lostAtCancel = AtomicReference<Boolean>()
                val cancelCause = AtomicReference<Throwable?>()
                val lost = coroutineScope {
                    val entered = CompletableDeferred<Unit>()
                    launch {
                        entered.await()
                        // Another process (or an operator) deletes the keys: the next extension is refused.
                        (0 until 3).forEach { cluster.redis(it).del("doomed") }
                    }
                    shouldThrow<LeaseLostException> {
                        redsync.withLock("doomed") { lease ->
                            untilBefore.set(lease.until())
                            entered.complete(Unit)
                            try {
                                awaitCancellation()
                            } catch (e: CancellationException) {
                                cancelledAt.set(java.time.Instant.now())
                                lostAtCancel.set(lease.isLost)
                                cancelCause.set(e)
                                throw e
                            }
                        }
                    }
                }
                lost.reason() shouldBe LeaseLostException.Reason.REFUSED
                lost.lockName() shouldBe "doomed"
                cancelledAt.get().isBefore(untilBefore.get()) shouldBe true // cancelled while the lock was still ours
                lostAtCancel.get() shouldBe true
                cancelCause.get().causeOfType<LeaseLostException>()!!.reason() shouldBe LeaseLostException.Reason.REFUSED
                counting.releases() shouldContainExactly listOf(1, 1, 1) // the release still ran, once
                lost.suppressed.toList().forEach { it.shouldBeInstanceOf<RedsyncException>() } // keys were gone
                cluster.keysByNode().forEach { it.shouldBeEmpty() }
            }
        }

        test("a majority of nodes paused: the block is cancelled before the deadline, LeaseLostException(UNREACHABLE)") {
            // expiry 1 s: extensions every 333 ms, each bounded by a 50 ms node timeout; lost 300 ms before the deadline.
            val (redsync, counting) = cluster.counting(lockOptions {
                expiry = 1.seconds
                keepAlive { lostMargin = 300.milliseconds } // room for the cancellation to be seen before the deadline
            })
            redsync.use {
                val untilBefore = AtomicReference<java.time.Instant>()
                val cancelledAt = AtomicReference<java.time.Instant>()
                try {
                    val lost = shouldThrow<LeaseLostException> {
                        redsync.withLock("partitioned") { lease ->
                            untilBefore.set(lease.until())
                            nodes.node(1).pause()
                            nodes.node(2).pause()
                            try {
                                awaitCancellation()
                            } catch (e: CancellationException) {
                                cancelledAt.set(java.time.Instant.now())
                                throw e
                            }
                        }
                    }
                    lost.reason() shouldBe LeaseLostException.Reason.UNREACHABLE
                    cancelledAt.get().isBefore(untilBefore.get()) shouldBe true
                    counting.releases() shouldContainExactly listOf(1, 1, 1)
                    // Node 0 answered the release; the paused two could not make a quorum: suppressed, not thrown.
                    lost.suppressed.toList() shouldHaveSize 1
                    lost.suppressed[0].shouldBeInstanceOf<RedsyncException>()
                    cluster.redis(0).get("partitioned").shouldBeNull()
                } finally {
                    nodes.node(1).resume()
                    nodes.node(2).resume()
                }
            }
        }

        test("inside a launch the loss fails the job with LeaseLostException instead of vanishing as a cancellation") {
            cluster.redsync(lockOptions { expiry = 1.seconds }).use { redsync ->
                val reported = CompletableDeferred<Throwable>()
                val handler = CoroutineExceptionHandler { _, e -> reported.complete(e) }
                supervisorScope {
                    launch(handler) {
                        redsync.withLock("launched") {
                            (0 until 3).forEach { cluster.redis(it).del("launched") }
                            awaitCancellation()
                        }
                    }.join()
                }
                val e = reported.await()
                e.shouldBeInstanceOf<LeaseLostException>()
                e.reason() shouldBe LeaseLostException.Reason.REFUSED
            }
        }

        test("the caller stays active: only the block's scope was cancelled") {
            cluster.redsync(lockOptions { expiry = 1.seconds }).use { redsync ->
                coroutineScope {
                    val sibling = async { delay(50); "sibling finished" }
                    shouldThrow<LeaseLostException> {
                        redsync.withLock("scoped") {
                            (0 until 3).forEach { cluster.redis(it).del("scoped") }
                            awaitCancellation()
                        }
                    }
                    isActive shouldBe true
                    sibling.await() shouldBe "sibling finished"
                }
            }
        }
    }
})

private infix fun kotlin.time.Duration.shouldBeLessThan(other: kotlin.time.Duration) {
    if (this >= other) throw AssertionError("expected $this < $other")
}
