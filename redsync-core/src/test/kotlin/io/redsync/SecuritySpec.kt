package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.io.ByteArrayOutputStream
import java.io.PrintStream
import java.io.PrintWriter
import java.io.StringWriter
import java.security.SecureRandom
import java.time.Duration
import java.util.Base64

/** Owner tokens are unguessable and never logged, passwords never printed, and a lock only yields to its token. */
class SecuritySpec : FunSpec({
    val nodes = nodesPerSpec(3)

    fun Throwable.fullText(): String = StringWriter().also { printStackTrace(PrintWriter(it)) }.toString()

    test("owner tokens are 16 bytes from one SecureRandom, base64, and distinct") {
        val generator = Class.forName("io.redsync.LockOptions\$RandomValues").getDeclaredField("RANDOM")
        generator.type shouldBe SecureRandom::class.java
        LockOptions.defaults().valueGenerator().toString() shouldBe "16 SecureRandom bytes, base64"

        val values = nodes.redsync(1).use { redsync -> (1..200).map { redsync.lock("token").use { it.value() } } }
        values.toSet() shouldHaveSize 200
        values.forEach { value ->
            value.length shouldBe 24
            Base64.getDecoder().decode(value).size shouldBe 16
        }
    }

    test("no owner token is ever logged at INFO or above, across lock, contention, extend, keep-alive, loss and failed release") {
        // The tests log through slf4j-simple: INFO and above, to System.err, looked up on every write.
        val captured = ByteArrayOutputStream()
        val originalErr = System.err
        val values = mutableListOf<String>()
        System.setErr(PrintStream(captured, true))
        try {
            nodes.redsync().use { redsync ->
                val holder = redsync.lock("secret")
                values += holder.value()
                val waiter = redsync.lockAsync("secret", LockOptions.builder().retryDelay(RetryDelay.constant(ms(20))).build())
                holder.extend()
                holder.release()
                val second = waiter.get()
                values += second.value()
                second.release()

                // A kept-alive lease is lost when two nodes die (logged as a warning), and its release then fails
                // (logged by close() as a warning).
                val kept = redsync.lock("secret", LockOptions.builder().expiry(ms(1500)).nodeTimeout(ms(100)).build())
                values += kept.value()
                kept.keepAlive(KeepAlive.builder().interval(ms(100)).build())
                nodes.node(1).kill()
                nodes.node(2).kill()
                awaitUntil("the lease is declared lost") { kept.isLost }
                kept.close()
                shouldThrow<LockAcquisitionException> {
                    redsync.lock("other", LockOptions.builder().tries(2).retryDelay(RetryDelay.constant(ms(1))).build())
                }
            }
        } finally {
            System.setErr(originalErr)
        }
        val log = captured.toString()
        // Proof the capture works: the loss and the failed release were logged.
        log shouldContain "WARN"
        log shouldContain "secret"
        values shouldHaveSize 3
        values.forEach { log shouldNotContain it }
    }

    test("passwords appear in no toString and no exception text, whether wrong, unreachable or right") {
        RedisNodes.builder().password("Very-Secret-Pw").start().use { protected ->
            val port = protected.node(0).port()
            val right = "redis://:Very-Secret-Pw@127.0.0.1:$port"
            val options = LockOptions.builder().tries(1).nodeTimeout(Duration.ofSeconds(3)).value("preset-token").build()
            Redsync.builder().uri(right).defaults(options).build().use { redsync ->
                val mutex = redsync.mutex("pw")
                val lease = mutex.lock()
                listOf(redsync.toString(), options.toString(), mutex.toString(), lease.toString()).forEach {
                    it shouldNotContain "Very-Secret-Pw"
                    it shouldNotContain "preset-token"
                }
                lease.release()
            }
            val failures = listOf(
                "redis://:Wrong-Secret-Pw@127.0.0.1:$port",
                "redis://someone:Wrong-Secret-Pw@127.0.0.1:$port",
                "redis://:Wrong-Secret-Pw@127.0.0.1:${freePort()}",
            ).map { uri ->
                Redsync.builder().uri(uri).defaults(options).build().use { redsync ->
                    redsync.toString() shouldNotContain "Wrong-Secret-Pw"
                    shouldThrow<LockAcquisitionException> { redsync.lock("pw") }
                }
            }
            failures.map { it.votes().errors().single().reason() } shouldBe
                listOf(NodeException.Reason.AUTHENTICATION, NodeException.Reason.AUTHENTICATION, NodeException.Reason.UNREACHABLE)
            failures.forEach {
                it.fullText() shouldNotContain "Wrong-Secret-Pw"
                it.fullText() shouldNotContain "Very-Secret-Pw"
            }
            val malformed = shouldThrow<IllegalArgumentException> { Redsync.create("redis://:Very-Secret-Pw@127.0.0.1:99999") }
            malformed.fullText() shouldNotContain "Very-Secret-Pw"
        }
    }

    test("another client cannot release or extend a lock without its token; the holder's keys and TTL stay") {
        nodes.redsync().use { holderSide ->
            val lease = holderSide.lock("guarded", LockOptions.builder().expiry(Duration.ofSeconds(20)).build())
            nodes.redsync().use { intruder ->
                shouldThrow<IllegalStateException> { intruder.mutex("guarded").unlock() }
                shouldThrow<IllegalStateException> { intruder.mutex("guarded").extend() }
                val guess = LockOptions.builder().value("a-guessed-token").expiry(Duration.ofSeconds(60)).tries(1).build()
                val ttlBefore = nodes.nodes().map { it.call("PTTL", "guarded") as Long }
                shouldThrow<LockNotHeldException> { intruder.mutex("guarded", guess).unlock() }.votes()!!.heldByOthers() shouldBe listOf(0, 1, 2)
                shouldThrow<LockNotHeldException> { intruder.mutex("guarded", guess).extend() }
                shouldThrow<LockTakenException> { intruder.mutex("guarded", guess).lock() }
                nodes.nodes().forEachIndexed { i, node ->
                    node.call("GET", "guarded") shouldBe lease.value()
                    val ttl = node.call("PTTL", "guarded") as Long
                    ttl shouldBeLessThanOrEqual ttlBefore[i] // not extended to the intruder's 60 s
                    ttl shouldBeGreaterThan 0
                }
            }
            lease.release()
        }
        nodes.keysByNode().forEach { it shouldBe emptySet() }
    }
})
