package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.redsync.internal.othersTurnNanos
import io.redsync.lettuce.LettuceNode
import io.redsync.testkit.RedisNode
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.time.Duration
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit

/**
 * Lock calls of one instance take turns on a key (issue 18): while a lease of the instance holds it, another
 * call's attempt is in flight, or such an attempt found another owner holding it, a call sends nothing, since the
 * nodes could only answer "taken"; the lease's release (or the other owner's, announced) wakes one waiting call. A burst of 10,000 calls in one process used to send 10,000 acquires and
 * as many follow-ups, and the first holders' releases queued behind them longer than the node timeout.
 */
class LocalTurnSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    fun RedisNode.subscribers(key: String): Long =
        ((call("PUBSUB", "NUMSUB", LettuceNode.channelOf(key)) as List<*>)[1] as Long)

    /** Acquire commands: a first attempt is a plain SET NX, later ones the acquire script. */
    fun RedisNode.acquires(): Long = commandCalls("set", "evalsha", "eval")

    fun resetStats() = nodes.nodes().forEach { it.call("CONFIG", "RESETSTAT") }

    test("a call on a lock its own instance holds sends only its last try, and no look") {
        nodes.redsync().use { redsync ->
            redsync.lock("warm-up").close()
            val holder = redsync.lock("held-here", LockOptions.builder().expiry(Duration.ofSeconds(60)).build())
            resetStats()
            // About 800 ms of tries: its subscription is active long before the last one, and a look would be sent.
            val options = LockOptions.builder().tries(5).retryDelay(RetryDelay.constant(ms(200))).build()
            val call = redsync.lockAsync("held-here", options)
            awaitUntil("waiter subscribed on every node") { nodes.nodes().all { it.subscribers("held-here") == 1L } }
            val e = shouldThrow<ExecutionException> { call.get(30, TimeUnit.SECONDS) }
            val taken = e.cause.shouldBeInstanceOf<LockTakenException>()
            taken.attempts() shouldBe 5
            taken.message shouldContain "4 not sent"
            // Polling sent all five tries; a subscribed waiter of another process sends its first one and a look.
            nodes.nodes().forEach {
                it.acquires() shouldBe 1L
                it.commandCalls("get") shouldBe 0L
            }
            holder.isValid shouldBe true
            holder.close()
        }
    }

    test("the holder's release wakes a call of its instance at once, with one acquire") {
        nodes.redsync().use { redsync ->
            redsync.lock("warm-up").close()
            val holder = redsync.lock("handed-over", LockOptions.builder().expiry(Duration.ofSeconds(60)).build())
            resetStats()
            // Its tries are a minute apart: only a wake-up can get it the lock within the wait below.
            val waiter = redsync.lockAsync("handed-over", LockOptions.builder().tries(10)
                .retryDelay(RetryDelay.constant(Duration.ofSeconds(60))).build())
            // The waiter joins the waiters (and so subscribes) before it decides to send nothing.
            awaitUntil("waiter subscribed on every node") { nodes.nodes().all { it.subscribers("handed-over") == 1L } }
            nodes.nodes().forEach { it.acquires() shouldBe 0L }
            holder.close()
            waiter.get(10, TimeUnit.SECONDS).use { lease ->
                lease.isValid shouldBe true
                // One acquire (a plain SET NX: the call had sent nothing before) and the holder's release script.
                // (Whether it looked depends on whether its subscription's confirmation came before the release.)
                nodes.nodes().forEach {
                    it.commandCalls("set") shouldBe 1L
                    it.scriptCalls() shouldBe 1L
                }
            }
        }
    }

    test("a lease that expires without a release stops holding back the calls of its instance") {
        nodes.redsync().use { redsync ->
            redsync.lock("expiring", LockOptions.builder().expiry(ms(1500)).build()) // never released
            val waiter = redsync.lockAsync("expiring", LockOptions.builder().tries(10)
                .retryDelay(RetryDelay.constant(Duration.ofSeconds(60))).build())
            waiter.get(20, TimeUnit.SECONDS).use { it.isValid shouldBe true }
        }
    }

    test("while another process holds the lock, one call of the instance asks and its siblings wait with it") {
        nodes.redsync().use { other ->
            nodes.redsync().use { redsync ->
                redsync.lock("warm-up").close()
                val holder = other.lock("shared", LockOptions.builder().expiry(Duration.ofSeconds(60)).build())
                resetStats()
                // Tries a minute apart: only wake-ups can get them the lock within the wait below.
                val options = LockOptions.builder().tries(10).retryDelay(RetryDelay.constant(Duration.ofSeconds(60))).build()
                val calls = List(5) { redsync.lockAsync("shared", options).thenCompose { it.releaseAsync() } }
                // The first call's attempt finds the holder and looks once subscribed; the four others waited for
                // that attempt and then for the holder, as the first one does. Polling, or asking for themselves,
                // each would have sent its own attempt.
                awaitUntil("the first call looked") { nodes.nodes().all { it.commandCalls("get") >= 1L } }
                nodes.nodes().forEach { it.acquires() shouldBe 1L }
                // The release is announced: one call is woken, and each one's release wakes the next.
                holder.close()
                calls.forEach { it.get(10, TimeUnit.SECONDS) }
            }
        }
    }

    test("a call that stops waiting leaves nothing behind that holds back later calls") {
        nodes.redsync().use { other ->
            nodes.redsync().use { redsync ->
                val holder = other.lock("left", LockOptions.builder().expiry(Duration.ofSeconds(60)).build())
                // Each found another owner holding the lock, then gave up: nobody of this instance listens for
                // that owner's release, so what they learned must not make a later call wait for it.
                shouldThrow<LockTakenException> { redsync.lock("left", LockOptions.builder().tries(1).build()) }
                redsync.mutex("left").othersTurnNanos() shouldBe 0L
                shouldThrow<LockTakenException> {
                    redsync.lock("left", LockOptions.builder().tries(3).retryDelay(RetryDelay.constant(ms(20))).build())
                }
                redsync.mutex("left").othersTurnNanos() shouldBe 0L
                holder.close()
                redsync.lock("left", LockOptions.builder().tries(1).build()).close()
                redsync.mutex("left").othersTurnNanos() shouldBe 0L
            }
        }
    }

    test("calls of different instances do not hold each other back") {
        nodes.redsync().use { other ->
            nodes.redsync().use { redsync ->
                redsync.lock("warm-up").close()
                other.lock("warm-up-2").close()
                val holder = other.lock("elsewhere", LockOptions.builder().expiry(Duration.ofSeconds(60)).build())
                resetStats()
                val options = LockOptions.builder().tries(1).build()
                shouldThrow<LockTakenException> { redsync.lock("elsewhere", options) }
                nodes.nodes().forEach { it.acquires() shouldBe 1L }
                holder.close()
            }
        }
    }
})
