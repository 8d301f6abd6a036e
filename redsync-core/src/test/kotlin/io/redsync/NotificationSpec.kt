package io.redsync

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.redsync.lettuce.LettuceNode
import io.redsync.testkit.RedisNode
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import kotlin.time.Duration.Companion.seconds

/** Release announcements: waiters wake on release instead of sleeping out their retry delay. */
class NotificationSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    // A retry delay no test could sit out: a waiter that acquires within seconds was woken.
    fun patient() = LockOptions.builder().retryDelay(RetryDelay.constant(Duration.ofSeconds(60))).tries(10)
    val long = LockOptions.builder().expiry(Duration.ofSeconds(60)).build()

    fun RedisNode.subscribers(key: String): Long =
        ((call("PUBSUB", "NUMSUB", LettuceNode.channelOf(key)) as List<*>)[1] as Long)

    /** The first of [futures] to complete (polled: they complete on other threads). */
    suspend fun awaitAny(futures: List<IndexedValue<CompletableFuture<Lease>>>): IndexedValue<CompletableFuture<Lease>> {
        var done: IndexedValue<CompletableFuture<Lease>>? = null
        awaitUntil("one of ${futures.size} waiters acquired") { done = futures.firstOrNull { it.value.isDone }; done != null }
        return done!!
    }

    fun RedisNode.pubsubClients(): Int = (call("CLIENT", "LIST", "TYPE", "pubsub") as String).lines().count { it.contains("addr=") }

    test("a waiter wakes when the holder releases, long before its retry delay") {
        nodes.redsync().use { redsync ->
            val holder = redsync.lock("handoff", long)
            val waiter = redsync.lockAsync("handoff", patient().build())
            awaitUntil("waiter subscribed on every node") { nodes.nodes().all { it.subscribers("handoff") == 1L } }
            waiter.isDone shouldBe false
            holder.close()
            val lease = waiter.get(10, TimeUnit.SECONDS)
            lease.isValid shouldBe true
            lease.close()
            // The lock call is over: its channel is unsubscribed everywhere.
            awaitUntil("unsubscribed") { nodes.nodes().all { it.subscribers("handoff") == 0L } }
        }
    }

    test("wake-ups do not cost tries: announcements while the lock stays held leave the waiter waiting") {
        nodes.nodes().forEach { it.call("SET", "busy", "someone-else", "PX", "60000") }
        nodes.redsync().use { redsync ->
            val waiter = redsync.lockAsync("busy", patient().tries(2).build())
            awaitUntil("waiter subscribed") { nodes.nodes().all { it.subscribers("busy") == 1L } }
            repeat(10) { i ->
                val before = nodes.node(0).lockCommands()
                nodes.node(0).call("PUBLISH", LettuceNode.channelOf("busy"), "not-ours-$i")
                awaitUntil("woken attempt ${i + 1}") { nodes.node(0).lockCommands() > before }
            }
            // Ten woken attempts, all refused; with only 2 tries, counting them would have failed the call.
            waiter.isDone shouldBe false
            nodes.nodes().forEach { it.call("DEL", "busy") }
            nodes.node(0).call("PUBLISH", LettuceNode.channelOf("busy"), "released")
            waiter.get(10, TimeUnit.SECONDS).close()
        }
    }

    test("with notifications off the same waiter keeps polling") {
        nodes.redsync().use { redsync ->
            val holder = redsync.lock("polled", long)
            val waiter = redsync.lockAsync("polled", patient().releaseNotifications(false).build())
            awaitUntil("first attempt made") { nodes.node(0).lockCommands() >= 2 } // the holder's and the waiter's
            holder.close()
            // Its 60 s delay has not passed, and nothing wakes it.
            CompletableFuture.runAsync({}, CompletableFuture.delayedExecutor(500, TimeUnit.MILLISECONDS)).get()
            waiter.isDone shouldBe false
            nodes.nodes().all { it.subscribers("polled") == 0L } shouldBe true
            waiter.cancel(false)
        }
    }

    test("a waiter never sleeps past the holder's TTL, announced or not") {
        nodes.redsync().use { redsync ->
            redsync.lock("expiring", LockOptions.builder().expiry(ms(400)).build()) // never released
            val waiter = redsync.lockAsync("expiring", patient().releaseNotifications(false).build())
            waiter.get(10, TimeUnit.SECONDS).close()
        }
    }

    test("with the subscription connections killed mid-wait, the waiter still acquires after the holder's TTL") {
        nodes.redsync().use { redsync ->
            redsync.lock("cut-off", LockOptions.builder().expiry(ms(1500)).build()) // never released
            val waiter = redsync.lockAsync("cut-off", patient().build())
            awaitUntil("waiter subscribed") { nodes.nodes().all { it.subscribers("cut-off") == 1L } }
            nodes.nodes().forEach { it.call("CLIENT", "KILL", "TYPE", "pubsub") }
            waiter.get(10, TimeUnit.SECONDS).close()
        }
    }

    test("one subscription connection per node and one subscription per channel, however many waiters") {
        nodes.redsync().use { redsync ->
            val holders = listOf("a", "b").map { redsync.lock(it, long) }
            // Whichever waiter wins releases at once, waking the next one.
            val waiters = listOf("a", "a", "a", "b", "b").map { name ->
                redsync.lockAsync(name, patient().build()).thenCompose { it.releaseAsync() }
            }
            awaitUntil("subscribed") { nodes.nodes().all { it.subscribers("a") == 1L && it.subscribers("b") == 1L } }
            nodes.nodes().forEach { it.pubsubClients() shouldBe 1 }
            holders.forEach { it.close() }
            // Each release wakes the waiters of its lock; they take turns as each one releases.
            waiters.forEach { it.get(10, TimeUnit.SECONDS) }
            awaitUntil("all channels unsubscribed") { nodes.nodes().all { it.subscribers("a") == 0L && it.subscribers("b") == 0L } }
        }
    }

    test("woken waiters do not split the nodes between them: each release is won outright, without cleanup") {
        // Seven waiters of one instance, woken only by announcements (their retry delay is a minute). A release
        // reaches them from three nodes; before they were woken once per release, in one order, several woken
        // on different I/O threads raced, each took a node or two, nobody had a quorum, and the losers had to
        // release what they took: extra release scripts beyond the eight real releases counted here.
        // The first holder is another instance, so the first release reaches the waiters only as announcements.
        nodes.redsync().use { other -> nodes.redsync().use { redsync ->
            val holder = other.lock("herd", long)
            val options = patient().tries(1_000).expiry(Duration.ofSeconds(60)).build()
            val waiters = List(7) { redsync.lockAsync("herd", options) }
            // The first waiter sends its attempt, finds the lock taken, and looks (GET) once the shared subscription
            // is active. Its siblings wait while that attempt is in flight, then while the other instance holds the
            // lock, as that waiter does (LocalTurnSpec): at most one attempt each, none beyond.
            awaitUntil("the first waiter looked", 60.seconds) { nodes.nodes().all { it.commandCalls("get") >= 1L } }
            nodes.nodes().forEach { it.commandCalls("set") shouldBeLessThanOrEqual 8L }
            nodes.nodes().forEach { it.call("CONFIG", "RESETSTAT") }
            var lease: Lease = holder
            val order = mutableListOf<Int>()
            repeat(7) {
                lease.close()
                val next = awaitAny(waiters.withIndex().filter { it.index !in order })
                order += next.index
                lease = next.value.get()
            }
            lease.close()
            nodes.nodes().forEach { it.scriptCalls() shouldBe 8L } // 8 releases; no cleanup after a split vote
            order.sorted() shouldBe (0 until 7).toList()
        } }
    }

    test("closing the instance closes its subscription connections") {
        val redsync = nodes.redsync()
        val holder = redsync.lock("closing", long)
        val waiter = redsync.lockAsync("closing", patient().build())
        awaitUntil("subscribed") { nodes.nodes().all { it.pubsubClients() == 1 } }
        redsync.close()
        runCatching { waiter.get(10, TimeUnit.SECONDS) }.isFailure shouldBe true
        awaitUntil("pub/sub connections closed") { nodes.nodes().all { it.pubsubClients() == 0 } }
        holder.isReleased shouldBe false
    }
})
