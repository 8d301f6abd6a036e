package io.redsync

import io.redsync.testkit.fixtures.*
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf
import io.kotest.matchers.types.shouldBeSameInstanceAs
import io.redsync.RedsyncListener.AcquireOutcome
import io.redsync.RedsyncListener.NodeOperation
import io.redsync.RedsyncListener.ReleaseOutcome
import io.redsync.testkit.RedisNodes
import java.util.concurrent.CancellationException
import java.util.concurrent.CopyOnWriteArrayList

/** Every event, in order of arrival. */
class Recorder : RedsyncListener {
    val events = CopyOnWriteArrayList<Any>()
    override fun acquireStarted(event: RedsyncListener.AcquireStarted) { events += event }
    override fun acquired(event: RedsyncListener.Acquired) { events += event }
    override fun released(event: RedsyncListener.Released) { events += event }
    override fun extended(event: RedsyncListener.Extended) { events += event }
    override fun leaseLost(event: RedsyncListener.LeaseLost) { events += event }
    override fun nodeCall(event: RedsyncListener.NodeCall) { events += event }

    inline fun <reified T> all(): List<T> = events.filterIsInstance<T>()
    fun calls(operation: NodeOperation) = all<RedsyncListener.NodeCall>().filter { it.operation() == operation }
}

class ListenerSpec : FunSpec({
    val nodes = RedisNodes.start(3)
    afterSpec { nodes.close() }
    beforeEach { nodes.heal() }

    fun redsync(vararg listeners: RedsyncListener, defaults: LockOptions = LockOptions.defaults()): Redsync =
        Redsync.builder().uris(nodes.uris()).defaults(defaults).apply { listeners.forEach { listener(it) } }.build()

    test("an uncontended lock and release: started, granted after one attempt, released with its hold time, one command per node each") {
        val recorder = Recorder()
        redsync(recorder).use { redsync ->
            redsync.awaitConnected(java.time.Duration.ofSeconds(10)) shouldBe true
            val before = System.nanoTime()
            val lease = redsync.lock("invoice:1")
            lease.release()
            awaitUntil("the release is reported") { recorder.all<RedsyncListener.Released>().isNotEmpty() }

            val started = recorder.all<RedsyncListener.AcquireStarted>().single()
            started.lockName() shouldBe "invoice:1"
            val acquired = recorder.all<RedsyncListener.Acquired>().single()
            acquired.callId() shouldBe started.callId()
            acquired.outcome() shouldBe AcquireOutcome.GRANTED
            acquired.attempts() shouldBe 1
            acquired.lease() shouldBeSameInstanceAs lease
            acquired.failure() shouldBe null
            acquired.waitNanos() shouldBeGreaterThan 0L
            val released = recorder.all<RedsyncListener.Released>().single()
            released.lease() shouldBeSameInstanceAs lease
            released.outcome() shouldBe ReleaseOutcome.RELEASED
            (released.heldNanos() <= System.nanoTime() - before - acquired.waitNanos()) shouldBe true
            released.heldNanos() shouldBeGreaterThan 0L
            // Order: the start, then the grant before the caller could release, then the release.
            (recorder.events.indexOf(started) < recorder.events.indexOf(acquired)) shouldBe true
            (recorder.events.indexOf(acquired) < recorder.events.indexOf(released)) shouldBe true
            recorder.calls(NodeOperation.CONNECT).map { it.nodeIndex() }.sorted() shouldContainExactly listOf(0, 1, 2)
            awaitUntil("every node's release is reported") { recorder.calls(NodeOperation.RELEASE).size == 3 }
            for (op in listOf(NodeOperation.ACQUIRE, NodeOperation.RELEASE)) {
                val calls = recorder.calls(op)
                calls.map { it.nodeIndex() }.sorted() shouldContainExactly listOf(0, 1, 2)
                calls.forEach {
                    it.succeeded() shouldBe true
                    it.reason() shouldBe null
                    it.address() shouldBe nodes.node(it.nodeIndex()).uri().removePrefix("redis://")
                }
            }
        }
    }

    test("a held lock: tryLock is busy, a waiting lock call cancelled is cancelled; neither reports a grant") {
        val recorder = Recorder()
        redsync(recorder).use { redsync ->
            val lease = redsync.lock("busy")
            redsync.mutex("busy").tryLock().isPresent shouldBe false
            val waiting = redsync.lockAsync("busy", fastRetryBuilder().build())
            awaitUntil("the waiter made two attempts") { recorder.calls(NodeOperation.ACQUIRE).size >= 3 + 3 + 6 }
            waiting.cancel(true)
            awaitUntil("the cancellation is reported") { recorder.all<RedsyncListener.Acquired>().size == 3 }
            lease.release()

            val outcomes = recorder.all<RedsyncListener.Acquired>()
            outcomes.map { it.outcome() } shouldContainExactly listOf(AcquireOutcome.GRANTED, AcquireOutcome.BUSY, AcquireOutcome.CANCELLED)
            outcomes[1].attempts() shouldBe 1
            outcomes[1].failure().shouldBeInstanceOf<LockTakenException>()
            outcomes[1].lease() shouldBe null
            (outcomes[2].attempts() >= 2) shouldBe true
            outcomes[2].failure().shouldBeInstanceOf<CancellationException>()
            recorder.all<RedsyncListener.AcquireStarted>().map { it.callId() } shouldContainExactly outcomes.map { it.callId() }
        }
    }

    test("a kept-alive lease whose keys are deleted: extended first, then lost as REFUSED, and its release reports it gone") {
        val recorder = Recorder()
        redsync(recorder).use { redsync ->
            val lease = redsync.lock("kept", LockOptions.builder().expiry(ms(600)).build()).keepAlive()
            awaitUntil("an extension is reported") { recorder.all<RedsyncListener.Extended>().isNotEmpty() }
            recorder.all<RedsyncListener.Extended>().first().outcome() shouldBe RedsyncListener.ExtendOutcome.EXTENDED
            nodes.nodes().forEach { it.call("DEL", "kept") }
            awaitUntil("the loss is reported") { recorder.all<RedsyncListener.LeaseLost>().isNotEmpty() }
            val lost = recorder.all<RedsyncListener.LeaseLost>().single()
            lost.lease() shouldBeSameInstanceAs lease
            lost.reason() shouldBe LeaseLostException.Reason.REFUSED
            lost.loss().reason() shouldBe LeaseLostException.Reason.REFUSED
            lost.heldNanos() shouldBeGreaterThan 0L
            shouldThrow<LeaseExpiredException> { lease.release() }
            awaitUntil("the release is reported") { recorder.all<RedsyncListener.Released>().isNotEmpty() }
            recorder.all<RedsyncListener.Released>().single().outcome() shouldBe ReleaseOutcome.EXPIRED
        }
    }

    test("a stopped node: its commands are reported failed as UNREACHABLE, the lock is still granted by the other two") {
        val recorder = Recorder()
        redsync(recorder).use { redsync ->
            redsync.awaitConnected(java.time.Duration.ofSeconds(10)) shouldBe true
            nodes.node(2).stop()
            redsync.lock("degraded").release()
            awaitUntil("node 2's failures are reported") {
                recorder.all<RedsyncListener.NodeCall>().any { it.nodeIndex() == 2 && !it.succeeded() }
            }
            recorder.all<RedsyncListener.Acquired>().single().outcome() shouldBe AcquireOutcome.GRANTED
            val failed = recorder.all<RedsyncListener.NodeCall>().filter { !it.succeeded() }
            failed.map { it.nodeIndex() }.toSet() shouldBe setOf(2)
            io.kotest.assertions.withClue(failed.map { "${it.operation()}: ${it.failure()}" }) {
                failed.map { it.reason() } shouldContain NodeException.Reason.UNREACHABLE
            }
            recorder.calls(NodeOperation.ACQUIRE).filter { it.nodeIndex() != 2 }.forEach { it.succeeded() shouldBe true }
        }
    }

    test("a listener that throws never breaks a lock call, and the listeners after it are still told") {
        val thrower = object : RedsyncListener {
            var calls = 0
            override fun acquireStarted(event: RedsyncListener.AcquireStarted) { calls++; error("boom") }
            override fun acquired(event: RedsyncListener.Acquired) { calls++; error("boom") }
            override fun released(event: RedsyncListener.Released) { calls++; error("boom") }
            override fun nodeCall(event: RedsyncListener.NodeCall): Unit = error("boom")
        }
        val recorder = Recorder()
        redsync(thrower, recorder).use { redsync ->
            val lease = redsync.lock("sturdy")
            lease.isValid shouldBe true
            lease.extend()
            lease.release()
            redsync.mutex("sturdy").tryLock().orElseThrow().release()
            awaitUntil("both releases are reported") { recorder.all<RedsyncListener.Released>().size == 2 }
            thrower.calls shouldBe 6
            recorder.all<RedsyncListener.Acquired>().map { it.outcome() } shouldContainExactly
                listOf(AcquireOutcome.GRANTED, AcquireOutcome.GRANTED)
            recorder.all<RedsyncListener.Extended>().single().outcome() shouldBe RedsyncListener.ExtendOutcome.EXTENDED
            nodes.keysByNode().forEach { it.shouldBeEmpty() }
        }
    }

    test("NodeException.Reason.of classifies a failure as NodeException does") {
        NodeException.Reason.of(java.net.ConnectException("Connection refused")) shouldBe NodeException.Reason.UNREACHABLE
        NodeException.Reason.of(RuntimeException("NOPERM this user has no permissions")) shouldBe NodeException.Reason.PERMISSION
        NodeException.Reason.of(IllegalStateException("whatever")) shouldBe NodeException.Reason.OTHER
    }
})
