package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.redsync.lettuce.LettuceNode
import io.redsync.testkit.FaultProxy
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.nodesPerSpec
import io.redsync.testkit.fixtures.ms
import java.time.Duration
import java.util.concurrent.TimeUnit
import kotlin.time.Duration.Companion.seconds

/**
 * What a waiting lock call does between attempts: how release wake-ups are shared among waiters (issue 13
 * item 7), what counts as "busy" (item 8), and what `tries` and `retryDelay` promise (item 9).
 */
class WaitingSpec : FunSpec({
    val nodes = nodesPerSpec(5)
    val client = RedisClient.create()
    afterSpec { client.shutdown() }

    /** An instance on the first [count] nodes, each wrapped to count and delay what is sent to it. */
    fun wrapped(count: Int, options: LockOptions): Pair<Redsync, List<DelayingNode>> {
        val wrappers = nodes.nodes().take(count).map { DelayingNode(LettuceNode.lazy(client, RedisURI.create(it.uri()))) }
        return Redsync.builder().defaults(options).apply { wrappers.forEach { node(it) } }.build() to wrappers
    }

    fun acquiresSent(node: DelayingNode) = node.sent.count { it.op == "acquire" }

    test("a wake-up taken by a waiter on its last try passes to the next waiter") {
        // Holder H keeps the lock for 10 minutes; W2 retries only every 10 minutes, so only a wake-up can get
        // it the lock. W1 (joined first, so offered the wake-up first) is on its last try, an attempt in
        // flight whose replies are held back, when H releases: W1 takes the wake-up and then fails. Before the
        // fix the wake-up died with W1 and W2 slept on. Node timeout 10 s: the replies held back (3 s) must
        // come as replies, not as timeouts.
        val long = LockOptions.builder().expiry(Duration.ofMinutes(10)).nodeTimeout(Duration.ofSeconds(10)).build()
        nodes.redsync(count = 3).use { holder ->
            val lease = holder.lock("handoff", long)
            val (waiters, wrappers) = wrapped(3, long)
            waiters.use {
                // Preset owner values tell the two waiters' attempts apart on the nodes (each call stores its
                // value with a suffix of its own: "w1#...").
                fun sentBy(owner: String, w: DelayingNode) = w.sent.filter { it.op == "acquire" && it.value?.startsWith("$owner#") == true }
                // W1 retries 3 s after its first attempt.
                val w1 = waiters.mutex("handoff", long.toBuilder().value("w1").tries(2).retryDelay(RetryDelay.constant(ms(3000))).build()).lockAsync()
                awaitUntil("W1's first attempt answered") { wrappers.all { w -> sentBy("w1", w).any { it.repliedAt != Long.MAX_VALUE } } }
                // W2, of the same instance, joins the waiters at once and sends nothing: W1's attempt had the turn
                // and found H holding the lock (LocalTurnSpec).
                val w2 = waiters.mutex("handoff", long.toBuilder().value("w2").tries(Int.MAX_VALUE)
                    .retryDelay(RetryDelay.constant(Duration.ofMinutes(10))).build()).lockAsync()
                wrappers.forEach { w -> sentBy("w2", w).size shouldBe 0 }
                val before = wrappers.map { sentBy("w1", it).size }
                // W1's next (last) attempt, due 3 s after its first, is answered 3 s late on every node: it is
                // in flight at the release. It must have run on every node before H releases, or it could win
                // after the release: its server reply must have come in, not just the call been made. (A count
                // of lock commands on the nodes was used before, and H's first acquire counts twice there,
                // EVALSHA meeting NOSCRIPT and then EVAL: on a loaded machine H released before W1's last
                // acquire ran, and W1 won.)
                wrappers.forEach { it.acquireDelayMs = 3000 }
                awaitUntil("W1's last attempt run on every node, its replies held back", 20.seconds) {
                    wrappers.withIndex().all { (i, w) -> sentBy("w1", w).drop(before[i]).any { it.ranAt != Long.MAX_VALUE } }
                }
                lease.release()
                val e = shouldThrow<java.util.concurrent.ExecutionException> { w1.get(20, TimeUnit.SECONDS) }
                e.cause.shouldBeInstanceOf<LockAcquisitionException>()
                // Without the wake-up W2 would wait 10 minutes; 20 s is only a bound on a hung test.
                val got = w2.get(20, TimeUnit.SECONDS)
                got.isValid shouldBe true
                got.release()
            }
        }
    }

    context("busy or failed (5 nodes: we got {0,1}, another owner holds {2,3}, node 4 times out)") {
        // A node timeout generous for a busy machine: only the silent nodes may time out.
        val options = LockOptions.builder().expiry(ms(20_000)).nodeTimeout(ms(1000)).retryDelay(RetryDelay.constant(ms(1))).build()

        suspend fun splitVote(block: (Redsync) -> Unit) {
            FaultProxy.to(nodes.node(4)).use { proxy ->
                listOf(2, 3).forEach { nodes.node(it).call("SET", "split", "another-owner", "PX", "20000") }
                val uris = nodes.uris().take(4) + proxy.uri()
                Redsync.builder().uris(uris).defaults(options).build().use { redsync ->
                    redsync.lock("warm-up").release() // every connection up before node 4's link goes silent
                    proxy.blackhole()
                    try {
                        block(redsync)
                    } finally {
                        proxy.heal()
                    }
                }
            }
        }

        test("tryLock() returns empty: contention kept us from a quorum, not broken nodes") {
            splitVote { redsync ->
                // Before the fix: LockAcquisitionException, as if the nodes were broken.
                redsync.mutex("split").tryLock().isPresent shouldBe false
                listOf(0, 1).forEach { nodes.node(it).call("EXISTS", "split") shouldBe 0L } // our partial hold released
            }
        }

        test("lock() fails with LockTakenException naming the other owner's nodes") {
            splitVote { redsync ->
                val e = shouldThrow<LockTakenException> { redsync.mutex("split", options.toBuilder().tries(2).build()).lock() }
                e.nodes() shouldContainExactly listOf(2, 3)
                e.attempts() shouldBe 2
                e.votes().failed() shouldContainExactly listOf(4)
            }
        }

        test("too few nodes answering is a failure, even with another owner among them") {
            // Nodes 2, 3, 4 time out; of the two that answer, node 1 holds another owner's key.
            val proxies = (2..4).map { FaultProxy.to(nodes.node(it)) }
            try {
                nodes.node(1).call("SET", "down", "another-owner", "PX", "20000")
                Redsync.builder().uris(nodes.uris().take(2) + proxies.map { it.uri() }).defaults(options).build().use { redsync ->
                    redsync.lock("warm-up").release()
                    proxies.forEach { it.blackhole() }
                    try {
                        val e = shouldThrow<LockAcquisitionException> { redsync.mutex("down").tryLock() }
                        (e is LockTakenException) shouldBe false
                        e.votes().heldByOthers() shouldContainExactly listOf(1)
                        e.votes().failed() shouldContainExactly listOf(2, 3, 4)
                    } finally {
                        proxies.forEach { it.heal() }
                    }
                }
            } finally {
                proxies.forEach { it.close() }
            }
        }
    }

    context("tries and retryDelay mean what they say") {
        test("a waiting lock() with notifications on makes exactly `tries` attempts while the holder keeps the lock") {
            val long = LockOptions.builder().expiry(Duration.ofSeconds(30)).build()
            nodes.redsync(count = 3).use { holder ->
                val lease = holder.lock("counted", long)
                val (waiter, wrappers) = wrapped(3, long)
                waiter.use {
                    val e = shouldThrow<LockTakenException> {
                        waiter.mutex("counted", long.toBuilder().tries(2).retryDelay(RetryDelay.constant(ms(300))).build()).lock()
                    }
                    e.attempts() shouldBe 2
                    // Before the fix: 3 on every node, one uncounted attempt once the subscription was active.
                    wrappers.map { acquiresSent(it) } shouldContainExactly listOf(2, 2, 2)
                }
                lease.release()
            }
        }
    }
})

