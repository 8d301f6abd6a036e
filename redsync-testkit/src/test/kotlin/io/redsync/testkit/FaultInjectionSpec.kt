package io.redsync.testkit

import io.kotest.assertions.nondeterministic.eventually
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import java.net.ConnectException
import java.net.SocketTimeoutException
import java.time.Duration
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.seconds

class FaultInjectionSpec : FunSpec({

    context("kill()") {
        test("the process is gone, the port refuses connections and isRunning() is false") {
            RedisNodes.start(2).use { redis ->
                val node = redis.node(0)
                val pid = node.pid()
                node.kill()
                node.isRunning() shouldBe false
                isProcessGone(pid) shouldBe true
                shouldThrow<ConnectException> { connect(node.port()) }
                redis.node(1).call("PING") shouldBe "PONG"
            }
        }

        test("call() on a killed node throws IllegalStateException naming the node index and port") {
            RedisNodes.start(2).use { redis ->
                val node = redis.node(1)
                node.kill()
                val e = shouldThrow<IllegalStateException> { node.call("PING") }
                e.message shouldContain "node 1 (127.0.0.1:${node.port()})"
                e.message shouldContain "restart()"
            }
        }

        test("restart() brings the node back on the same port with a new process") {
            RedisNodes.start(1).use { redis ->
                val node = redis.node(0)
                val port = node.port()
                val oldPid = node.pid()
                node.kill()
                node.restart()
                node.port() shouldBe port
                node.pid() shouldNotBe oldPid
                node.isRunning() shouldBe true
                node.call("PING") shouldBe "PONG"
                redis.uris() shouldBe listOf("redis://127.0.0.1:$port")
            }
        }

        test("with APPEND_ONLY_FSYNC_ALWAYS a key written before the kill survives the restart") {
            RedisNodes.builder().persistence(Persistence.APPEND_ONLY_FSYNC_ALWAYS).start().use { redis ->
                val node = redis.node(0)
                node.call("SET", "lock:orders", "token-1") shouldBe "OK"
                node.kill()
                node.restart()
                node.call("GET", "lock:orders") shouldBe "token-1"
            }
        }

        test("with Persistence.NONE the restarted node is empty") {
            RedisNodes.builder().persistence(Persistence.NONE).start().use { redis ->
                val node = redis.node(0)
                node.call("SET", "lock:orders", "token-1")
                node.kill()
                node.restart()
                node.keys().shouldBeEmpty()
            }
        }

        test("restart() of a running node kills it first") {
            RedisNodes.start(1).use { redis ->
                val node = redis.node(0)
                val oldPid = node.pid()
                node.restart()
                isProcessGone(oldPid) shouldBe true
                node.call("PING") shouldBe "PONG"
            }
        }
    }

    context("stop()") {
        test("shuts down gracefully, flushing the append-only file, so data written just before survives") {
            // everysec would lose the last second on a kill; a graceful SHUTDOWN fsyncs it.
            RedisNodes.builder().persistence(Persistence.APPEND_ONLY_EVERYSEC).start().use { redis ->
                val node = redis.node(0)
                node.call("SET", "k", "v")
                node.stop()
                node.isRunning() shouldBe false
                shouldThrow<ConnectException> { connect(node.port()) }
                node.restart()
                node.call("GET", "k") shouldBe "v"
            }
        }

        test("is a no-op on a node that is not running, and works on a paused node") {
            RedisNodes.start(2).use { redis ->
                redis.node(0).kill()
                redis.node(0).stop()
                redis.node(0).isRunning() shouldBe false
                redis.node(1).pause()
                redis.node(1).stop()
                redis.node(1).isRunning() shouldBe false
            }
        }
    }

    context("pause()") {
        test("a paused node accepts connections but answers nothing within 300 ms") {
            RedisNodes.start(1).use { redis ->
                val node = redis.node(0)
                node.pause()
                node.isPaused() shouldBe true
                node.isRunning() shouldBe true
                RespClient.connect(node.host(), node.port(), null, Duration.ofMillis(300)).use { client ->
                    shouldThrow<SocketTimeoutException> { client.call("PING") }
                }
            }
        }

        test("resume() makes it answer again, also on a connection opened while it was paused") {
            RedisNodes.start(1).use { redis ->
                val node = redis.node(0)
                node.pause()
                RespClient.connect(node.host(), node.port(), null, Duration.ofSeconds(5)).use { client ->
                    node.resume()
                    node.isPaused() shouldBe false
                    client.call("PING") shouldBe "PONG"
                }
                node.call("PING") shouldBe "PONG"
            }
        }

        test("call() on a paused node fails at once, naming the node, instead of hanging") {
            RedisNodes.start(1).use { redis ->
                val node = redis.node(0)
                node.pause()
                val e = shouldThrow<IllegalStateException> { node.call("PING") }
                e.message shouldContain "node 0 (127.0.0.1:${node.port()}) is paused"
                redis.flushAll() // skips the paused node rather than failing the cleanup
            }
        }

        test("pause() of a killed node is refused; kill() of a paused node works") {
            RedisNodes.start(2).use { redis ->
                redis.node(0).kill()
                shouldThrow<IllegalStateException> { redis.node(0).pause() }.message shouldContain "not running"
                redis.node(1).pause()
                redis.node(1).kill()
                redis.node(1).isRunning() shouldBe false
                redis.node(1).isPaused() shouldBe false
            }
        }
    }

    test("kill and restart from one thread while another thread keeps calling the node") {
        RedisNodes.start(1).use { redis ->
            val node = redis.node(0)
            val stop = AtomicBoolean()
            val answered = AtomicInteger()
            val unexpected = mutableListOf<Throwable>()
            val client = Thread {
                while (!stop.get()) {
                    try {
                        if (node.call("INCR", "n") != null) answered.incrementAndGet()
                    } catch (e: IllegalStateException) {
                        // down between kill and restart: expected
                    } catch (e: java.io.UncheckedIOException) {
                        // killed mid-call: expected
                    } catch (e: Throwable) {
                        synchronized(unexpected) { unexpected += e }
                    }
                }
            }
            client.start()
            try {
                repeat(3) {
                    node.kill()
                    node.restart()
                }
                // Wait for the client to succeed against the last restarted process, with a deadline.
                val before = answered.get()
                eventually(5.seconds) { answered.get() shouldNotBe before }
            } finally {
                stop.set(true)
                client.join(5_000)
            }
            unexpected.shouldBeEmpty()
        }
    }
})
