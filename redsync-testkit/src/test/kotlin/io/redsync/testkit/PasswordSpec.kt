package io.redsync.testkit

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import java.net.URI
import java.time.Duration

class PasswordSpec : FunSpec({
    val redis = RedisNodes.builder().count(2).password("s3cret").start()
    afterSpec { redis.close() }

    test("a client without AUTH is refused with NOAUTH") {
        val node = redis.node(0)
        RespClient.connect(node.host(), node.port(), null, Duration.ofSeconds(5)).use { client ->
            shouldThrow<RedisReplyException> { client.call("PING") }.message shouldStartWith "NOAUTH"
        }
    }

    test("a client with the wrong password is refused") {
        val node = redis.node(0)
        shouldThrow<RedisReplyException> {
            RespClient.connect(node.host(), node.port(), "wrong", Duration.ofSeconds(5)).close()
        }.message shouldStartWith "WRONGPASS"
    }

    test("call() authenticates, so commands work") {
        redis.nodes().forEach { node ->
            node.call("SET", "k", "v") shouldBe "OK"
            node.call("GET", "k") shouldBe "v"
        }
    }

    test("uris() carry the password as redis://:password@127.0.0.1:port") {
        redis.uris() shouldBe redis.nodes().map { "redis://:s3cret@127.0.0.1:${it.port()}" }
    }

    test("a restarted node still requires and accepts the password") {
        val node = redis.node(1)
        node.kill()
        node.restart()
        node.call("PING") shouldBe "PONG"
        RespClient.connect(node.host(), node.port(), null, Duration.ofSeconds(5)).use { client ->
            shouldThrow<RedisReplyException> { client.call("PING") }.message shouldStartWith "NOAUTH"
        }
    }

    test("a password with URI-reserved characters is percent-encoded in the URI and decodes back") {
        RedisNodes.builder().password("p@ss:w/rd ü").start().use { nodes ->
            val uri = nodes.node(0).uri()
            uri shouldBe "redis://:p%40ss%3Aw%2Frd%20%C3%BC@127.0.0.1:${nodes.node(0).port()}"
            URI(uri).userInfo shouldBe ":p@ss:w/rd ü"
            nodes.node(0).call("PING") shouldBe "PONG"
        }
    }

    test("config(\"requirepass\", ...) also makes the testkit authenticate") {
        RedisNodes.builder().config("requirepass", "via-config").start().use { nodes ->
            nodes.node(0).call("PING") shouldBe "PONG"
            nodes.uris() shouldBe listOf("redis://:via-config@127.0.0.1:${nodes.node(0).port()}")
        }
    }

    test("password() and config(\"requirepass\", ...) that disagree are rejected") {
        shouldThrow<IllegalArgumentException> {
            RedisNodes.builder().password("a").config("requirepass", "b").start()
        }.message shouldBe "password() and config(\"requirepass\", ...) set different passwords; set only one"
    }
})
