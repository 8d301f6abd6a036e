package io.redsync.testkit

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withTests
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeInstanceOf
import io.redsync.testkit.fixtures.nodesPerSpec
import java.net.URI
import java.nio.file.Files
import java.time.Duration

class RedisNodesSpec : FunSpec({
    val redis = nodesPerSpec(3) {}
    afterTest { redis.flushAll() }

    test("each of 3 nodes answers PING on its own port") {
        redis.size() shouldBe 3
        redis.nodes().map { it.call("PING") } shouldContainExactly listOf("PONG", "PONG", "PONG")
        redis.nodes().map { it.port() }.toSet() shouldHaveSize 3
        redis.nodes().map { it.index() } shouldContainExactly listOf(0, 1, 2)
        redis.nodes().forEach { it.isRunning() shouldBe true; it.isPaused() shouldBe false }
    }

    test("the nodes are separate processes") {
        redis.nodes().map { it.pid() }.toSet() shouldHaveSize 3
        redis.nodes().forEach { node ->
            val info = node.call("INFO", "server") as String
            info shouldContain "process_id:${node.pid()}"
            info shouldContain "tcp_port:${node.port()}"
        }
    }

    test("uris() are redis://127.0.0.1:<port> in index order") {
        redis.uris() shouldContainExactly redis.nodes().map { "redis://127.0.0.1:${it.port()}" }
        redis.uris().forEachIndexed { i, uri ->
            val parsed = URI(uri)
            parsed.scheme shouldBe "redis"
            parsed.host shouldBe "127.0.0.1"
            parsed.port shouldBe redis.node(i).port()
            parsed.userInfo.shouldBeNull()
        }
    }

    test("SET then GET through call() returns the value, and keys() sees the key") {
        val node = redis.node(1)
        node.call("SET", "greeting", "héllo wörld") shouldBe "OK"
        node.call("GET", "greeting") shouldBe "héllo wörld"
        node.keys() shouldBe setOf("greeting")
    }

    test("a key written to one node is absent on the others") {
        redis.node(0).call("SET", "only-on-0", "x")
        redis.node(1).keys().shouldBeEmpty()
        redis.node(2).keys().shouldBeEmpty()
    }

    test("keys(pattern) returns only the matching keys") {
        val node = redis.node(0)
        node.call("MSET", "lock:a", "1", "lock:b", "2", "other", "3")
        node.keys("lock:*") shouldBe setOf("lock:a", "lock:b")
    }

    test("flush() empties one node, flushAll() every node") {
        redis.nodes().forEach { it.call("SET", "k", "v") }
        redis.node(0).flush()
        redis.node(0).keys().shouldBeEmpty()
        redis.node(1).keys() shouldBe setOf("k")
        redis.flushAll()
        redis.nodes().forEach { it.keys().shouldBeEmpty() }
    }

    test("call() maps integers to Long, arrays to List and missing values to null") {
        val node = redis.node(2)
        node.call("INCR", "counter") shouldBe 1L
        node.call("RPUSH", "list", "a", "b") shouldBe 2L
        node.call("LRANGE", "list", "0", "-1") shouldBe listOf("a", "b")
        node.call("GET", "missing").shouldBeNull()
        node.call("LRANGE", "missing", "0", "-1") shouldBe emptyList<Any>()
    }

    test("an error reply throws RedisReplyException carrying Redis' message") {
        val node = redis.node(0)
        node.call("SET", "text", "v")
        val e = shouldThrow<RedisReplyException> { node.call("LPUSH", "text", "x") }
        e.message shouldStartWith "WRONGTYPE"
    }

    test("an error inside an EXEC reply is a RedisReplyException element, not a thrown one") {
        val node = redis.node(0)
        // MULTI state lives on one connection, so the transaction is sent through one RespClient.
        RespClient.connect(node.host(), node.port(), null, Duration.ofSeconds(5)).use { client ->
            client.call("SET", "text", "v")
            client.call("MULTI")
            client.call("LPUSH", "text", "x")
            client.call("INCR", "n")
            val replies = client.call("EXEC") as List<*>
            replies[0].shouldBeInstanceOf<RedisReplyException>().message shouldStartWith "WRONGTYPE"
            replies[1] shouldBe 1L
        }
    }

    test("binary() names its source, a version and an executable path, and is resolved once") {
        val binary = RedisNodes.binary()
        setOf("REDIS_SERVER", "PATH", "embedded-redis") shouldContain binary.source()
        binary.version() shouldContain Regex("""^\d+\.\d+\.\d+""")
        Files.isExecutable(binary.path()) shouldBe true
        (RedisNodes.binary() === binary) shouldBe true
    }

    test("docker() explains how to get Docker when it is unavailable").config(enabled = !RedisNodes.dockerAvailable()) {
        val e = shouldThrow<IllegalStateException> { RedisNodes.docker(1) }
        e.message shouldContain "Docker"
        e.message shouldContain "RedisNodes.start()"
        e.message shouldContain "dockerAvailable()"
    }

    context("the builder rejects bad options with a message naming the problem") {
        data class Row(val name: String, val message: String, val configure: RedisNodes.Builder.() -> Unit)
        withTests(
            nameFn = { r: Row -> r.name },
            ts = listOf(
                Row("count 0", "count must be >= 1, was 0") { count(0) },
                Row("count -2", "count must be >= 1, was -2") { count(-2) },
                Row("zero startup timeout", "startupTimeout must be positive, was PT0S") { startupTimeout(Duration.ZERO) },
                Row("empty password", "password must not be empty") { password("") },
                Row("config name with dashes", "without dashes") { config("--maxmemory", "1mb") },
                Row("config of the port", "the testkit sets port itself") { config("port", "6379") },
                Row("config of the dir", "the testkit sets dir itself") { config("DIR", "/tmp") },
            ),
        ) { row: Row ->
            val e = shouldThrow<IllegalArgumentException> { RedisNodes.builder().apply(row.configure) }
            e.message shouldContain row.message
        }
    }

    test("start(0) is rejected like count(0)") {
        shouldThrow<IllegalArgumentException> { RedisNodes.start(0) }.message shouldBe "count must be >= 1, was 0"
    }

    test("config() directives reach the server") {
        RedisNodes.builder().config("maxmemory", "1mb").config("maxmemory-policy", "allkeys-lru").start().use { nodes ->
            nodes.node(0).call("CONFIG", "GET", "maxmemory") shouldBe listOf("maxmemory", "1048576")
            nodes.node(0).call("CONFIG", "GET", "maxmemory-policy") shouldBe listOf("maxmemory-policy", "allkeys-lru")
        }
    }
})
