package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.SslOptions
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.ms
import java.io.PrintWriter
import java.io.StringWriter
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * TLS against real redis-server TLS ports, with certificates made by openssl at test time. Skipped, with the
 * reason printed, where openssl is missing or redis-server was built without TLS (the embedded 6.2 binary).
 */
class TlsSpec : FunSpec({
    val unavailable = TestCertificates.unavailableReason
    if (unavailable != null) println("TlsSpec: TLS cases skipped: $unavailable")
    val certs = if (unavailable == null) TestCertificates.create() else null
    val tlsNodes = if (certs != null) List(3) { startTlsNode(certs) } else emptyList()
    afterSpec {
        tlsNodes.forEach { it.close() }
        certs?.delete()
    }
    beforeEach { tlsNodes.forEach { it.node.flush() } }

    fun trusting(ca: java.nio.file.Path): SslOptions = SslOptions.builder().trustManager(ca.toFile()).build()
    val options = LockOptions.builder().tries(2).retryDelay(RetryDelay.constant(ms(1))).expiry(Duration.ofSeconds(30))
        .nodeTimeout(Duration.ofSeconds(3)).build()

    fun noKeysAnywhere() = tlsNodes.forEach { it.node.keys().filterNot { k -> k.endsWith(":fence") }.shouldBeEmpty() }

    fun RedsyncException.fullText(): String = StringWriter().also { printStackTrace(PrintWriter(it)) }.toString()

    /** The single node's failure of a 1-node lock call, checked to be classified as [reason]. */
    fun failureOf(reason: NodeException.Reason, says: Regex, build: () -> Redsync): LockAcquisitionException {
        val e = build().use { shouldThrow<LockAcquisitionException> { it.lock("tls") } }
        val error = e.votes().errors().single()
        withClue(error.message) {
            error.reason() shouldBe reason
            error.message shouldContain says
            reason.fix()?.let { e.message shouldContain it }
        }
        noKeysAnywhere()
        return e
    }

    test("sslOptions without any rediss:// node is refused at build, saying where TLS settings go") {
        val e = shouldThrow<IllegalArgumentException> {
            Redsync.builder().uri("redis://127.0.0.1:6379").sslOptions(SslOptions.create()).build()
        }
        e.message shouldContain "no node URI uses TLS"
        e.message shouldContain "rediss://"
    }

    context("over TLS").config(enabled = unavailable == null) {
        test("rediss:// with our CA trusted: lock, notification, extend, keep-alive, fencing and unlock work") {
            Redsync.builder().uris(tlsNodes.map { it.tlsUri }).sslOptions(trusting(certs!!.caCert)).build().use { redsync ->
                val holder = redsync.lock("tls", options)
                val waiter = redsync.lockAsync("tls", LockOptions.builder().expiry(Duration.ofSeconds(30))
                    .retryDelay(RetryDelay.constant(Duration.ofSeconds(20))).build())
                awaitUntil("the waiter subscribed on every node") {
                    tlsNodes.all { (it.node.call("PUBSUB", "NUMSUB", "redsync:released:tls") as List<*>)[1] == 1L }
                }
                tlsNodes.forEach { it.node.call("GET", "tls") shouldBe holder.value() }
                holder.extend()
                holder.release()
                val second = waiter.get(15, TimeUnit.SECONDS) // polling alone would take 20 s: notified over TLS
                val before = tlsNodes.sumOf { it.node.scriptCalls() }
                second.keepAlive(KeepAlive.builder().interval(ms(50)).build())
                awaitUntil("two keep-alive extensions") { tlsNodes.sumOf { it.node.scriptCalls() } >= before + 6 }
                second.release()
                val fenced = LockOptions.builder().fencing(true).build()
                val first = redsync.lock("fenced", fenced).use { it.fencingToken().asLong }
                redsync.lock("fenced", fenced).use { it.fencingToken().asLong } shouldBeGreaterThan first
            }
            noKeysAnywhere()
        }

        test("a server certificate from a CA we do not trust fails with TLS, without leaking the password") {
            val e = failureOf(NodeException.Reason.TLS, Regex("certif|PKIX")) {
                Redsync.builder().uri("rediss://:Tls-Secret-pw@127.0.0.1:${tlsNodes[0].tlsPort}")
                    .sslOptions(trusting(certs!!.otherCaCert)).defaults(options).build()
            }
            e.fullText() shouldNotContain "Tls-Secret-pw"
        }

        test("the JVM's default trust store does not know our CA: TLS") {
            failureOf(NodeException.Reason.TLS, Regex("certif|PKIX")) {
                Redsync.builder().uri(tlsNodes[0].tlsUri).defaults(options).build()
            }
        }

        test("rediss:// at a port that does not speak TLS: TLS once the handshake times out") {
            // A plain port waits for the rest of a "command" that never comes: the handshake stalls until its
            // timeout (Netty's default is 10 s; shorter here, within the node timeout).
            val impatient = SslOptions.builder().trustManager(certs!!.caCert.toFile()).handshakeTimeout(Duration.ofSeconds(1)).build()
            failureOf(NodeException.Reason.TLS, Regex("handshake")) {
                Redsync.builder().uri("rediss://127.0.0.1:${tlsNodes[0].node.port()}").sslOptions(impatient)
                    .defaults(options).build()
            }
        }

        test("redis:// at a TLS-only port: the node hangs up, and the fix mentions rediss://") {
            failureOf(NodeException.Reason.UNREACHABLE, Regex("reset|closed")) {
                Redsync.builder().uri("redis://127.0.0.1:${tlsNodes[0].tlsPort}").defaults(options).build()
            }
        }

        test("one node of three with an untrusted certificate: the others make the quorum, failures name it") {
            val wrongCa = RedisClient.create()
            wrongCa.options = ClientOptions.builder().sslOptions(trusting(certs!!.otherCaCert)).build()
            try {
                Redsync.builder().uri(tlsNodes[0].tlsUri).node(wrongCa, RedisURI.create(tlsNodes[1].tlsUri)).uri(tlsNodes[2].tlsUri)
                    .sslOptions(trusting(certs.caCert)).defaults(options).build().use { redsync ->
                        val lease = redsync.lock("tls")
                        tlsNodes.map { it.node.call("GET", "tls") == lease.value() } shouldBe listOf(true, false, true)
                        lease.release()
                        tlsNodes[2].node.call("SET", "tls", "someone else", "PX", "60000")
                        val e = shouldThrow<LockAcquisitionException> { redsync.mutex("tls", options).tryLock() }
                        e.votes().failed() shouldBe listOf(1)
                        e.votes().errors().single().reason() shouldBe NodeException.Reason.TLS
                        e.message shouldContain "node 1 (127.0.0.1:${tlsNodes[1].tlsPort})"
                        tlsNodes[2].node.call("DEL", "tls")
                    }
            } finally {
                wrongCa.shutdown()
            }
            noKeysAnywhere()
        }
    }
})
