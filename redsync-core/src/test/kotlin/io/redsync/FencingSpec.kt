package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.cluster.SlotHash
import io.redsync.internal.Fences
import io.redsync.testkit.Persistence
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/** One fenced critical section: who, when (monotonic), and the token it held. */
data class FencedSection(val client: Int, val enteredNanos: Long, val exitedNanos: Long, val token: Long)

class FencingSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    val fenced = LockOptions.builder().fencing(true).build()

    test("successive holders get strictly increasing tokens; extensions keep the token") {
        nodes.redsync().use { redsync ->
            val tokens = (1..10).map {
                redsync.lock("fenced", fenced).use { lease ->
                    val token = lease.fencingToken().asLong
                    lease.extend()
                    lease.fencingToken().asLong shouldBe token
                    token
                }
            }
            tokens shouldBe (1L..10L).toList()
            // The counter survives the lock key and has no TTL.
            nodes.node(0).call("GET", Fences.counterKey("fenced")) shouldBe "10"
            nodes.node(0).call("PTTL", Fences.counterKey("fenced")) shouldBe -1L
        }
    }

    test("without fencing a lease has no token and no counter is written") {
        nodes.redsync().use { redsync ->
            redsync.lock("plain").use { it.fencingToken().isPresent shouldBe false }
            nodes.keysByNode().forEach { it.shouldBeEmpty() }
        }
    }

    test("the token is one more than the highest counter of the granting nodes") {
        nodes.node(1).call("SET", Fences.counterKey("skewed"), "41")
        nodes.node(2).call("SET", Fences.counterKey("skewed"), "7")
        nodes.redsync().use { redsync ->
            redsync.lock("skewed", fenced).use { it.fencingToken().asLong shouldBe 42L }
            nodes.nodes().map { it.call("GET", Fences.counterKey("skewed")) } shouldBe listOf("42", "42", "42")
        }
    }

    context("the counter key hashes to the lock key's cluster slot") {
        // Not covered, and impossible: a key with a '}' but no valid tag, such as "{}x", hashes whole, and no
        // tag can contain '}'. Such names cannot share a slot with any other key.
        withData("invoice:42", "{user:7}:lock", "a{b}c", "{", "x}{y}", "a{{b}}") { key ->
            SlotHash.getSlot(Fences.counterKey(key)) shouldBe SlotHash.getSlot(key)
            SlotHash.getSlot(FencedWrites.storageKey(key)) shouldBe SlotHash.getSlot(key)
        }
    }

    test("storage rejects a write from a holder that lost the lock: the stale token loses") {
        val client = RedisClient.create()
        try {
            client.connect(RedisURI.create(nodes.uris()[0])).use { storage ->
                nodes.redsync().use { redsync ->
                    // Client A takes the lock, then "pauses" past its expiry (a GC pause).
                    val a = redsync.lock("account:9", LockOptions.builder().fencing(true).expiry(ms(300)).build())
                    awaitUntil("A's lease expired") { !a.isValid && nodes.nodesHolding("account:9").isEmpty() }
                    // B takes over and writes.
                    redsync.lock("account:9", fenced).use { b ->
                        b.fencingToken().asLong shouldBeGreaterThan a.fencingToken().asLong
                        FencedWrites.setIfNewer(storage.async(), "balance:9", "100", b.fencingToken().asLong).toCompletableFuture().get() shouldBe true
                    }
                    // A wakes up and writes with its stale token: rejected.
                    FencedWrites.setIfNewer(storage.async(), "balance:9", "0", a.fencingToken().asLong).toCompletableFuture().get() shouldBe false
                    FencedWrites.get(storage.async(), "balance:9").toCompletableFuture().get() shouldBe "100"
                    shouldThrow<LeaseExpiredException> { a.release() }
                }
            }
        } finally {
            client.shutdown()
        }
    }

    test("5 nodes, 16 clients, 2,000 acquisitions, nodes killed -9 and restarted: tokens strictly increase in grant order") {
        RedisNodes.builder().count(5).persistence(Persistence.APPEND_ONLY_FSYNC_ALWAYS).start().use { durable ->
            val options = fastRetryBuilder().fencing(true).expiry(ms(2000)).nodeTimeout(ms(200)).build()
            val clients = (0 until 16).map { Redsync.builder().uris(durable.uris()).defaults(options).build() }
            val sections = ConcurrentLinkedQueue<FencedSection>()
            val remaining = AtomicInteger(2000)
            val done = AtomicInteger()
            val pool = Executors.newFixedThreadPool(16)
            try {
                val work = clients.mapIndexed { id, redsync ->
                    pool.submit {
                        while (remaining.getAndDecrement() > 0) {
                            val lease = redsync.lock("ledger")
                            val entered = System.nanoTime()
                            val token = lease.fencingToken().asLong
                            val exited = System.nanoTime()
                            runCatching { lease.close() } // a node may be down: the keys then expire
                            sections.add(FencedSection(id, entered, exited, token))
                            done.incrementAndGet()
                        }
                    }
                }
                // The nemesis: every 250 acquisitions kill one node (-9) and restart it 100 acquisitions later.
                var killed = -1
                var nextKill = 250
                while (work.any { !it.isDone }) {
                    val n = done.get()
                    if (killed < 0 && n >= nextKill) {
                        killed = (n / 250) % 5
                        durable.node(killed).kill()
                    } else if (killed >= 0 && n >= nextKill + 100) {
                        durable.node(killed).restart()
                        killed = -1
                        nextKill += 250
                    }
                    Thread.sleep(2) // nemesis pacing only; the assertions do not depend on time
                }
                work.forEach { it.get(120, TimeUnit.SECONDS) }
                if (killed >= 0) durable.node(killed).restart()
            } finally {
                pool.shutdownNow()
                clients.forEach { it.close() }
            }
            sections.size shouldBe 2000
            val ordered = sections.sortedBy { it.enteredNanos }
            ordered.zipWithNext().forEach { (x, y) ->
                if (y.enteredNanos <= x.exitedNanos) throw AssertionError("sections overlap: $x and $y")
                if (y.token <= x.token) throw AssertionError("token did not increase in grant order: $x then $y")
            }
        }
    }
})
