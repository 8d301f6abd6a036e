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
import io.redsync.coroutines.withLock
import io.redsync.testkit.RedisNodes
import kotlin.time.Duration.Companion.seconds

class CallWithLockSpec : FunSpec({
    val nodes = RedisNodes.start(3)
    afterSpec { nodes.close() }
    beforeEach { nodes.flushAll() }

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
                            lease.name()
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
})
