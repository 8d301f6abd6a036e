package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.codec.StringCodec
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.net.ServerSocket

class RedsyncBuildSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    fun clients(node: Int): Int = (nodes.node(node).call("CLIENT", "LIST") as String).lines().count { it.contains("addr=") }

    context("bad node lists fail at build() with a message naming the problem and the fix") {
        data class Row(val label: String, val uris: List<String>, val message: String)
        withData(
            nameFn = { it.label },
            Row("no nodes", emptyList(), "no Redis nodes given"),
            Row("no scheme", listOf("localhost:6379"), "node 0 URI 'localhost:6379' has no supported scheme"),
            Row("sentinel scheme", listOf("redis-sentinel://h:26379"), "Sentinel and Cluster URIs are not Redlock nodes"),
            Row("blank", listOf("redis://a:1", " "), "node 1 URI ' ' has no supported scheme"),
            Row("bad port", listOf("redis://host:99999"), "node 0 URI 'redis://host:99999'"),
            Row("duplicate", listOf("redis://h1:6379", "redis://h2:6379", "redis://H1:6379"), "nodes 0 ('redis://h1:6379') and 2 ('redis://H1:6379') both reach the Redis server at h1:6379"),
            Row("password masked", listOf("redis://user:hunter2@:6379/x/y"), "node 0 URI 'redis://user:***@"),
        ) { row ->
            val e = shouldThrow<IllegalArgumentException> { Redsync.create(row.uris) }
            e.message!! shouldContain row.message
            e.message!! shouldNotContain "hunter2"
        }
    }

    test("null and blank lock names are rejected before anything is sent") {
        nodes.redsync().use { redsync ->
            shouldThrow<NullPointerException> { redsync.mutex(null) }.message shouldBe "name must not be null"
            shouldThrow<IllegalArgumentException> { redsync.mutex("  ") }.message!! shouldContain "lock name must not be blank"
            shouldThrow<IllegalArgumentException> { redsync.lock("") }
            shouldThrow<NullPointerException> { redsync.mutex("x", null) }
            nodes.keysByNode().forEach { it.shouldBeEmpty() }
        }
        shouldThrow<NullPointerException> { Redsync.builder().uri(null) }
        shouldThrow<NullPointerException> { Redsync.builder().keyPrefix(null) }
    }

    test("an unreachable node builds fine; the first call names it and why") {
        val closedPort = ServerSocket(0).use { it.localPort }
        Redsync.create("redis://127.0.0.1:$closedPort").use { redsync ->
            val e = shouldThrow<LockAcquisitionException> { redsync.lock("x", LockOptions.builder().tries(1).build()) }
            val node = e.votes()!!.errors().single()
            node.nodeIndex() shouldBe 0
            node.address() shouldBe "127.0.0.1:$closedPort"
            node.message!! shouldContain "node 0 (127.0.0.1:$closedPort)"
            node.message!!.lowercase() shouldContain "connect"
        }
    }

    test("wrong password: the node error says so without showing the password") {
        RedisNodes.builder().count(1).password("right-secret").start().use { secured ->
            val port = secured.node(0).port()
            Redsync.create("redis://default:wrong-secret@127.0.0.1:$port").use { redsync ->
                // Retry until the connect itself has failed: a cold first connect may outlast one node timeout.
                val options = LockOptions.builder().tries(Int.MAX_VALUE).retryDelay(RetryDelay.constant(ms(50)))
                    .acquireTimeout(java.time.Duration.ofSeconds(2)).build()
                val e = shouldThrow<LockAcquisitionException> { redsync.lock("x", options) }
                val text = e.votes()!!.errors().single().message!!
                text.uppercase() shouldContain "WRONGPASS"
                text shouldNotContain "wrong-secret"
                e.message!! shouldNotContain "wrong-secret"
            }
            Redsync.create(secured.uris()).use { redsync ->
                redsync.lock("x").close()
            }
            Redsync.create("redis://default:right-secret@127.0.0.1:$port").use { it.toString() shouldNotContain "right-secret" }
        }
    }

    test("rediss:// URIs are accepted and fail at first use against a plain-text node, naming it") {
        Redsync.builder().uri("rediss://127.0.0.1:" + nodes.node(0).port()).build().use { redsync ->
            val e = shouldThrow<LockAcquisitionException> {
                redsync.lock("tls", LockOptions.builder().tries(1).nodeTimeout(java.time.Duration.ofSeconds(2)).build())
            }
            e.votes()!!.failed() shouldContainExactly listOf(0)
        }
    }

    test("built from URIs: close() closes the connections it made") {
        val baseline = clients(0)
        val redsync = nodes.redsync()
        redsync.lock("x").close()
        clients(0) shouldBe baseline + 1
        redsync.close()
        awaitUntil("connection closed") { clients(0) == baseline }
    }

    test("built from the caller's connections: close() leaves them open; from the caller's client: closes only its own connection") {
        val client = RedisClient.create()
        try {
            val connections = (0..2).map { client.connect(StringCodec.UTF8, RedisURI.create(nodes.uris()[it])) }
            val redsync = Redsync.builder().apply { connections.forEach { node(it) } }.build()
            val lease = redsync.lock("shared")
            nodes.nodesHolding("shared") shouldContainExactly listOf(0, 1, 2)
            lease.close()
            redsync.close()
            connections.forEach { it.isOpen shouldBe true; it.sync().ping() shouldBe "PONG" }
            connections.forEach { it.close() }

            val baseline = clients(1)
            val viaClient = Redsync.builder().apply { (0..2).forEach { node(client, RedisURI.create(nodes.uris()[it])) } }.build()
            viaClient.lock("via-client").close()
            clients(1) shouldBe baseline + 1
            viaClient.close()
            awaitUntil("redsync's own connection closed") { clients(1) == baseline }
            // The caller's client still works.
            client.connect(RedisURI.create(nodes.uris()[0])).use { it.sync().ping() shouldBe "PONG" }
        } finally {
            client.shutdown()
        }
    }

    test("one multiplexed connection per node, however many concurrent calls") {
        val baseline = clients(2)
        nodes.redsync().use { redsync ->
            (1..200).map { redsync.lockAsync("m$it") }.forEach { it.get().releaseAsync().get() }
            clients(2) shouldBe baseline + 1
        }
    }

    test("an even number of nodes works with quorum n/2+1") {
        Redsync.create(nodes.uris().take(2)).use { redsync ->
            redsync.quorum() shouldBe 2
            redsync.lock("even").close()
        }
        clients(0) shouldBeGreaterThanOrEqual 1
    }
})
