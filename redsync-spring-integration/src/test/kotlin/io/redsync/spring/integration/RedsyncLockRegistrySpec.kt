package io.redsync.spring.integration

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.longs.shouldBeInRange
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeSameInstanceAs
import io.kotest.matchers.types.shouldNotBeSameInstanceAs
import io.redsync.LockOptions
import io.redsync.Redsync
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.ms
import io.redsync.nodesHolding
import io.redsync.testkit.RedisNodes
import org.springframework.integration.leader.Context
import org.springframework.integration.leader.DefaultCandidate
import org.springframework.integration.support.leader.LockRegistryLeaderInitiator
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource

private fun RedisNodes.pttls(key: String): List<Long> = nodes().filter { it.isRunning }.map { it.call("PTTL", key) as Long }

/** Runs [block] on another thread and returns its result or throws its exception (the registry's locks are thread-owned). */
private fun <T> onOtherThread(block: () -> T): T = try {
    CompletableFuture.supplyAsync(block).get(30, TimeUnit.SECONDS)
} catch (e: java.util.concurrent.ExecutionException) {
    throw e.cause!!
}

/** A leader-election candidate recording its grants and revocations. */
private class RecordingCandidate(id: String) : DefaultCandidate(id, "leader") {
    val events = CopyOnWriteArrayList<String>()
    @Volatile var context: Context? = null
    override fun onGranted(ctx: Context) {
        context = ctx
        events += "granted"
    }
    override fun onRevoked(ctx: Context) {
        events += "revoked"
    }
}

class RedsyncLockRegistrySpec : FunSpec({
    val nodes = RedisNodes.start(3)
    // Two instances: two "processes" over the same nodes.
    val redsyncA = Redsync.create(nodes.uris())
    val redsyncB = Redsync.create(nodes.uris())
    val registry = RedsyncLockRegistry(redsyncA)
    val other = RedsyncLockRegistry(redsyncB)
    afterSpec {
        redsyncA.close()
        redsyncB.close()
        nodes.close()
    }
    beforeEach { nodes.flushAll() }

    test("obtain returns one lock per key; keys must be non-blank Strings") {
        registry.obtain("a") shouldBeSameInstanceAs registry.obtain("a")
        registry.obtain("a") shouldNotBeSameInstanceAs registry.obtain("b")
        shouldThrow<IllegalArgumentException> { registry.obtain(42) }.message shouldContain "non-blank Strings, was java.lang.Integer '42'"
        shouldThrow<IllegalArgumentException> { registry.obtain(" ") }
    }

    test("a held lock is on every node and excludes other processes and other threads; unlock releases it") {
        val lock = registry.obtain("orders")
        lock.tryLock() shouldBe true
        nodes.nodesHolding("lock-registry:orders") shouldContainExactly listOf(0, 1, 2)
        other.obtain("orders").tryLock() shouldBe false
        onOtherThread { registry.obtain("orders").tryLock() } shouldBe false
        shouldThrow<IllegalMonitorStateException> { onOtherThread { lock.unlock() } }
        lock.unlock()
        nodes.nodesHolding("lock-registry:orders").shouldBeEmpty()
        val theirs = other.obtain("orders")
        onOtherThread { theirs.tryLock().also { if (it) theirs.unlock() } } shouldBe true
    }

    test("locally reentrant: each reentrant acquisition renews the lease; only the last unlock releases it") {
        val lock = registry.obtain("reentrant")
        lock.lock()
        registry.renewLock("reentrant", ms(1000))
        nodes.pttls("lock-registry:reentrant").forEach { it shouldBeInRange 1L..1000L }
        lock.tryLock(1, TimeUnit.SECONDS) shouldBe true
        nodes.pttls("lock-registry:reentrant").forEach { it shouldBeInRange 7000L..8000L }
        lock.unlock()
        nodes.nodesHolding("lock-registry:reentrant") shouldContainExactly listOf(0, 1, 2)
        lock.unlock()
        nodes.nodesHolding("lock-registry:reentrant").shouldBeEmpty()
        shouldThrow<IllegalMonitorStateException> { lock.unlock() }.message shouldContain "not held by the current thread"
    }

    test("tryLock(time) waits for another process's release; and gives up when it is held throughout") {
        val mine = registry.obtain("queue")
        mine.lock()
        val waiting = CompletableFuture.supplyAsync {
            val theirs = other.obtain("queue")
            theirs.tryLock(20, TimeUnit.SECONDS).also { if (it) theirs.unlock() }
        }
        val busy = redsyncB.lock("lock-registry:busy") // the other process holds "busy" throughout
        registry.obtain("busy").tryLock(300, TimeUnit.MILLISECONDS) shouldBe false
        busy.release()
        mine.unlock()
        waiting.get(30, TimeUnit.SECONDS) shouldBe true
    }

    test("lock(ttl) and tryLock(wait, ttl) set the lease's time to live") {
        val lock = registry.obtain("ttl")
        lock.lock(ms(3000))
        nodes.pttls("lock-registry:ttl").forEach { it shouldBeInRange 2000L..3000L }
        lock.unlock()
        lock.tryLock(ms(100), ms(4000)) shouldBe true
        nodes.pttls("lock-registry:ttl").forEach { it shouldBeInRange 3000L..4000L }
        lock.unlock()
    }

    test("renewLock needs the lock held by the current thread") {
        shouldThrow<IllegalStateException> { registry.renewLock("nobody") }.message shouldContain "does not hold it"
        val lock = registry.obtain("renew")
        lock.lock()
        shouldThrow<IllegalStateException> { onOtherThread { registry.renewLock("renew") } }
        registry.renewLock("renew")
        nodes.pttls("lock-registry:renew").forEach { it shouldBeInRange 7000L..8000L }
        lock.unlock()
    }

    test("newCondition is unsupported, with the reason") {
        shouldThrow<UnsupportedOperationException> { registry.obtain("c").newCondition() }.message shouldContain
            "release and retake the distributed lock 'lock-registry:c' atomically"
    }

    test("expireUnusedOlderThan drops unlocked locks only") {
        val local = RedsyncLockRegistry(redsyncA, "expiring:", redsyncA.defaults())
        val held = local.obtain("held")
        held.lock()
        val idle = local.obtain("idle")
        local.expireUnusedOlderThan(-1_000)
        local.obtain("held") shouldBeSameInstanceAs held
        local.obtain("idle") shouldNotBeSameInstanceAs idle
        held.unlock()
    }

    test("held locks are kept alive past their expiry while held") {
        val short = RedsyncLockRegistry(redsyncA, "short:", redsyncA.options().expiry(ms(600)).build())
        val lock = short.obtain("job")
        lock.lock()
        val start = TimeSource.Monotonic.markNow()
        awaitUntil("three expiries pass") { start.elapsedNow() > 1.8.seconds }
        nodes.nodesHolding("short:job") shouldContainExactly listOf(0, 1, 2)
        RedsyncLockRegistry(redsyncB, "short:", LockOptions.defaults()).obtain("job").tryLock() shouldBe false
        lock.unlock()
    }

    test("a lost lease voids the holds: a reentrant tryLock answers false and frees the lock; unlock says it was lost") {
        val lock = registry.obtain("lost")
        lock.lock()
        nodes.flushAll() // the keys are gone: the lease can no longer be renewed
        lock.tryLock() shouldBe false
        shouldThrow<IllegalMonitorStateException> { lock.unlock() }
        onOtherThread { registry.obtain("lost").let { l -> l.tryLock().also { if (it) l.unlock() } } } shouldBe true

        lock.lock()
        nodes.flushAll()
        shouldThrow<IllegalStateException> { lock.unlock() }.message shouldContain "was no longer held when unlocked"
        onOtherThread { registry.obtain("lost").let { l -> l.tryLock().also { if (it) l.unlock() } } } shouldBe true
    }

    test("LockRegistryLeaderInitiator: one leader over two processes; stop and yield hand leadership over") {
        val a = RecordingCandidate("a")
        val b = RecordingCandidate("b")
        val initiatorA = LockRegistryLeaderInitiator(registry, a).apply { setHeartBeatMillis(100); setBusyWaitMillis(50) }
        val initiatorB = LockRegistryLeaderInitiator(other, b).apply { setHeartBeatMillis(100); setBusyWaitMillis(50) }
        initiatorA.start()
        awaitUntil("a leads") { initiatorA.context.isLeader }
        initiatorB.start()
        // b keeps trying (tryLock with the heartbeat as wait) and never gets it while a leads and renews.
        val start = TimeSource.Monotonic.markNow()
        awaitUntil("a few heartbeats pass") { start.elapsedNow() > 1.seconds }
        initiatorB.context.isLeader shouldBe false
        b.events.shouldBeEmpty()
        nodes.nodesHolding("lock-registry:leader") shouldContainExactly listOf(0, 1, 2)

        a.context!!.`yield`()
        awaitUntil("b leads after a yields") { initiatorB.context.isLeader }
        awaitUntil("a is revoked") { "revoked" in a.events }

        initiatorB.stop()
        awaitUntil("a leads again after b stops") { initiatorA.context.isLeader }
        b.events shouldContainExactly listOf("granted", "revoked")
        initiatorA.stop()
        awaitUntil("a's lease is released") { nodes.nodesHolding("lock-registry:leader").isEmpty() }
    }
})
