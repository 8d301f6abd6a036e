package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.ints.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.lang.management.ManagementFactory
import java.time.Duration
import java.util.Collections
import java.util.concurrent.CancellationException
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicReference

class RetryAndCancelSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    /** Another owner holds [name]; the counters start after it, so they count only our attempts. */
    fun occupy(name: String) = nodes.nodes().forEach {
        it.call("SET", name, "holder", "PX", "60000")
        it.call("CONFIG", "RESETSTAT")
    }
    fun attemptsSeen() = nodes.node(0).lockCommands()

    test("tries(1) makes exactly one attempt (no retry)") {
        occupy("busy")
        nodes.redsync().use { redsync ->
            shouldThrow<LockTakenException> { redsync.lock("busy", LockOptions.builder().tries(1).build()) }.attempts() shouldBe 1
            attemptsSeen() shouldBe 1
        }
    }

    test("tries(n) makes exactly n attempts, calling the delay function between them with 1..n-1") {
        occupy("busy")
        val asked = Collections.synchronizedList(mutableListOf<Int>())
        nodes.redsync().use { redsync ->
            // Polling only: attempts woken by announcements would come on top (they do not count as tries).
            val options = LockOptions.builder().tries(5).retryDelay { asked.add(it); Duration.ofMillis(2) }
                .releaseNotifications(false).build()
            shouldThrow<LockTakenException> { redsync.lock("busy", options) }.attempts() shouldBe 5
            attemptsSeen() shouldBe 5
            asked shouldContainExactly listOf(1, 2, 3, 4)
        }
    }

    test("acquireTimeout bounds the whole call and says so") {
        occupy("busy")
        nodes.redsync().use { redsync ->
            // Pure polling: a release announcement could add an early attempt.
            val options = LockOptions.builder().tries(Int.MAX_VALUE).retryDelay(RetryDelay.constant(ms(100)))
                .acquireTimeout(ms(350)).releaseNotifications(false).build()
            val e = shouldThrow<LockTakenException> { redsync.lock("busy", options) }
            e.message!! shouldContain "within the acquire timeout of PT0.35S"
            // Attempts at about 0, 100, 200 and 300 ms; the next delay would end past the budget.
            e.attempts() shouldBeLessThanOrEqual 4
            attemptsSeen() shouldBe e.attempts().toLong()
        }
    }

    test("a retry delay function returning a negative value fails the call clearly and leaves no keys") {
        nodes.node(0).call("SET", "neg", "holder", "PX", "60000")
        nodes.node(1).call("SET", "neg", "holder", "PX", "60000")
        nodes.redsync().use { redsync ->
            val e = shouldThrow<IllegalStateException> {
                redsync.lock("neg", LockOptions.builder().tries(3).retryDelay { Duration.ofMillis(-1) }.build())
            }
            e.message!! shouldContain "retryDelay returned PT-0.001S for attempt 1"
            nodes.node(2).keys().shouldBeEmpty()
        }
    }

    test("the lock is acquired as soon as the holder releases, on a later try") {
        // The holder is another instance: a waiter of the holder's own instance sends nothing while it holds
        // (LocalTurnSpec).
        nodes.redsync().use { other ->
            nodes.redsync().use { redsync ->
                val holder = other.lock("handover")
                val waiter = redsync.lockAsync("handover", LockOptions.builder().retryDelay(RetryDelay.constant(ms(5))).tries(10_000).build())
                awaitUntil("waiter retried a few times") { attemptsSeen() >= 4 }
                waiter.isDone shouldBe false
                holder.close()
                val lease = waiter.get(10, TimeUnit.SECONDS)
                nodes.node(0).call("GET", "handover") shouldBe lease.value()
                lease.close()
            }
        }
    }

    test("cancelling lockAsync while waiting stops retries at once and reports cancellation") {
        occupy("busy")
        nodes.redsync().use { redsync ->
            // Polling: a waiter subscribed to announcements sends nothing while the lock stays held (issue 18).
            val future = redsync.lockAsync("busy", LockOptions.builder().retryDelay(RetryDelay.constant(ms(20))).tries(10_000)
                .releaseNotifications(false).build())
            awaitUntil("a few attempts") { attemptsSeen() >= 3 }
            future.cancel(true) shouldBe true
            shouldThrow<CancellationException> { future.get() }
            // A round trip on another lock lets a command already in flight land before we count.
            redsync.mutex("probe").lock().close()
            val after = attemptsSeen()
            // Five retry delays' worth of time passes; no further attempt may start.
            CompletableFuture.runAsync({}, CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS)).get()
            attemptsSeen() shouldBe after
            nodes.nodes().forEach { it.call("GET", "busy") shouldBe "holder" }
        }
    }

    test("cancelling during an attempt releases what it acquired without waiting for the slow node") {
        // Node 2 is paused, so the attempt waits up to the 20 s node timeout; nodes 0 and 1 granted.
        val options = LockOptions.builder().expiry(Duration.ofSeconds(60)).nodeTimeout(Duration.ofSeconds(20)).build()
        nodes.redsync().use { redsync ->
            nodes.node(2).pause()
            val future = redsync.lockAsync("partial", options)
            awaitUntil("granted on nodes 0 and 1") { nodes.nodesHolding("partial") == listOf(0, 1) }
            future.cancel(true)
            awaitUntil("partial holds released well before the node timeout", timeout = kotlin.time.Duration.parse("5s")) {
                nodes.nodesHolding("partial").isEmpty()
            }
            nodes.node(2).resume()
            awaitUntil("the paused node ran acquire then release") { nodes.node(2).keys().isEmpty() && nodes.node(2).lockCommands() >= 2 }
            nodes.keysByNode().forEach { it.shouldBeEmpty() }
        }
    }

    test("interrupting a blocking lock() throws InterruptedException, not 'failed', and releases partial holds") {
        // The cleanup of paused node 2 is bounded by the 2 s node timeout; the interrupt lands well before.
        val options = LockOptions.builder().expiry(Duration.ofSeconds(60)).nodeTimeout(Duration.ofSeconds(2)).build()
        nodes.redsync().use { redsync ->
            nodes.node(0).call("SET", "intr", "holder", "PX", "60000")
            nodes.node(2).pause()
            val thrown = AtomicReference<Throwable>()
            val t = Thread {
                try { redsync.lock("intr", options).close() } catch (e: Throwable) { thrown.set(e) }
            }
            t.start()
            awaitUntil("node 1 granted") { nodes.nodesHolding("intr") == listOf(0, 1) }
            t.interrupt()
            t.join(10_000)
            t.isAlive shouldBe false
            thrown.get().shouldBeInstanceOf<InterruptedException>()
            // Returned only after node 1's key was released.
            nodes.node(1).keys().shouldBeEmpty()
            nodes.node(0).call("GET", "intr") shouldBe "holder"
            nodes.node(2).resume()
            awaitUntil("paused node clean") { nodes.node(2).keys().isEmpty() }
        }
    }

    test("interrupting while waiting between attempts stops at once") {
        occupy("busy")
        nodes.redsync().use { redsync ->
            val thrown = AtomicReference<Throwable>()
            val t = Thread {
                try { redsync.lock("busy", LockOptions.builder().retryDelay(RetryDelay.constant(Duration.ofSeconds(30))).build()) } catch (e: Throwable) { thrown.set(e) }
            }
            t.start()
            awaitUntil("first attempt made") { attemptsSeen() >= 1 }
            t.interrupt()
            t.join(10_000)
            t.isAlive shouldBe false // well before the 30 s delay
            thrown.get().shouldBeInstanceOf<InterruptedException>()
            // An attempt in flight at the interrupt may still land (with its cleanup); then nothing more.
            CompletableFuture.runAsync({}, CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS)).get()
            val after = attemptsSeen()
            CompletableFuture.runAsync({}, CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS)).get()
            attemptsSeen() shouldBe after // no attempt after the interrupt
        }
    }

    test("1,000 concurrent waiting lock calls park no thread and create none per call") {
        occupy("crowded")
        nodes.redsync().use { redsync ->
            redsync.mutex("warm-up").lock().close()
            val threads = ManagementFactory.getThreadMXBean()
            val before = threads.threadCount
            // Polling, so every caller keeps sending (subscribed waiters send nothing while the lock stays held).
            val options = LockOptions.builder().retryDelay(RetryDelay.uniform(ms(5), ms(50))).tries(Int.MAX_VALUE)
                .releaseNotifications(false).build()
            val waiting = (1..1000).map { redsync.lockAsync("crowded", options) }
            awaitUntil("every caller has retried") { attemptsSeen() >= 3000 }
            waiting.none { it.isDone } shouldBe true
            (threads.threadCount - before) shouldBeLessThan 8
            waiting.forEach { it.cancel(false) }
            nodes.nodes().forEach { it.call("GET", "crowded") shouldBe "holder" }
        }
    }

    test("a Redsync closed while calls wait fails them instead of leaving them hanging") {
        occupy("busy")
        val redsync = nodes.redsync()
        val waiting = redsync.lockAsync("busy", LockOptions.builder().tries(Int.MAX_VALUE).build())
        awaitUntil("first attempt made") { attemptsSeen() >= 1 }
        redsync.close()
        val e = shouldThrow<java.util.concurrent.ExecutionException> { waiting.get(10, TimeUnit.SECONDS) }
        e.cause!!.message!! shouldContain "closed"
        redsync.close() // idempotent
        shouldThrow<IllegalStateException> { redsync.mutex("x") }
    }

    test("retried attempts reuse one value per lock call") {
        nodes.node(0).call("SET", "same", "holder", "PX", "60000")
        nodes.node(1).call("SET", "same", "holder", "PX", "60000")
        nodes.redsync().use { redsync ->
            val generated = Collections.synchronizedList(mutableListOf<String>())
            // Polling, so every try is sent (subscribed, tries due while the lock stays held are not).
            val options = LockOptions.builder().tries(4).retryDelay(RetryDelay.constant(ms(1))).releaseNotifications(false)
                .valueGenerator { "v" + System.nanoTime().also { generated.add(it.toString()) } }.build()
            shouldThrow<LockTakenException> { redsync.lock("same", options) }
            generated.size shouldBe 1
            (attemptsSeen()) shouldBeGreaterThan 3L
        }
    }
})
