package io.redsync.micrometer

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThanOrEqual
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.longs.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.micrometer.core.instrument.Tags
import io.micrometer.core.instrument.simple.SimpleMeterRegistry
import io.redsync.LeaseExpiredException
import io.redsync.LockOptions
import io.redsync.RedsyncListener
import io.redsync.testkit.RedisNodes
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit

class MetricsSpec : FunSpec({
    val nodes = RedisNodes.start(3)
    afterSpec { nodes.close() }
    beforeEach {
        nodes.nodes().forEach { if (!it.isRunning) it.restart() }
        nodes.flushAll()
    }

    test("uncontended: each lock call is one granted acquire of one attempt, one released hold, and one acquire and release per node") {
        val registry = SimpleMeterRegistry()
        nodes.redsync(RedsyncMetrics(registry)).use { redsync ->
            redsync.awaitConnected(Duration.ofSeconds(10)) shouldBe true
            repeat(5) {
                val lease = redsync.lock("invoice:$it")
                registry.gaugeValue("redsync.lease.active") shouldBe 1.0
                lease.release()
            }
            awaitUntil("every release is reported") { registry.timerCount("redsync.lock.held", "outcome", "released") == 5L }
            awaitUntil("every node's release is reported") { registry.timerCount("redsync.node.calls", "operation", "release") == 15L }

            registry.timerCount("redsync.lock.acquire", "outcome", "granted") shouldBe 5L
            registry.timerCount("redsync.lock.acquire") shouldBe 5L
            val attempts = registry.get("redsync.lock.attempts").tag("outcome", "granted").summary()
            attempts.count() shouldBe 5L
            attempts.totalAmount() shouldBe 5.0
            registry.gaugeValue("redsync.lock.waiters") shouldBe 0.0
            registry.gaugeValue("redsync.lease.active") shouldBe 0.0
            registry.counterValue("redsync.lease.lost") shouldBe 0.0
            for (node in nodes.nodes()) {
                val address = node.uri().removePrefix("redis://")
                registry.timerCount("redsync.node.calls", "node", address, "operation", "acquire", "outcome", "success", "reason", "none") shouldBe 5L
                registry.timerCount("redsync.node.calls", "node", address, "operation", "release", "outcome", "success") shouldBe 5L
                registry.timerCount("redsync.node.calls", "node", address, "outcome", "error") shouldBe 0L
            }
            // No lock tag by default: the names do not reach the registry.
            registry.meters.none { m -> m.id.tags.any { it.key == "lock" } } shouldBe true
        }
    }

    test("contention: a waiter shows in the waiters gauge, a busy tryLock and a waiter's several attempts are counted") {
        val registry = SimpleMeterRegistry()
        nodes.redsync(RedsyncMetrics(registry)).use { redsync ->
            val lease = redsync.lock("report")
            redsync.mutex("report").tryLock().isPresent shouldBe false
            val waiting = redsync.lockAsync("report", fastRetry())
            awaitUntil("the waiter is counted and has retried") {
                registry.gaugeValue("redsync.lock.waiters") == 1.0 &&
                    registry.timerCount("redsync.node.calls", "operation", "acquire") >= 3L * 4
            }
            lease.release()
            waiting.get(10, TimeUnit.SECONDS).release()
            awaitUntil("both holds ended") { registry.timerCount("redsync.lock.held", "outcome", "released") == 2L }

            registry.timerCount("redsync.lock.acquire", "outcome", "granted") shouldBe 2L
            registry.timerCount("redsync.lock.acquire", "outcome", "busy") shouldBe 1L
            registry.get("redsync.lock.attempts").tag("outcome", "busy").summary().totalAmount() shouldBe 1.0
            val granted = registry.get("redsync.lock.attempts").tag("outcome", "granted").summary()
            granted.count() shouldBe 2L
            granted.max() shouldBeGreaterThanOrEqual 2.0
            registry.get("redsync.lock.acquire").tag("outcome", "granted").timer().max(TimeUnit.NANOSECONDS) shouldBeGreaterThanOrEqual
                registry.get("redsync.lock.acquire").tag("outcome", "busy").timer().max(TimeUnit.NANOSECONDS)
            registry.gaugeValue("redsync.lock.waiters") shouldBe 0.0
            registry.gaugeValue("redsync.lease.active") shouldBe 0.0
        }
    }

    test("a lost lease: extensions counted, then one loss as refused, its hold ended as lost, no lease active") {
        val registry = SimpleMeterRegistry()
        nodes.redsync(RedsyncMetrics(registry)).use { redsync ->
            val lease = redsync.lock("kept", LockOptions.builder().expiry(Duration.ofMillis(600)).build()).keepAlive()
            awaitUntil("an extension is counted") { registry.timerCount("redsync.lease.extend", "outcome", "extended") >= 1L }
            nodes.nodes().forEach { it.call("DEL", "kept") }
            awaitUntil("the loss is counted") { registry.counterValue("redsync.lease.lost", "reason", "refused") == 1.0 }
            shouldThrow<LeaseExpiredException> { lease.release() }

            registry.counterValue("redsync.lease.lost") shouldBe 1.0
            registry.timerCount("redsync.lock.held", "outcome", "lost") shouldBe 1L
            registry.timerCount("redsync.lock.held") shouldBe 1L // the release after the loss ends nothing twice
            registry.gaugeValue("redsync.lease.active") shouldBe 0.0
        }
    }

    test("a node failure: its commands are errors tagged unreachable under its address; the others' succeed and the lock is granted") {
        val registry = SimpleMeterRegistry()
        nodes.redsync(RedsyncMetrics(registry)).use { redsync ->
            redsync.awaitConnected(Duration.ofSeconds(10)) shouldBe true
            nodes.node(2).stop()
            redsync.lock("degraded").release()
            val down = nodes.node(2).uri().removePrefix("redis://")
            awaitUntil("node 2's failed release is counted") {
                registry.timerCount("redsync.node.calls", "node", down, "operation", "release", "outcome", "error") == 1L
            }
            registry.timerCount("redsync.node.calls", "node", down, "operation", "acquire", "outcome", "error", "reason", "unreachable") shouldBe 1L
            registry.timerCount("redsync.node.calls", "node", down, "outcome", "success") shouldBe 1L // its connect, before the stop
            registry.timerCount("redsync.node.calls", "outcome", "error") shouldBe 2L
            registry.timerCount("redsync.node.calls", "operation", "acquire", "outcome", "success") shouldBe 2L
            registry.timerCount("redsync.lock.acquire", "outcome", "granted") shouldBe 1L
        }
    }

    test("a cancelled wait is counted as cancelled, not failed, and leaves no waiter") {
        val registry = SimpleMeterRegistry()
        nodes.redsync(RedsyncMetrics(registry)).use { redsync ->
            val lease = redsync.lock("cancel")
            val waiting = redsync.lockAsync("cancel", fastRetry())
            awaitUntil("the waiter is counted") { registry.gaugeValue("redsync.lock.waiters") == 1.0 }
            waiting.cancel(true)
            awaitUntil("the cancellation is counted") { registry.timerCount("redsync.lock.acquire", "outcome", "cancelled") == 1L }
            lease.release()
            registry.timerCount("redsync.lock.acquire", "outcome", "failed") shouldBe 0L
            registry.gaugeValue("redsync.lock.waiters") shouldBe 0.0
            registry.get("redsync.lock.attempts").tag("outcome", "cancelled").summary().totalAmount() shouldBeGreaterThanOrEqual 1.0
        }
    }

    test("10,000 distinct lock names: no lock tag by default, one per prefix, and at most maxLockTags plus 'other' with a per-name mapping") {
        val none = SimpleMeterRegistry()
        val byPrefix = SimpleMeterRegistry()
        val perName = SimpleMeterRegistry()
        val released = CompletableFuture<Unit>()
        val releases = java.util.concurrent.atomic.AtomicInteger()
        val counter = object : RedsyncListener {
            override fun released(event: RedsyncListener.Released) {
                if (releases.incrementAndGet() == 10_000) released.complete(Unit)
            }
        }
        nodes.redsync(
            RedsyncMetrics(none),
            RedsyncMetrics.builder(byPrefix).lockNameTag(LockNameTag.prefix(":")).build(),
            RedsyncMetrics.builder(perName).lockNameTag(LockNameTag.of { it }).maxLockTags(50).build(),
            counter,
        ).use { redsync ->
            val names = (0 until 10_000).map { i -> (if (i % 2 == 0) "invoice:" else "order:") + i }
            // 100 at a time: each name once, all released.
            for (batch in names.chunked(100)) {
                val leases = batch.map { redsync.lockAsync(it) }
                CompletableFuture.allOf(*leases.toTypedArray()).get(60, TimeUnit.SECONDS)
                CompletableFuture.allOf(*leases.map { it.join().releaseAsync() }.toTypedArray()).get(60, TimeUnit.SECONDS)
            }
            released.get(30, TimeUnit.SECONDS)
        }
        fun lockTags(registry: SimpleMeterRegistry) = registry.meters.mapNotNull { it.id.getTag("lock") }.toSet()

        lockTags(none) shouldBe emptySet()
        none.timerCount("redsync.lock.acquire", "outcome", "granted") shouldBe 10_000L
        lockTags(byPrefix) shouldBe setOf("invoice", "order")
        byPrefix.timerCount("redsync.lock.acquire", "lock", "invoice") shouldBe 5_000L
        lockTags(perName).size shouldBe 51
        lockTags(perName).contains(LockNameTag.OTHER) shouldBe true
        perName.timerCount("redsync.lock.acquire", "lock", LockNameTag.OTHER) shouldBe 10_000L - 50
        // Meters grow with nodes, operations and outcomes, not with names.
        none.meters.size shouldBeLessThanOrEqual 60
        byPrefix.meters.size shouldBeLessThanOrEqual 60 + 2 * 12
        perName.meters.size shouldBeLessThanOrEqual 60 + 51 * 12
    }

    test("common tags go on every meter, and a throwing mapping tags 'other' instead of breaking the lock call") {
        val registry = SimpleMeterRegistry()
        val metrics = RedsyncMetrics.builder(registry).tags(Tags.of("redsync", "billing"))
            .lockNameTag(LockNameTag.of { error("mapping bug") }).build()
        nodes.redsync(metrics).use { redsync ->
            redsync.lock("a").release()
            awaitUntil("the hold ended") { registry.timerCount("redsync.lock.held") == 1L }
            registry.meters.all { it.id.getTag("redsync") == "billing" } shouldBe true
            registry.timerCount("redsync.lock.acquire", "lock", "other", "outcome", "granted") shouldBe 1L
        }
    }

    test("bad options are refused with the fix") {
        shouldThrow<IllegalArgumentException> { RedsyncMetrics.builder(SimpleMeterRegistry()).maxLockTags(0) }
            .message shouldBe "maxLockTags must be >= 1, was 0; use LockNameTag.none() for no lock tag"
        shouldThrow<IllegalArgumentException> { LockNameTag.prefix("") }.message shouldBe
            "separator must not be empty; e.g. LockNameTag.prefix(\":\") tags invoice:42 as invoice"
    }
})
