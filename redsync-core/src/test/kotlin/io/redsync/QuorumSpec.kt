package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.redsync.internal.nodeOrder
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.heal
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.util.concurrent.TimeUnit

class QuorumSpec : FunSpec({
    val nodes = nodesPerSpec(5)

    val single = LockOptions.builder().tries(1).build()

    context("every subset of 5 nodes made unavailable: the lock is acquired exactly when a majority is free") {
        data class Row(val unavailable: List<Int>, val how: String) {
            override fun toString() = "$how ${unavailable.ifEmpty { "none" }}"
        }
        val rows = (0 until 32).flatMap { mask ->
            val subset = (0 until 5).filter { mask and (1 shl it) != 0 }
            listOf(Row(subset, "occupied"), Row(subset, "killed"), Row(subset, "mixed"))
        }.filter { it.how == "occupied" || it.unavailable.isNotEmpty() }
        withData(nameFn = { it.toString() }, rows) { row ->
            nodes.heal() // data rows do not run beforeEach
            val occupied = row.unavailable.filterIndexed { i, _ -> row.how == "occupied" || row.how == "mixed" && i % 2 == 0 }
            val killed = row.unavailable - occupied.toSet()
            occupied.forEach { nodes.node(it).call("SET", "subset", "someone-else", "PX", "60000") }
            killed.forEach { nodes.node(it).kill() }
            // A fresh instance per row: no connection state carried over from killed nodes.
            try { nodes.redsync().use { redsync ->
                val mutex = redsync.mutex("subset", single)
                if (row.unavailable.size <= 2) {
                    val lease = mutex.lock()
                    nodes.nodesHolding("subset").filter { it !in occupied } shouldContainExactlyInAnyOrder (0 until 5).filter { it !in row.unavailable }
                    lease.close()
                } else {
                    val e = shouldThrow<LockAcquisitionException> { mutex.lock() }
                    e.votes()!!.heldByOthers() shouldContainExactly occupied.sorted()
                    e.votes()!!.failed() shouldContainExactly killed.sorted()
                    e.suppressed.map { (it as NodeException).nodeIndex() } shouldContainExactly killed.sorted()
                    if (occupied.size >= 3) e.shouldBeInstanceOf<LockTakenException>()
                }
                // No key of ours is left anywhere: only the occupier's value remains.
                nodes.nodes().filter { it.isRunning }.forEach { node ->
                    val v = node.call("GET", "subset")
                    if (node.index() in occupied) v shouldBe "someone-else" else v shouldBe null
                }
            } } finally {
                killed.forEach { nodes.node(it).restart() }
            }
        }
    }

    test("LockTakenException says when enough of the holder's keys expire for a quorum to be free") {
        // Held everywhere with TTLs of 10..50 s: 3 of 5 must expire, so the lock is free in about 30 s.
        (0 until 5).forEach { nodes.node(it).call("SET", "ttl", "other", "PX", ((it + 1) * 10_000).toString()) }
        nodes.redsync().use { redsync ->
            val e = shouldThrow<LockTakenException> { redsync.lock("ttl", single) }
            val ttl = e.holderTtl().get().toMillis()
            (ttl in 29_000L..30_000L) shouldBe true
        }
        // A key without TTL: unknown.
        (0 until 5).forEach { nodes.node(it).call("SET", "ttl", "other") }
        nodes.redsync().use { redsync ->
            shouldThrow<LockTakenException> { redsync.lock("ttl", single) }.holderTtl().isPresent shouldBe false
        }
    }

    test("2 of 5 nodes killed: still locks, unlocks and extends") {
        listOf(1, 3).forEach { nodes.node(it).kill() }
        nodes.redsync().use { redsync ->
            val lease = redsync.lock("survivor")
            nodes.nodesHolding("survivor") shouldContainExactly listOf(0, 2, 4)
            lease.extend()
            lease.close()
            nodes.nodesHolding("survivor").shouldBeEmpty()
        }
    }

    test("3 of 5 nodes killed: fails with node errors listing the 3 nodes, leaving no keys") {
        listOf(0, 2, 4).forEach { nodes.node(it).kill() }
        nodes.redsync().use { redsync ->
            val e = shouldThrow<LockAcquisitionException> {
                redsync.lock("doomed", LockOptions.builder().tries(3).retryDelay(RetryDelay.constant(ms(1))).build())
            }
            e.attempts() shouldBe 3
            e.votes()!!.failed() shouldContainExactly listOf(0, 2, 4)
            e.votes()!!.errors().map { it.nodeIndex() } shouldContainExactly listOf(0, 2, 4)
            e.votes()!!.errors().forEach { it.address() shouldBe "127.0.0.1:" + nodes.node(it.nodeIndex()).port() }
            e.message!! shouldContain "not acquired after 3 attempts"
            nodes.keysByNode().forEach { it.shouldBeEmpty() }
        }
    }

    test("a node killed while the lock is held: release still succeeds on the majority") {
        nodes.redsync(3).use { redsync ->
            val lease = redsync.lock("held")
            nodes.node(1).kill()
            lease.close()
            nodes.nodesHolding("held").shouldBeEmpty()
        }
    }

    test("a paused node (SIGSTOP) does not stall lock or unlock beyond the node timeout") {
        nodes.redsync(3, defaults = LockOptions.builder().nodeTimeout(ms(200)).build()).use { redsync ->
            nodes.node(2).pause()
            val lease = redsync.lockAsync("paused").get(5, TimeUnit.SECONDS)
            nodes.nodesHolding("paused") shouldContainExactly listOf(0, 1)
            redsync.mutex("paused").tryLockAsync().get(5, TimeUnit.SECONDS).isPresent shouldBe false
            lease.releaseAsync().get(5, TimeUnit.SECONDS)
            nodes.nodesHolding("paused").shouldBeEmpty()
            nodes.node(2).resume()
            // The paused node ran its queued acquire, then the release queued behind it: no stray key.
            awaitUntil("paused node cleaned") { nodes.node(2).keys().isEmpty() }
        }
    }

    test("validity boundary: an attempt slower than expiry minus drift fails and leaves no key on any node") {
        // Node 2 never answers, so the attempt lasts the whole node timeout (250 ms); with a 300 ms
        // expiry and a 30 % drift allowance (92 ms) no validity is left even though 2 of 3 granted.
        val options = LockOptions.builder().expiry(ms(300)).driftFactor(0.3).nodeTimeout(ms(250)).tries(1).build()
        nodes.redsync(3).use { redsync ->
            nodes.node(2).pause()
            val e = shouldThrow<LockAcquisitionException> { redsync.lock("slow", options) }
            e.votes()!!.succeeded() shouldContainExactly listOf(0, 1)
            e.message!! shouldContain "leaving no validity"
            nodes.nodesHolding("slow").shouldBeEmpty()
            nodes.node(2).resume()
            awaitUntil("paused node cleaned") { nodes.node(2).keys().isEmpty() }
        }
    }

    context("failFast") {
        val slow = LockOptions.builder().expiry(ms(60_000)).nodeTimeout(ms(30_000))
        test("on: the lock is granted while a paused node has not answered") {
            nodes.redsync(3).use { redsync ->
                nodes.node(2).pause()
                val lease = redsync.lockAsync("ff", slow.failFast(true).build()).get(10, TimeUnit.SECONDS)
                lease.isValid shouldBe true
                nodes.node(2).resume()
                lease.close()
                awaitUntil("all clean") { nodes.keysByNode().all { it.isEmpty() } }
            }
        }
        test("on: a quorum of 'taken' answers decides against without waiting for the paused node") {
            nodes.redsync(3).use { redsync ->
                listOf(0, 1).forEach { nodes.node(it).call("SET", "ff", "other", "PX", "60000") }
                nodes.node(2).pause()
                redsync.mutex("ff", slow.failFast(true).tries(1).build()).tryLockAsync().get(10, TimeUnit.SECONDS).isPresent shouldBe false
                nodes.node(2).resume()
                awaitUntil("no key of ours on node 2") { nodes.node(2).keys().isEmpty() }
            }
        }
        test("off: the lock waits for the paused node's answer") {
            nodes.redsync(3).use { redsync ->
                nodes.node(2).pause()
                val future = redsync.lockAsync("ff", slow.failFast(false).build())
                awaitUntil("nodes 0 and 1 granted") { nodes.nodesHolding("ff") == listOf(0, 1) }
                future.isDone shouldBe false
                nodes.node(2).resume()
                future.get(10, TimeUnit.SECONDS).close()
                nodes.nodesHolding("ff").shouldBeEmpty()
            }
        }
    }

    context("shufflePools") {
        test("on: mutexes ask the nodes in different orders") {
            nodes.redsync().use { redsync ->
                val orders = (1..100).map { redsync.mutex("s", LockOptions.builder().shufflePools(true).build()).nodeOrder() }
                orders.forEach { it.sorted() shouldBe listOf(0, 1, 2, 3, 4) }
                orders.toSet().size shouldBeGreaterThan 10
            }
        }
        test("off: every mutex asks the nodes in builder order") {
            nodes.redsync().use { redsync ->
                val orders = (1..100).map { redsync.mutex("s").nodeOrder() }
                orders.toSet() shouldBe setOf(listOf(0, 1, 2, 3, 4))
            }
        }
        test("node indices in errors refer to builder order even when shuffled") {
            nodes.node(3).kill()
            listOf(0, 1, 2).forEach { nodes.node(it).call("SET", "sh", "other", "PX", "60000") }
            nodes.redsync().use { redsync ->
                val e = shouldThrow<LockTakenException> { redsync.lock("sh", LockOptions.builder().shufflePools(true).tries(1).build()) }
                e.nodes() shouldContainExactly listOf(0, 1, 2)
                e.votes().failed() shouldContainExactly listOf(3)
            }
        }
    }
})
