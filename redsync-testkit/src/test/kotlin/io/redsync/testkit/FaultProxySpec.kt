package io.redsync.testkit

import io.kotest.assertions.nondeterministic.eventually
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.throwables.shouldThrowAny
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.InputStream
import java.net.ConnectException
import java.net.InetSocketAddress
import java.net.Socket
import java.net.SocketTimeoutException
import java.time.Duration
import kotlin.time.Duration.Companion.seconds

/** A raw connection speaking inline commands ("PING\r\n"), so the proxy is tested without any client library. */
private class Raw(port: Int) : AutoCloseable {
    val socket = Socket().apply { connect(InetSocketAddress("127.0.0.1", port), 2_000); soTimeout = 5_000 }
    private val input: InputStream = socket.getInputStream()
    fun send(command: String) = socket.getOutputStream().run { write("$command\r\n".toByteArray()); flush() }
    /** Reads one line of reply, e.g. "+PONG". */
    fun line(): String {
        val sb = StringBuilder()
        while (true) {
            val c = input.read()
            if (c < 0) throw java.io.EOFException("connection closed after '$sb'")
            if (c == '\n'.code) return sb.toString().trimEnd('\r')
            sb.append(c.toChar())
        }
    }
    override fun close() = socket.close()
}

class FaultProxySpec : FunSpec({
    val redis = RedisNodes.start(1)
    val node = redis.node(0)
    afterSpec { redis.close() }
    afterTest { redis.flushAll() }

    test("without faults it forwards commands both ways and counts its connections") {
        FaultProxy.to(node).use { proxy ->
            proxy.uri() shouldBe "redis://127.0.0.1:${proxy.port()}"
            Raw(proxy.port()).use { c ->
                c.send("SET via proxy")
                c.line() shouldBe "+OK"
                node.call("GET", "via") shouldBe "proxy"
                eventually(5.seconds) { proxy.connections() shouldBe 1 }
            }
            eventually(5.seconds) { proxy.connections() shouldBe 0 }
        }
    }

    test("latency delays the round trip by at least twice the one-way delay") {
        FaultProxy.to(node).use { proxy ->
            Raw(proxy.port()).use { c ->
                proxy.latency(Duration.ofMillis(150))
                val start = System.nanoTime()
                c.send("PING")
                c.line() shouldBe "+PONG"
                // A lower bound only: a slow machine makes it longer, never shorter.
                (System.nanoTime() - start) / 1_000_000 shouldBeGreaterThanOrEqual 300L
                proxy.toString() shouldContain "latency 150/150 ms"
            }
        }
    }

    test("a reply-only delay lets the command run at once while its answer is held back") {
        FaultProxy.to(node).use { proxy ->
            Raw(proxy.port()).use { c ->
                proxy.latency(Duration.ZERO, Duration.ofSeconds(30))
                c.send("SET early bird")
                eventually(5.seconds) { node.call("GET", "early") shouldBe "bird" }
                c.socket.soTimeout = 200
                shouldThrow<SocketTimeoutException> { c.line() }
                proxy.heal()
                c.socket.soTimeout = 5_000
                c.line() shouldBe "+OK"
            }
        }
    }

    test("a blackhole keeps the connection open but silent; heal delivers the held bytes in order") {
        FaultProxy.to(node).use { proxy ->
            Raw(proxy.port()).use { c ->
                proxy.blackhole()
                c.send("SET held 1")
                c.send("PING")
                c.socket.soTimeout = 300
                shouldThrow<SocketTimeoutException> { c.line() }
                node.call("GET", "held") shouldBe null // the command never reached the node
                proxy.heal()
                c.socket.soTimeout = 5_000
                c.line() shouldBe "+OK"
                c.line() shouldBe "+PONG"
                node.call("GET", "held") shouldBe "1"
            }
        }
    }

    test("cut resets open connections and refuses new ones; heal accepts again on the same port") {
        FaultProxy.to(node).use { proxy ->
            val port = proxy.port()
            Raw(port).use { c ->
                c.send("PING")
                c.line() shouldBe "+PONG"
                proxy.cut()
                shouldThrowAny { c.send("PING"); c.line() }
            }
            shouldThrow<ConnectException> { Raw(port) }
            proxy.toString() shouldContain "cut"
            proxy.heal()
            proxy.port() shouldBe port
            Raw(port).use { c ->
                c.send("PING")
                c.line() shouldBe "+PONG"
            }
        }
    }

    test("it forwards to the node's port across a restart; a killed node closes new connections") {
        FaultProxy.to(node).use { proxy ->
            node.kill()
            Raw(proxy.port()).use { c -> shouldThrowAny { c.send("PING"); c.line() } }
            node.restart()
            Raw(proxy.port()).use { c ->
                c.send("PING")
                c.line() shouldBe "+PONG"
            }
        }
    }

    test("close stops listening and is idempotent; bad arguments are rejected with the reason") {
        val proxy = FaultProxy.to(node)
        proxy.close()
        proxy.close()
        shouldThrow<ConnectException> { Raw(proxy.port()) }
        shouldThrow<IllegalStateException> { proxy.heal() }.message shouldContain "closed"
        shouldThrow<IllegalArgumentException> { FaultProxy.to("127.0.0.1", 0) }.message shouldBe "port must be in 1..65535, was 0"
        FaultProxy.to(node).use {
            shouldThrow<IllegalArgumentException> { it.latency(Duration.ofMillis(-1)) }.message shouldContain "toServer latency must be >= 0"
        }
    }
})
