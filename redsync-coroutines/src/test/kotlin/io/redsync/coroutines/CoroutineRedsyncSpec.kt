package io.redsync.coroutines

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeLessThanOrEqual
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.lettuce.core.ExperimentalLettuceCoroutinesApi
import io.redsync.LockTakenException
import io.redsync.RetryDelay
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.ms
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

@OptIn(ExperimentalLettuceCoroutinesApi::class)
class CoroutineRedsyncSpec : FunSpec({
    val cluster = clusterPerSpec()
    val nodes = cluster.nodes

    /** The facade over a fresh instance of the test's nodes, with [configure]'s defaults. */
    fun facade(configure: LockOptionsBuilder.() -> Unit = {}): CoroutineRedsync =
        CoroutineRedsync(nodes.uris()) { defaults { nodeTimeout = 2.seconds; configure() } }

    context("members with the blocking API's names that suspend") {
        test("lock, extend(ttl), valid, unlock on the mutex; release on the lease; Kotlin types throughout") {
            facade().use { redsync ->
                val mutex = redsync.mutex("order:7")
                val lease = mutex.lock()
                cluster.valuesOf("order:7") shouldContainExactly List(3) { lease.value }
                mutex.value shouldBe lease.value
                mutex.valid() shouldBe true
                lease.fencingToken.shouldBeNull() // no fencing in the defaults: null, not an Optional
                (lease.remaining > 7.seconds) shouldBe true

                lease.extend(20.seconds)
                cluster.redis(0).pttl("order:7")!! shouldBeGreaterThan 19_000
                mutex.extend() // the options' expiry again
                cluster.redis(0).pttl("order:7")!! shouldBeLessThanOrEqual 8_000

                mutex.unlock()
                lease.release() // the same lease: a second release does nothing
                lease.isReleased shouldBe true
                mutex.valid() shouldBe false
                cluster.keysByNode().forEach { it.shouldBeEmpty() }
            }
        }

        test("tryLock is null while another owner holds a quorum, a lease once free") {
            facade().use { redsync ->
                cluster.occupy("report", on = listOf(0, 1))
                redsync.tryLock("report").shouldBeNull()
                redsync.mutex("report").tryLock().shouldBeNull()
                cluster.redis(0).del("report")
                val lease = redsync.tryLock("report").shouldNotBeNull()
                lease.release()
            }
        }

        test("lock throws LockTakenException when the tries run out") {
            facade { tries = 2; retryDelay = RetryDelay.constant(ms(5)) }.use { redsync ->
                cluster.occupy("taken")
                shouldThrow<LockTakenException> { redsync.lock("taken") }.nodes() shouldContainExactly listOf(0, 1, 2)
            }
        }

        test("the lease has no close(): nothing on it can block a thread") {
            AutoCloseable::class.java.isAssignableFrom(CoroutineLease::class.java) shouldBe false
            CoroutineLease::class.java.methods.map { it.name }.contains("close") shouldBe false
        }
    }

    context("lock() suspends without blocking a thread") {
        test("200 waiters on a single-threaded dispatcher: the holder on that same thread still releases, and every waiter gets its turn") {
            val thread = Executors.newSingleThreadExecutor { r -> Thread(r, "the-only-thread") }.asCoroutineDispatcher()
            val (java, counting) = cluster.counting(lockOptions {
                nodeTimeout = 2.seconds
                tries = Int.MAX_VALUE
                acquireTimeout = 60.seconds
                retryDelay = RetryDelay.uniform(ms(1), ms(10))
            })
            java.coroutines().use { redsync ->
                thread.use {
                    withContext(thread) {
                        val turns = AtomicInteger()
                        val calling = AtomicInteger()
                        var inside = 0 // only ever touched on the one thread, under the lock
                        val holder = redsync.lock("one")
                        val waiters = (1..200).map {
                            launch {
                                calling.incrementAndGet()
                                redsync.withLock("one") {
                                    inside++
                                    yield() // another coroutine of this thread runs now; none may enter
                                    inside shouldBe 1
                                    inside--
                                    turns.incrementAndGet()
                                }
                            }
                        }
                        // Waiters are suspended in lock(), not parked: this coroutine, on the same single
                        // thread, runs again once all 200 have called it, and then releases. (They send nothing
                        // while the holder, of the same instance, holds the lock: one attempt was the holder's.)
                        awaitUntil("all 200 waiters called lock()", 30.seconds) { calling.get() == 200 }
                        counting[0].acquires.get() shouldBe 1
                        turns.get() shouldBe 0
                        holder.release()
                        withTimeout(60.seconds) { waiters.forEach { it.join() } }
                        turns.get() shouldBe 200
                    }
                }
            }
            cluster.keysByNode().forEach { it.shouldBeEmpty() }
        }
    }

    context("cancellation at any point leaves no key behind") {
        // Every node's replies to acquire are held back 15 ms and to release 10 ms, so cancellations at
        // 0..60 ms land before the first command, while acquire replies are in flight, between the grant and
        // the block, inside the block, and while the release is in flight; with a competitor holding the lock
        // half of the time, also while waiting between attempts.
        withData(listOf(0, 1, 2, 3, 5, 8, 12, 15, 17, 20, 25, 30, 40, 50, 60)) { cancelAfterMs ->
            val (java, counting) = cluster.counting(lockOptions {
                nodeTimeout = 2.seconds
                tries = Int.MAX_VALUE
                retryDelay = RetryDelay.constant(ms(3))
            })
            counting.forEach { it.acquireReplyDelayMs = 15; it.releaseReplyDelayMs = 10 }
            java.coroutines().use { redsync ->
                val competitor = if (cancelAfterMs % 2 == 0) redsync.lock("x") else null
                val job = launch {
                    redsync.withLock("x") { delay(20) }
                    redsync.lock("x").use { delay(20) }
                    redsync.tryLock("x")?.use { delay(20) }
                    awaitCancellation()
                }
                launch {
                    delay(cancelAfterMs.toLong() / 2)
                    competitor?.release()
                }
                delay(cancelAfterMs.toLong())
                job.cancel(CancellationException("cancelled after $cancelAfterMs ms"))
                job.join()
                awaitUntil("no key left on any node after a cancellation at $cancelAfterMs ms") {
                    cluster.keysByNode().all { it.isEmpty() }
                }
            }
        }
    }

    context("a scoped lease never blocks") {
        test("use { } releases by suspending: while the release is in flight, another coroutine on the same single thread runs") {
            val (java, counting) = cluster.counting(lockOptions { nodeTimeout = 2.seconds })
            counting.forEach { it.releaseReplyDelayMs = 300 }
            val thread = Executors.newSingleThreadExecutor { r -> Thread(r, "the-only-thread") }.asCoroutineDispatcher()
            java.coroutines().use { redsync ->
                thread.use {
                    withContext(thread) {
                        val ticksDuringRelease = AtomicInteger()
                        val releasing = CompletableDeferred<Unit>()
                        val scoped = async {
                            redsync.lock("scoped").use { releasing.complete(Unit) }
                            "released"
                        }
                        releasing.await()
                        // The release's replies are held back 300 ms; if use { } blocked the thread, this
                        // loop could not run until it was over.
                        while (!scoped.isCompleted) {
                            ticksDuringRelease.incrementAndGet()
                            delay(5)
                        }
                        scoped.await() shouldBe "released"
                        ticksDuringRelease.get() shouldBeGreaterThan 1
                    }
                }
            }
            counting.sumOf { it.releasesAnswered.get() } shouldBe 3
            cluster.keysByNode().forEach { it.shouldBeEmpty() }
        }

        test("use { } releases when the block fails or is cancelled, and rethrows unchanged") {
            facade().use { redsync ->
                val failure = BlockFailure(1)
                shouldThrow<BlockFailure> { redsync.lock("f").use { throw failure } } shouldBeOrRecoveredFrom failure
                cluster.keysByNode().forEach { it.shouldBeEmpty() }
                val entered = CompletableDeferred<Unit>()
                val job = launch { redsync.lock("c").use { entered.complete(Unit); awaitCancellation() } }
                entered.await()
                job.cancel()
                job.join()
                cluster.keysByNode().forEach { it.shouldBeEmpty() }
            }
        }
    }

    context("per-call options start from the instance's defaults (issue 16)") {
        test("options { } and mutex(name) { } keep the instance's expiry and fencing; lockOptions { } does not") {
            facade { expiry = 10.seconds; fencing = true }.use { redsync ->
                redsync.withLock("a", redsync.options { tries = Int.MAX_VALUE }) { lease ->
                    lease.fencingToken.shouldNotBeNull()
                    cluster.redis(0).pttl("a")!! shouldBeGreaterThan 8_000
                    lease.remaining.inWholeMilliseconds shouldBeGreaterThan 8_000
                }
                redsync.mutex("b") { tries = 3 }.withLock { lease ->
                    lease.fencingToken.shouldNotBeNull()
                    cluster.redis(0).pttl("b")!! shouldBeGreaterThan 8_000
                }
                redsync.mutex("b") { tries = 3 }.options.tries() shouldBe 3
                // The library's defaults, as before: 8 s and no token. This is why the README shows options { }.
                redsync.withLock("c", lockOptions { tries = Int.MAX_VALUE }) { lease ->
                    lease.fencingToken.shouldBeNull()
                    cluster.redis(0).pttl("c")!! shouldBeLessThanOrEqual 8_000
                }
            }
        }
    }

    context("the Java views") {
        test("coroutines() on a Java instance and asJava() on the view share one instance and its locks") {
            cluster.redsync().use { java ->
                val view = java.coroutines()
                view.asJava() shouldBe java
                val lease = view.lock("shared")
                java.mutex("shared").tryLock().isPresent shouldBe false
                lease.asJava().value() shouldBe lease.value
                lease.release()
                java.mutex("shared").tryLock().orElseThrow().release()
            }
        }
    }
})
