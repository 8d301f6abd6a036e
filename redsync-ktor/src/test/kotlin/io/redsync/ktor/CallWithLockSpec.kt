package io.redsync.ktor

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.ktor.client.request.get
import io.ktor.client.request.post
import io.ktor.client.statement.bodyAsText
import io.ktor.http.HttpStatusCode
import io.ktor.server.application.call
import io.ktor.server.response.respondText
import io.ktor.server.routing.get
import io.ktor.server.routing.post
import io.ktor.server.routing.routing
import io.ktor.server.testing.testApplication
import io.redsync.coroutines.lockOptions
import io.redsync.testkit.RedisNodes
import io.ktor.http.HttpHeaders
import io.kotest.matchers.ints.shouldBeInRange
import io.redsync.testkit.fixtures.nodesPerSpec
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.coroutineScope
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

class CallWithLockSpec : FunSpec({
    val nodes = nodesPerSpec(3, RedisNodes::flushAll)

    test("call.withLock in a plain handler holds the lock (key on every node) while the block runs, then releases it") {
        val during = mutableListOf<Int>()
        testApplication {
            application {
                installRedsync(nodes) { keyPrefix = "billing:" }
                routing {
                    post("/invoices/{id}/pay") {
                        val id = call.parameters["id"]!!
                        val token = call.withLock("invoice:$id") { lease ->
                            during += nodes.holding("billing:invoice:42")
                            lease.name
                        }
                        call.respondText("paid under $token")
                    }
                }
            }
            val response = client.post("/invoices/42/pay")
            response.status shouldBe HttpStatusCode.OK
            response.bodyAsText() shouldBe "paid under invoice:42"
        }
        (during.single() >= nodes.quorum) shouldBe true
        nodes.awaitNoKeys()
    }

    test("call.withLock takes per-call options, and application.redsync.withLock works alike") {
        val ttls = mutableListOf<Long>()
        testApplication {
            application {
                installRedsync(nodes)
                routing {
                    get("/short") {
                        call.withLock("short", lockOptions { expiry = 3.seconds; nodeTimeout = TEST_NODE_TIMEOUT; keepAlive = false }) {
                            ttls += nodes.nodes().maxOf { it.call("PTTL", "short") as Long }
                        }
                        call.application.redsync.withLock("app-level") {
                            ttls += nodes.nodes().maxOf { it.call("PTTL", "app-level") as Long }
                        }
                        call.respondText("ok")
                    }
                }
            }
            client.get("/short").bodyAsText() shouldBe "ok"
        }
        (ttls[0] in 1..3000) shouldBe true // the per-call expiry
        (ttls[1] in 3001..8000) shouldBe true // the default 8 s
        nodes.awaitNoKeys()
    }

    test("application.redsync without the plugin says to install it") {
        val failure = shouldThrow<IllegalStateException> {
            testApplication {
                application { redsync }
                startApplication()
            }
        }
        failure.message!! shouldContain "install(Redsync)"
    }
    context("answers as the route guard does, never with exception text (issue 16)") {
        test("busy: the plugin's busy status with Retry-After from the holder's TTL, an empty body, and the handler ends there") {
            nodes.nodes().forEach { it.call("SET", "shop:stock:9", "other-service", "PX", "30000") }
            val after = AtomicInteger()
            testApplication {
                application {
                    installRedsync(nodes) {
                        keyPrefix = "shop:"
                        busyStatus = HttpStatusCode.Locked
                    }
                    routing {
                        get("/stock/{sku}") {
                            val count = call.withLock("stock:${call.parameters["sku"]}", call.redsync.options { tries = 2 }) { "12" }
                            after.incrementAndGet()
                            call.respondText(count)
                        }
                    }
                }
                val busy = client.get("/stock/9")
                busy.status shouldBe HttpStatusCode.Locked
                busy.headers[HttpHeaders.RetryAfter]!!.toInt() shouldBeInRange 29..30
                busy.bodyAsText() shouldBe ""
            }
            after.get() shouldBe 0
        }

        test("nodes not answering: 503 with an empty body, not 500 with the exception's text") {
            testApplication {
                application {
                    installRedsync(nodes) { keyPrefix = "shop:" }
                    routing {
                        get("/stock") {
                            val count = call.withLock("stock", lockOptions { tries = 1; expiry = 3.seconds; nodeTimeout = 200.milliseconds }) { "12" }
                            call.respondText(count)
                        }
                    }
                }
                startApplication()
                nodes.node(1).pause()
                nodes.node(2).pause()
                try {
                    val failed = client.get("/stock")
                    failed.status shouldBe HttpStatusCode.ServiceUnavailable
                    failed.bodyAsText() shouldBe ""
                } finally {
                    nodes.node(1).resume()
                    nodes.node(2).resume()
                }
            }
            nodes.awaitNoKeys()
        }

        test("the lease lost while the block runs: the block is cancelled, 503 with an empty body") {
            val entered = CompletableDeferred<Unit>()
            testApplication {
                application {
                    installRedsync(nodes) { keyPrefix = "jobs:" }
                    routing {
                        post("/rebuild") {
                            // Extended every 500 ms: the first extension after the DEL is refused, the lease is lost.
                            call.withLock("rebuild", call.redsync.options { expiry = 1500.milliseconds; nodeTimeout = 700.milliseconds }) {
                                entered.complete(Unit)
                                awaitCancellation()
                            }
                        }
                    }
                }
                coroutineScope {
                    val response = async { client.post("/rebuild") }
                    entered.awaitEnteredBy(response)
                    nodes.nodes().forEach { it.call("DEL", "jobs:rebuild") }
                    val lost = response.await()
                    lost.status shouldBe HttpStatusCode.ServiceUnavailable
                    lost.bodyAsText() shouldBe ""
                }
            }
            nodes.awaitNoKeys()
        }

        test("call.redsync.options { } keeps the plugin's defaults: expiry and fencing") {
            var token: Long? = null
            var ttl = 0L
            testApplication {
                application {
                    installRedsync(nodes) { defaults { expiry = 10.seconds; fencing = true } }
                    routing {
                        get("/fenced") {
                            call.withLock("fenced", call.redsync.options { tries = Int.MAX_VALUE }) { lease ->
                                token = lease.fencingToken
                                ttl = nodes.node(0).call("PTTL", "fenced") as Long
                            }
                            call.respondText("ok")
                        }
                    }
                }
                client.get("/fenced").bodyAsText() shouldBe "ok"
            }
            (token != null) shouldBe true
            (ttl > 8_000) shouldBe true
        }
    }
})
