package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.redsync.testkit.RedisNodes
import java.io.File

/**
 * `redis-socket://` nodes (issue 14, items 4 and 5) against a real redis-server listening on a unix socket. With
 * `netty-transport-native-epoll` (a test dependency here, disabled in the test JVM by `-Dio.lettuce.core.epoll=false`
 * and enabled per child JVM) the scheme works; without it, `build()` still succeeds and the lock call reports why,
 * and no failed node leaves Lettuce's shared threads running.
 */
class UnixSocketSpec : FunSpec({
    val socket = File.createTempFile("redsync-", ".sock").apply { delete() }
    val nodes = RedisNodes.builder().count(1).config("unixsocket", socket.path).config("unixsocketperm", "700").start()
    val tcp = RedisNodes.start(1)
    afterSpec {
        nodes.close()
        tcp.close()
        socket.delete()
    }
    val socketUri = "redis-socket://${socket.path}"

    test("with netty-transport-native-epoll a redis-socket:// node locks, and nothing is left running after close") {
        val output = SocketChildMain.runChild(epoll = true, socketUri, tcp.node(0).uri())
        withClue(output) {
            output shouldContain "socket: ok"
            output shouldContain "lettuce threads left: 0"
        }
        nodes.node(0).keys().isEmpty() shouldBe true
    }

    test("without epoll build() succeeds, the lock call names the missing library, and no Lettuce thread is leaked") {
        val output = SocketChildMain.runChild(epoll = false, socketUri, tcp.node(0).uri())
        withClue(output) {
            output shouldContain "socket: failed:"
            output shouldContain "epoll"
            output shouldContain "lettuce threads left: 0"
        }
    }

    test("in this JVM (epoll off) too: build() does not throw, the call fails with the node's reason") {
        Redsync.builder().uri(socketUri).defaults(LockOptions.builder().tries(1).build()).build().use { redsync ->
            val e = shouldThrow<LockAcquisitionException> { redsync.lock("no-epoll") }
            e.votes().errors().single().message!! shouldContain "netty-transport-native-epoll"
        }
    }
})
