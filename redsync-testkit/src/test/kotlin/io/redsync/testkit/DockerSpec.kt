package io.redsync.testkit

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.annotation.Condition
import io.kotest.core.annotation.EnabledIf
import io.kotest.core.spec.Spec
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import java.net.SocketTimeoutException
import java.time.Duration
import kotlin.reflect.KClass

/** Runs the Docker specs only where Testcontainers finds a Docker engine. */
class DockerAvailable : Condition {
    override fun evaluate(kclass: KClass<out Spec>): Boolean = RedisNodes.dockerAvailable()
}

@EnabledIf(DockerAvailable::class)
class DockerSpec : FunSpec({
    val redis = RedisNodes.docker(2)
    afterSpec { redis.close() }

    test("each container answers PING on its own fixed port, and pid() is -1") {
        redis.nodes().map { it.call("PING") } shouldBe listOf("PONG", "PONG")
        redis.nodes().map { it.port() }.toSet() shouldHaveSize 2
        redis.nodes().forEach { it.pid() shouldBe -1L }
        redis.uris() shouldBe redis.nodes().map { "redis://${it.host()}:${it.port()}" }
    }

    test("kill() stops the container and restart() brings it back on the same port") {
        val node = redis.node(0)
        val port = node.port()
        node.kill()
        node.isRunning() shouldBe false
        shouldThrow<IllegalStateException> { node.call("PING") }
        node.restart()
        node.port() shouldBe port
        node.call("PING") shouldBe "PONG"
    }

    test("pause() freezes the container and resume() thaws it") {
        val node = redis.node(1)
        node.pause()
        node.isPaused() shouldBe true
        RespClient.connect(node.host(), node.port(), null, Duration.ofMillis(300)).use { client ->
            shouldThrow<SocketTimeoutException> { client.call("PING") }
        }
        node.resume()
        node.call("PING") shouldBe "PONG"
    }
})
