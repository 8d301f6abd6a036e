package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.redsync.lettuce.LettuceNode
import io.redsync.testkit.RedisNode
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit

/**
 * A waiter subscribed to a lock's release announcements does not poll (issue 18): while the holder keeps the lock
 * and nothing is announced it sends nothing, and it tries again when a release is announced, when the holder's
 * keys expire, or after a long safety interval for lost announcements. Its tries keep their schedule.
 */
class SubscribedWaiterSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    fun RedisNode.subscribers(key: String): Long =
        ((call("PUBSUB", "NUMSUB", LettuceNode.channelOf(key)) as List<*>)[1] as Long)

    /** Acquire commands: a first attempt is a plain SET NX, later ones the acquire script. */
    fun RedisNode.acquires(): Long = commandCalls("set", "evalsha", "eval")

    fun pause(millis: Long) = CompletableFuture.runAsync({}, CompletableFuture.delayedExecutor(millis, TimeUnit.MILLISECONDS)).get()

    // Polling would send an attempt every 10-20 ms: about a hundred in the two seconds below.
    fun eager() = LockOptions.builder().retryDelay(RetryDelay.uniform(ms(10), ms(20))).tries(Int.MAX_VALUE)
        .acquireTimeout(Duration.ofSeconds(60))

    // The holders below are another instance, as another process would be: a waiter of the holder's own instance
    // sends nothing at all while it holds (LocalTurnSpec).
    test("while the holder keeps the lock and nothing is announced, a subscribed waiter sends no acquire") {
        nodes.redsync().use { other -> nodes.redsync().use { redsync ->
            val holder = other.lock("kept", LockOptions.builder().expiry(Duration.ofSeconds(60)).build())
            nodes.nodes().forEach { it.call("CONFIG", "RESETSTAT") }
            val waiter = redsync.lockAsync("kept", eager().build())
            awaitUntil("waiter subscribed on every node") { nodes.nodes().all { it.subscribers("kept") == 1L } }
            pause(2_000)
            val sent = nodes.node(0).acquires()
            // Its first attempt, and those due before its subscription was confirmed by a look (GET).
            println("acquires on node 0 while the holder kept the lock for 2 s: $sent")
            sent shouldBeLessThanOrEqual 4L
            waiter.isDone shouldBe false
            holder.close()
            waiter.get(10, TimeUnit.SECONDS).close()
        } }
    }

    test("a subscribed waiter is woken by the release") {
        nodes.redsync().use { other -> nodes.redsync().use { redsync ->
            val holder = other.lock("released", LockOptions.builder().expiry(Duration.ofSeconds(60)).build())
            val waiter = redsync.lockAsync("released", eager().build())
            awaitUntil("waiter subscribed on every node") { nodes.nodes().all { it.subscribers("released") == 1L } }
            holder.close()
            waiter.get(10, TimeUnit.SECONDS).use { it.isValid shouldBe true }
        } }
    }

    test("a subscribed waiter is woken when the holder's keys expire (the holder died without releasing)") {
        // Another process's keys, 1.5 s left: nothing will ever announce their end.
        nodes.nodes().forEach { it.call("SET", "orphaned", "dead-holder", "PX", "1500") }
        nodes.nodes().forEach { it.call("CONFIG", "RESETSTAT") }
        nodes.redsync().use { redsync ->
            val waiter = redsync.lockAsync("orphaned", eager().build())
            waiter.get(20, TimeUnit.SECONDS).use { it.isValid shouldBe true }
            // Its first attempt, the ones before its subscription was confirmed, and the one at the TTL's end.
            nodes.node(0).acquires() shouldBeLessThanOrEqual 5L
        }
    }

    test("a subscribed waiter's tries keep their schedule: it ends when a polling one would, asking at its end") {
        nodes.nodes().forEach { it.call("SET", "held", "another-owner", "PX", "60000") }
        nodes.redsync().use { redsync ->
            val options = LockOptions.builder().retryDelay(RetryDelay.constant(ms(20))).tries(100).build()
            nodes.nodes().forEach { it.call("CONFIG", "RESETSTAT") }
            val e = shouldThrow<ExecutionException> { redsync.lockAsync("held", options).get(30, TimeUnit.SECONDS) }
            val taken = e.cause.shouldBeInstanceOf<LockTakenException>()
            taken.attempts() shouldBe 100
            taken.message shouldContain "not sent"
            // Far fewer sent than tried; the last try was sent.
            nodes.node(0).acquires() shouldBeLessThanOrEqual 10L
        }
    }
})
