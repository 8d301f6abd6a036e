package io.redsync.ktor

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.ints.shouldBeInRange
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.ktor.client.request.get
import io.ktor.client.request.post
import io.ktor.client.statement.bodyAsText
import io.ktor.http.HttpHeaders
import io.ktor.http.HttpStatusCode
import io.ktor.server.application.ApplicationCallPipeline
import io.ktor.server.application.call
import io.ktor.server.response.header
import io.ktor.server.response.respond
import io.ktor.server.response.respondText
import io.ktor.server.routing.get
import io.ktor.server.routing.post
import io.ktor.server.routing.routing
import io.ktor.server.testing.testApplication
import io.redsync.LeaseLostException
import io.redsync.coroutines.lockOptions
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.nodesPerSpec
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.coroutineScope
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource

class RouteGuardSpec : FunSpec({
    val nodes = nodesPerSpec(3, RedisNodes::flushAll)

    context("TryOnce (the default mode)") {
        test("Retry-After comes from the holder's remaining TTL, not from the guard's own expiry") {
            // Another service holds the lock with a 30 s TTL; this route's own expiry is 4 s.
            nodes.nodes().forEach { it.call("SET", "shop:report", "other-service", "PX", "30000") }
            testApplication {
                application {
                    installRedsync(nodes) {
                        keyPrefix = "shop:"
                        defaults { expiry = 4.seconds }
                    }
                    routing {
                        withLock({ _ -> "report" }) {
                            post("/report") { call.respondText("done") }
                        }
                    }
                }
                val busy = client.post("/report")
                busy.status shouldBe HttpStatusCode.Conflict
                busy.headers[HttpHeaders.RetryAfter]!!.toInt() shouldBeInRange 29..30
            }
        }

        test("of two concurrent calls on one lock, one runs and the other is answered 409 with Retry-After") {
            val entered = CompletableDeferred<Unit>()
            val finish = CompletableDeferred<Unit>()
            val runs = AtomicInteger()
            testApplication {
                application {
                    installRedsync(nodes) {
                        keyPrefix = "shop:"
                        defaults { expiry = 4.seconds }
                    }
                    routing {
                        withLock({ call -> "order:${call.parameters["id"]}" }) {
                            post("/orders/{id}/pay") {
                                runs.incrementAndGet()
                                entered.complete(Unit)
                                finish.await()
                                call.respondText("paid ${call.parameters["id"]}")
                            }
                        }
                    }
                }
                coroutineScope {
                    val first = async { client.post("/orders/7/pay") }
                    entered.awaitEnteredBy(first)
                    (nodes.holding("shop:order:7") >= nodes.quorum) shouldBe true

                    val second = client.post("/orders/7/pay")
                    second.status shouldBe HttpStatusCode.Conflict
                    // Whole seconds, rounded up, at least 1, never more than the holder's expiry.
                    second.headers[HttpHeaders.RetryAfter]!!.toInt() shouldBeInRange 1..4
                    runs.get() shouldBe 1

                    finish.complete(Unit)
                    val firstResponse = first.await()
                    firstResponse.status shouldBe HttpStatusCode.OK
                    firstResponse.bodyAsText() shouldBe "paid 7"
                }
            }
            nodes.awaitNoKeys()
        }

        test("calls naming different locks do not wait for each other") {
            val finish = CompletableDeferred<Unit>()
            val entered = CompletableDeferred<Unit>()
            testApplication {
                application {
                    installRedsync(nodes)
                    routing {
                        withLock({ call -> "order:${call.parameters["id"]}" }) {
                            post("/orders/{id}/pay") {
                                if (call.parameters["id"] == "1") {
                                    entered.complete(Unit)
                                    finish.await()
                                }
                                call.respondText("ok")
                            }
                        }
                    }
                }
                coroutineScope {
                    val first = async { client.post("/orders/1/pay") }
                    entered.awaitEnteredBy(first)
                    client.post("/orders/2/pay").status shouldBe HttpStatusCode.OK
                    finish.complete(Unit)
                    first.await().status shouldBe HttpStatusCode.OK
                }
            }
        }

        test("answers 423 Locked when the plugin's busyStatus says so") {
            val entered = CompletableDeferred<Unit>()
            val finish = CompletableDeferred<Unit>()
            testApplication {
                application {
                    installRedsync(nodes) { busyStatus = HttpStatusCode.Locked }
                    routing {
                        withLock("import") {
                            post("/import") {
                                entered.complete(Unit)
                                finish.await()
                                call.respondText("imported")
                            }
                        }
                    }
                }
                coroutineScope {
                    val first = async { client.post("/import") }
                    entered.awaitEnteredBy(first)
                    val second = client.post("/import")
                    second.status shouldBe HttpStatusCode.Locked
                    second.headers[HttpHeaders.RetryAfter]!!.toInt() shouldBeInRange 1..8
                    finish.complete(Unit)
                    first.await().status shouldBe HttpStatusCode.OK
                }
            }
        }

        test("keeps a Retry-After that was set before the guard") {
            val entered = CompletableDeferred<Unit>()
            val finish = CompletableDeferred<Unit>()
            testApplication {
                application {
                    installRedsync(nodes)
                    intercept(ApplicationCallPipeline.Plugins) {
                        if (call.request.headers["X-Preset"] != null) call.response.header(HttpHeaders.RetryAfter, "120")
                    }
                    routing {
                        withLock("preset") {
                            post("/preset") {
                                entered.complete(Unit)
                                finish.await()
                                call.respondText("done")
                            }
                        }
                    }
                }
                coroutineScope {
                    val first = async { client.post("/preset") }
                    entered.awaitEnteredBy(first)
                    val second = client.post("/preset") { headers.append("X-Preset", "1") }
                    second.status shouldBe HttpStatusCode.Conflict
                    second.headers.getAll(HttpHeaders.RetryAfter) shouldContainExactly listOf("120")
                    finish.complete(Unit)
                    first.await().status shouldBe HttpStatusCode.OK
                }
            }
        }
    }

    context("Wait mode") {
        test("serialises concurrent calls: all succeed and their critical sections never overlap") {
            val sections = Sections()
            val arrivals = AtomicInteger()
            val firstEntered = CompletableDeferred<Unit>()
            val finishFirst = CompletableDeferred<Unit>()
            testApplication {
                application {
                    installRedsync(nodes)
                    routing {
                        withLock({ arrivals.incrementAndGet(); "report" }, LockMode.Wait(20.seconds)) {
                            post("/report/{who}") {
                                val who = call.parameters["who"]!!
                                sections.enter(who)
                                if (who == "a") {
                                    firstEntered.complete(Unit)
                                    finishFirst.await()
                                }
                                sections.exit(who)
                                call.respondText(who)
                            }
                        }
                    }
                }
                coroutineScope {
                    val a = async { client.post("/report/a") }
                    firstEntered.awaitEnteredBy(a)
                    val b = async { client.post("/report/b") }
                    val c = async { client.post("/report/c") }
                    // Both arrived, and a waiter has subscribed to release announcements (it failed once).
                    awaitUntil("b and c wait for the lock") { arrivals.get() == 3 && nodes.someoneWaits() }
                    sections.events shouldContainExactly listOf("enter a")

                    finishFirst.complete(Unit)
                    listOf(a, b, c).map { it.await() }.map { it.status to it.bodyAsText() } shouldContainExactly listOf(
                        HttpStatusCode.OK to "a", HttpStatusCode.OK to "b", HttpStatusCode.OK to "c",
                    )
                }
            }
            sections.maxInside shouldBe 1
            sections.events.chunked(2).forEach { (enter, exit) -> exit shouldBe enter.replace("enter", "exit") }
            nodes.awaitNoKeys()
        }

        test("answers the busy status once the timeout has passed without the lock") {
            val entered = CompletableDeferred<Unit>()
            val finish = CompletableDeferred<Unit>()
            val runs = AtomicInteger()
            testApplication {
                application {
                    installRedsync(nodes)
                    routing {
                        withLock("slow", LockMode.Wait(300.milliseconds)) {
                            post("/slow") {
                                runs.incrementAndGet()
                                entered.complete(Unit)
                                finish.await()
                                call.respondText("done")
                            }
                        }
                    }
                }
                coroutineScope {
                    val first = async { client.post("/slow") }
                    entered.awaitEnteredBy(first)
                    val start = TimeSource.Monotonic.markNow()
                    val second = client.post("/slow")
                    val waited = start.elapsedNow()
                    second.status shouldBe HttpStatusCode.Conflict
                    second.headers[HttpHeaders.RetryAfter]!!.toInt() shouldBeInRange 1..8
                    // It waited (retried) rather than giving up at once, and not much beyond its timeout.
                    (waited > 40.milliseconds) shouldBe true
                    (waited < 3.seconds) shouldBe true
                    runs.get() shouldBe 1
                    finish.complete(Unit)
                    first.await().status shouldBe HttpStatusCode.OK
                }
            }
        }
    }

    test("a lease lost mid-request cancels the handler and answers 503") {
        val entered = CompletableDeferred<Unit>()
        val cancelledWith = CompletableDeferred<Throwable>()
        testApplication {
            application {
                installRedsync(nodes) { keyPrefix = "jobs:" }
                routing {
                    // Extended every 500 ms: the first extension after the DEL is refused, the lease is lost.
                    withLock("rebuild", options = lockOptions { expiry = 1500.milliseconds; nodeTimeout = 700.milliseconds }) {
                        post("/rebuild") {
                            entered.complete(Unit)
                            try {
                                awaitCancellation()
                            } catch (e: CancellationException) {
                                cancelledWith.complete(e)
                                throw e
                            }
                        }
                    }
                }
            }
            coroutineScope {
                val response = async { client.post("/rebuild") }
                entered.awaitEnteredBy(response)
                (nodes.holding("jobs:rebuild") >= nodes.quorum) shouldBe true
                nodes.nodes().forEach { it.call("DEL", "jobs:rebuild") }
                response.await().status shouldBe HttpStatusCode.ServiceUnavailable
            }
        }
        cancelledWith.isCompleted shouldBe true
        generateSequence(cancelledWith.await()) { it.cause }.any { it is LeaseLostException } shouldBe true
        nodes.awaitNoKeys()
    }

    test("nodes not answering is not busy: 503 with an empty body, and the handler does not run") {
        val runs = AtomicInteger()
        testApplication {
            application {
                installRedsync(nodes)
                routing {
                    withLock("inventory", options = lockOptions { expiry = 3.seconds; nodeTimeout = 200.milliseconds }) {
                        post("/inventory") {
                            runs.incrementAndGet()
                            call.respondText("counted")
                        }
                    }
                }
            }
            startApplication()
            nodes.node(0).pause()
            nodes.node(1).pause()
            try {
                val failed = client.post("/inventory")
                failed.status shouldBe HttpStatusCode.ServiceUnavailable
                failed.bodyAsText() shouldBe ""
            } finally {
                nodes.node(0).resume()
                nodes.node(1).resume()
            }
        }
        runs.get() shouldBe 0
        nodes.awaitNoKeys()
    }

    test("nested guards hold both locks, outer first, while the handler runs") {
        val seen = CompletableDeferred<List<Set<String>>>()
        testApplication {
            application {
                installRedsync(nodes)
                routing {
                    withLock({ call -> "account:${call.parameters["account"]}" }) {
                        withLock({ call -> "order:${call.parameters["order"]}" }) {
                            post("/accounts/{account}/orders/{order}") {
                                seen.complete(nodes.keysByNode())
                                call.respondText("ok")
                            }
                        }
                    }
                }
            }
            client.post("/accounts/3/orders/9").status shouldBe HttpStatusCode.OK
        }
        seen.await().count { it == setOf("account:3", "order:9") } shouldBeGreaterThanOrEqual nodes.quorum
        nodes.awaitNoKeys()
    }

    test("a call answered before the guard (e.g. refused by an auth plugin) takes no lock") {
        val named = AtomicInteger()
        val runs = AtomicInteger()
        testApplication {
            application {
                installRedsync(nodes)
                intercept(ApplicationCallPipeline.Plugins) {
                    if (call.request.headers["Authorization"] == null) call.respond(HttpStatusCode.Unauthorized)
                }
                routing {
                    withLock({ named.incrementAndGet(); "secret" }) {
                        post("/secret") {
                            runs.incrementAndGet()
                            call.respondText("s")
                        }
                    }
                }
            }
            client.post("/secret").status shouldBe HttpStatusCode.Unauthorized
            named.get() shouldBe 0
            client.post("/secret") { headers.append("Authorization", "yes") }.status shouldBe HttpStatusCode.OK
            named.get() shouldBe 1
            runs.get() shouldBe 1
        }
    }

    test("unguarded routes beside a guard take no lock") {
        val seen = CompletableDeferred<List<Set<String>>>()
        testApplication {
            application {
                installRedsync(nodes)
                routing {
                    withLock("guarded") { get("/guarded") { call.respondText("g") } }
                    get("/free") {
                        seen.complete(nodes.keysByNode())
                        call.respondText("f")
                    }
                }
            }
            client.get("/free").bodyAsText() shouldBe "f"
        }
        seen.await().forEach { it.shouldBeEmpty() }
    }

    test("declaring a guard without the plugin fails at routing time, saying to install(Redsync) first") {
        val failure = shouldThrow<IllegalStateException> {
            testApplication {
                application {
                    routing {
                        withLock("x") { get("/x") { call.respondText("x") } }
                    }
                }
                startApplication()
            }
        }
        failure.message!! shouldContain "install(Redsync)"
        failure.message!! shouldContain "Route.withLock"
    }

    test("LockMode.Wait rejects a non-positive timeout") {
        shouldThrow<IllegalArgumentException> { LockMode.Wait(0.seconds) }.message shouldBe
            "LockMode.Wait timeout must be > 0, was 0s"
        LockMode.Wait(1.seconds).shouldBeInstanceOf<LockMode>()
        LockMode.TryOnce.toString() shouldBe "TryOnce"
    }
})
