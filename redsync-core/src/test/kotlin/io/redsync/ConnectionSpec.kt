package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.booleans.shouldBeFalse
import io.kotest.matchers.booleans.shouldBeTrue
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.event.connection.ConnectedEvent
import io.lettuce.core.resource.DefaultClientResources
import io.redsync.lettuce.LettuceNode
import io.redsync.testkit.FaultProxy
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.net.InetSocketAddress
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit

/** Connecting, as a fresh instance meets it (issue 14, items 3, 6 and 7; issue 16 item 4; issue 15 item 5). */
class ConnectionSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    test("connecting is not part of the first attempt: over a slow link a fresh instance's one-try lock succeeds") {
        // 250 ms each way: connecting takes at least two round trips (one second), the acquire one (500 ms). Before,
        // the 1 s node timeout covered both and the first call failed with TIMEOUT.
        FaultProxy.to(nodes.node(0)).latency(ms(250)).use { proxy ->
            val options = LockOptions.builder().tries(1).nodeTimeout(Duration.ofSeconds(1)).expiry(Duration.ofSeconds(30)).build()
            Redsync.builder().uri(proxy.uri()).defaults(options).build().use { redsync ->
                val lease = redsync.mutex("slow-link").tryLock()
                lease.isPresent.shouldBeTrue()
                lease.get().release()
            }
        }
    }

    test("awaitConnected: true once every node is up; false for a node that refuses or does not answer; interruptible") {
        Redsync.builder().uris(nodes.uris()).build().use { redsync ->
            redsync.awaitConnected(Duration.ofSeconds(30)).shouldBeTrue()
            redsync.lock("after-await").release()
        }
        Redsync.builder().uris(nodes.uris().take(2) + "redis://127.0.0.1:${freePort()}").build().use { redsync ->
            redsync.awaitConnected(Duration.ofSeconds(30)).shouldBeFalse()
            // Two nodes are a quorum of three: locking works, and the third node's failure names the cause.
            redsync.lock("two-of-three").release()
        }
        FaultProxy.to(nodes.node(0)).use { proxy ->
            proxy.blackhole()
            Redsync.builder().uri(proxy.uri()).build().use { redsync ->
                redsync.awaitConnected(ms(200)).shouldBeFalse()
                Thread.currentThread().interrupt()
                shouldThrow<InterruptedException> { redsync.awaitConnected(Duration.ofSeconds(30)) }
                Thread.interrupted().shouldBeFalse()
            }
        }
    }

    test("a connect that throws synchronously fails the queued command and the call, instead of leaving them unanswered") {
        val client = RedisClient.create()
        client.shutdown() // connecting now throws at once ("Provider is shut down ...") instead of failing its future
        val node = LettuceNode.lazy(client, RedisURI.create(nodes.node(0).uri()))
        repeat(3) {
            // Before, the queued command was never answered (TimeoutException here) and the queue grew on each call.
            val e = shouldThrow<ExecutionException> { node.get("k").toCompletableFuture().get(10, TimeUnit.SECONDS) }
            e.cause!!.message!! shouldContain "shut down"
        }
        Redsync.builder().node(client, RedisURI.create(nodes.node(0).uri())).build().use { redsync ->
            val options = LockOptions.builder().tries(1).nodeTimeout(Duration.ofSeconds(5)).build()
            val e = shouldThrow<LockAcquisitionException> { redsync.lock("sync-failure", options) }
            e.votes().errors().single().reason() shouldNotBe NodeException.Reason.TIMEOUT
            e.votes().errors().single().message!! shouldContain "shut down"
        }
    }

    test("close() waits for a call's cleanup within that call's own node timeout, not the defaults'") {
        // 400 ms each way; the defaults' 50 ms node timeout would let close() give up after 600 ms, before the
        // cleanup release of the call below (whose own node timeout is 3 s) reaches the node.
        FaultProxy.to(nodes.node(0)).use { proxy ->
            val redsync = Redsync.builder().uri(proxy.uri()).defaults(LockOptions.builder().nodeTimeout(ms(50)).build()).build()
            redsync.awaitConnected(Duration.ofSeconds(30)).shouldBeTrue()
            proxy.latency(ms(400))
            val call = redsync.lockAsync("closing", LockOptions.builder().nodeTimeout(Duration.ofSeconds(3)).expiry(Duration.ofSeconds(60)).build())
            awaitUntil("the acquire reached the node") { nodes.node(0).keys().contains("closing") }
            redsync.close()
            withClue("the call's key was released before close() returned") { nodes.node(0).keys().shouldBeEmpty() }
            shouldThrow<ExecutionException> { call.get() }.cause.shouldBeInstanceOf<IllegalStateException>()
        }
    }

    test("the same host and port twice is rejected at build, naming both URIs") {
        val port = nodes.node(0).port()
        val e = shouldThrow<IllegalArgumentException> {
            Redsync.create("redis://127.0.0.1:$port", "redis://127.0.0.1:$port/1", nodes.node(1).uri())
        }
        e.message!! shouldContain "nodes 0 ('redis://127.0.0.1:$port') and 1 ('redis://127.0.0.1:$port/1')"
        e.message!! shouldContain "independent"
        val client = RedisClient.create()
        try {
            shouldThrow<IllegalArgumentException> {
                Redsync.builder().uri("redis://127.0.0.1:$port/2").node(client, RedisURI.create("redis://127.0.0.1:$port")).build()
            }.message!! shouldContain "both reach the Redis server at 127.0.0.1:$port"
        } finally {
            client.shutdown()
        }
    }

    test("one server behind two addresses is found at connect: it votes once, and the call names both entries") {
        FaultProxy.to(nodes.node(0)).use { proxy ->
            // Another database of the same server through another address: before, that server held two of three votes.
            Redsync.builder().uri(nodes.node(0).uri()).uri(proxy.uri() + "/1").uri(nodes.node(1).uri()).build().use { redsync ->
                // Another owner on node 2's server: the only real vote left for us is node 0's server.
                nodes.node(1).call("SET", "twice", "someone else", "PX", "60000")
                // The check runs as each connection comes up. A call made before that waits for it within its node
                // timeout; on a loaded machine the second address can take longer, and that call then sees a slow
                // node (busy: another owner and a quorum answered) instead of the duplicate. Waiting for the
                // connections first makes the outcome independent of the machine's speed.
                redsync.awaitConnected(Duration.ofSeconds(30)).shouldBeFalse()
                val e = shouldThrow<LockAcquisitionException> { redsync.mutex("twice").tryLock() }
                val same = e.votes().errors().single()
                same.reason() shouldBe NodeException.Reason.SAME_SERVER
                same.reason().isConfiguration.shouldBeTrue()
                listOf(0, 1) shouldContain same.nodeIndex()
                same.message!! shouldContain "127.0.0.1:${nodes.node(0).port()}"
                same.message!! shouldContain "127.0.0.1:${proxy.port()}"
                // Without another owner the lock works on the two distinct servers.
                nodes.node(1).call("DEL", "twice")
                redsync.lock("twice").release()
                redsync.awaitConnected(Duration.ofSeconds(10)).shouldBeFalse()
            }
        }
        nodes.keysByNode().forEach { it.filterNot { k -> k == "twice" }.shouldBeEmpty() }
    }

    test("the caller's client resources are used for URI nodes and survive the instance's close") {
        val resources = DefaultClientResources.create()
        val connected = CopyOnWriteArrayList<Int>()
        val subscription = resources.eventBus().get().ofType(ConnectedEvent::class.java)
            .subscribe { connected += (it.remoteAddress() as InetSocketAddress).port }
        try {
            Redsync.builder().uris(nodes.uris()).clientResources(resources).build().use { redsync ->
                redsync.lock("resources").release()
            }
            awaitUntil("the resources' event bus saw our connections") { connected.containsAll(nodes.nodes().map { it.port() }) }
            resources.eventExecutorGroup().isShuttingDown.shouldBeFalse()
            // Still usable: a second instance on them works.
            Redsync.builder().uris(nodes.uris()).clientResources(resources).build().use { redsync ->
                redsync.lock("resources").release()
            }
            resources.eventExecutorGroup().isShuttingDown.shouldBeFalse()
            val client = RedisClient.create(resources)
            shouldThrow<IllegalArgumentException> {
                Redsync.builder().node(client, RedisURI.create(nodes.node(0).uri())).clientResources(resources).build()
            }.message!! shouldContain "clientResources was set, but no node is given as a URI"
            client.shutdown()
        } finally {
            subscription.dispose()
            resources.shutdown().get(10, TimeUnit.SECONDS)
        }
    }
})
