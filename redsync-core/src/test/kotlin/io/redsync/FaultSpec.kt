package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import io.kotest.matchers.string.shouldStartWith
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.redsync.lettuce.LettuceNode
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.nodesPerSpec
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.ms
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit

/** Regression specs for races and faults found in review; each failed before its fix. */
class FaultSpec : FunSpec({
    val nodes = nodesPerSpec(3)
    val client = RedisClient.create()
    afterSpec { client.shutdown() }

    fun delayed(defaults: LockOptions, acquireDelays: List<Long> = listOf(0, 0, 0), extendDelays: List<Long> = listOf(0, 0, 0)): Redsync {
        val builder = Redsync.builder().defaults(defaults)
        nodes.nodes().forEachIndexed { i, n ->
            builder.node(DelayingNode(LettuceNode.lazy(client, RedisURI.create(n.uri())), acquireDelays[i], extendDelays[i]))
        }
        return builder.build()
    }

    test("a failed attempt's late cleanup never deletes the keys of the retry that succeeded") {
        // Nodes 0 and 2 answer the first acquire after 150 ms (the command runs at once): attempt 1 times out
        // on them (50 ms) and fails; attempt 2, same owner token, must not be overtaken by attempt 1's
        // release, which can only be sent once those late replies arrived.
        val options = LockOptions.builder().expiry(ms(1000)).nodeTimeout(ms(50)).retryDelay(RetryDelay.constant(ms(1))).build()
        val wrappers = nodes.nodes().map { DelayingNode(LettuceNode.lazy(client, RedisURI.create(it.uri()))) }
        listOf(0, 2).forEach { wrappers[it].acquireDelayMs = 150; wrappers[it].delayedAcquires.set(1) }
        Redsync.builder().defaults(options).apply { wrappers.forEach { node(it) } }.build().use { redsync ->
            val lease = redsync.lock("stale")
            // Every late release has run by the time the delayed replies are long past.
            CompletableFuture.runAsync({}, CompletableFuture.delayedExecutor(400, TimeUnit.MILLISECONDS)).get()
            lease.isValid shouldBe true
            // Before the fix this was [null, value, null]: a valid lease on one node of three.
            nodes.nodes().count { it.call("GET", "stale") == lease.value() } shouldBeGreaterThanOrEqual 2
            lease.close()
        }
    }

    test("an acquire held back behind an earlier cleanup never lets that cleanup delete a later lease's key") {
        // Node 1 answers the first acquire after 600 ms, so attempt 1's release there waits that long and
        // gates later acquires on node 1; node 2 is held by another owner at first, so attempts keep failing
        // with node 1's acquire still held back. Once node 2 frees up, the lock is granted. No release
        // may reach a node after the acquire that granted the lease there.
        val options = LockOptions.builder().expiry(ms(5000)).nodeTimeout(ms(50)).retryDelay(RetryDelay.constant(ms(1)))
            .releaseNotifications(false).build()
        val wrappers = nodes.nodes().map { DelayingNode(LettuceNode.lazy(client, RedisURI.create(it.uri()))) }
        wrappers[1].acquireDelayMs = 600
        wrappers[1].delayedAcquires.set(1)
        nodes.node(2).call("SET", "gated", "other", "PX", "60000")
        Redsync.builder().defaults(options).apply { wrappers.forEach { node(it) } }.build().use { redsync ->
            val future = redsync.lockAsync("gated")
            awaitUntil("several failed attempts") { wrappers[0].sent.count { it.op == "acquire" } >= 4 }
            nodes.node(2).call("DEL", "gated")
            val lease = future.get(10, TimeUnit.SECONDS)
            val grantedAt = System.nanoTime()
            awaitUntil("node 1's delayed reply and everything chained to it") {
                wrappers[1].sent.first().repliedAt != Long.MAX_VALUE
            }
            CompletableFuture.runAsync({}, CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS)).get()
            wrappers.forEachIndexed { i, node ->
                val lastGrant = node.sent.filter { it.op == "acquire" && it.granted && it.repliedAt < grantedAt }.maxOfOrNull { it.sentAt }
                if (lastGrant != null) {
                    val late = node.sent.filter { it.op == "release" && it.sentAt > lastGrant }
                    if (late.isNotEmpty()) throw AssertionError("node $i: a release was sent after the acquire that granted the lease: $late")
                }
            }
            lease.isValid shouldBe true
            (nodes.nodes().count { it.call("GET", "gated") == lease.value() } >= 2) shouldBe true
            lease.close()
        }
    }

    test("a preset value does not let two lock calls of one mutex both hold the lock") {
        nodes.redsync().use { redsync ->
            val mutex = redsync.mutex("preset", LockOptions.builder().value("owner-token").tries(1).build())
            val first = mutex.lock()
            mutex.tryLock().isPresent shouldBe false
            first.close()
            mutex.tryLock().get().close()
        }
    }

    test("a blocking release inside a lockAsync continuation completes, even when a node timeout decides") {
        nodes.redsync(defaults = LockOptions.builder().nodeTimeout(ms(200)).build()).use { redsync ->
            nodes.node(2).pause()
            try {
                val thread = CompletableFuture<String>()
                val done = redsync.lockAsync("cb").thenApply { lease ->
                    thread.complete(Thread.currentThread().name)
                    lease.release() // blocks for node 2's timeout
                    "released"
                }
                done.get(10, TimeUnit.SECONDS) shouldBe "released"
                thread.get() shouldNotContain "redsync-timer"
            } finally {
                nodes.node(2).resume()
            }
        }
    }

    test("close() while an acquisition is in flight releases what the nodes granted") {
        val redsync = delayed(LockOptions.builder().nodeTimeout(ms(2000)).build(), acquireDelays = listOf(0, 0, 1500))
        val future = redsync.lockAsync("closing")
        awaitUntil("all nodes executed the acquire") { nodes.nodesHolding("closing") == listOf(0, 1, 2) }
        redsync.close()
        shouldThrow<Exception> { future.get(5, TimeUnit.SECONDS) }
        awaitUntil("keys released") { nodes.nodesHolding("closing").isEmpty() }
    }

    test("close() lets timeouts of operations still in flight fire: a release never hangs") {
        // Nodes 0 and 1 are connections of this Redsync (close() closes them); node 2's is the caller's, so its
        // timeout is all that can end the release once close() has run.
        val connection = client.connect(RedisURI.create(nodes.node(2).uri()))
        val own = (0..1).map { DelayingNode(LettuceNode.lazy(client, RedisURI.create(nodes.node(it).uri()))) }
        val redsync = Redsync.builder().node(own[0]).node(own[1]).node(connection)
            .defaults(LockOptions.builder().nodeTimeout(ms(300)).build()).build()
        val lease = redsync.lock("closerel")
        nodes.node(2).pause()
        try {
            val release = lease.releaseAsync()
            // Waiting for the keys to go from the servers is not enough: a server deletes before its reply reaches
            // us, and close() then fails the reply still on its way ("Connection closed", CI on 2026-12-07).
            awaitUntil("this client has nodes 0 and 1's release replies") {
                own.all { node -> node.sent.any { it.op == "release" && it.repliedAt != Long.MAX_VALUE } }
            }
            nodes.nodesHolding("closerel").isEmpty() shouldBe true
            redsync.close()
            release.get(5, TimeUnit.SECONDS) // completes: a quorum released, node 2 timed out
        } finally {
            nodes.node(2).resume()
            connection.close()
        }
    }

    test("a failed extension to a shorter TTL shortens the lease: it never outlives its keys") {
        delayed(LockOptions.builder().nodeTimeout(ms(100)).build(), extendDelays = listOf(0, 300, 300)).use { redsync ->
            val lease = redsync.lock("ext")
            shouldThrow<ExtendFailedException> { lease.extend(ms(300)) }
            // Nodes 1 and 2 applied the 300 ms TTL although their replies came too late.
            awaitUntil("keys expired") { nodes.nodesHolding("ext").isEmpty() }
            lease.isValid shouldBe false
        }
    }

    test("passwords never appear in build errors, also password-only user-info") {
        listOf(
            "redis://hunter2secret@localhost:70000",
            "redis-sentinel://hunter2secret@localhost:26379",
            "redis://user:hunter2secret@localhost:70000",
            "redis://:hunter2secret@h:99999",
        ).forEach { uri ->
            val e = shouldThrow<IllegalArgumentException> { Redsync.create(uri) }
            e.message!! shouldNotContain "hunter2secret"
            e.message!! shouldContain "***@"
        }
    }

    test("after SCRIPT FLUSH on a slow link, a failed attempt's release still follows its acquire") {
        val body = Class.forName("io.redsync.lettuce.Script").getDeclaredField("RELEASE").let { f ->
            f.isAccessible = true
            val script = f.get(null)
            script.javaClass.getDeclaredField("body").also { it.isAccessible = true }.get(script) as String
        }
        DelayProxy(nodes.node(0).port()).use { proxy ->
            // Fencing keeps the acquire a script (a first attempt without it is a plain SET, which has no
            // NOSCRIPT fallback to reorder).
            Redsync.builder().uri("redis://127.0.0.1:" + proxy.port)
                .defaults(LockOptions.builder().nodeTimeout(ms(100)).tries(1).fencing(true).build()).build().use { redsync ->
                    redsync.lock("warm", LockOptions.builder().nodeTimeout(ms(2000)).build()).close()
                    nodes.node(0).call("SCRIPT", "FLUSH") // as after a restart
                    proxy.delayMs = 300
                    val attempt = redsync.mutex("k").tryLockAsync() // EVALSHA -> NOSCRIPT, reply delayed
                    awaitUntil("the acquire reached the server") {
                        (nodes.node(0).call("INFO", "commandstats") as String).contains("cmdstat_evalsha")
                    }
                    nodes.node(0).call("SCRIPT", "LOAD", body) // another client's fallback loads the release script
                    runCatching { attempt.get(5, TimeUnit.SECONDS) }
                    // The acquire's EVAL fallback ran; our release must have run after it.
                    awaitUntil("the fallback and the release both ran") {
                        Regex("cmdstat_eval:calls=(\\d+)").find(nodes.node(0).call("INFO", "commandstats") as String) != null &&
                            nodes.node(0).keys().isEmpty()
                    }
                }
        }
    }

    test("sub-millisecond expiries and TTLs are rejected: Redis would truncate them and validity would be overstated") {
        shouldThrow<IllegalArgumentException> { LockOptions.builder().expiry(java.time.Duration.ofNanos(8_000_500_000)).build() }
            .message!! shouldStartWith "expiry must be a whole number of milliseconds"
        nodes.redsync().use { redsync ->
            val lease = redsync.lock("ms")
            shouldThrow<IllegalArgumentException> { lease.extend(java.time.Duration.ofNanos(5_000_000_100)) }
            lease.close()
        }
    }

    test("release classifies 'absent on a majority' as expired even when another node failed") {
        nodes.redsync().use { redsync ->
            val lease = redsync.lock("gone2")
            nodes.node(0).call("DEL", "gone2")
            nodes.node(1).call("DEL", "gone2")
            nodes.node(2).kill()
            shouldThrow<LeaseExpiredException> { lease.release() }
        }
        nodes.keysByNode().forEach { it.shouldBeEmpty() }
    }

    test("another owner on a minority while the other nodes fail is a failed release or extension, not a lost lease") {
        // A contender's attempt can hold a node of ours that expired or was flushed; with the other two nodes
        // silent our keys may still stand there. Found under load: "another owner holds it on nodes [1]".
        nodes.redsync(defaults = LockOptions.builder().nodeTimeout(ms(100)).build()).use { redsync ->
            val lease = redsync.lock("minority")
            nodes.node(1).call("SET", "minority", "contender")
            listOf(0, 2).forEach { nodes.node(it).pause() }
            try {
                shouldThrow<ExtendFailedException> { lease.extend() }.votes().heldByOthers() shouldBe listOf(1)
                shouldThrow<UnlockFailedException> { lease.release() }.votes().failed() shouldBe listOf(0, 2)
            } finally {
                listOf(0, 2).forEach { nodes.node(it).resume() }
            }
        }
    }
})
