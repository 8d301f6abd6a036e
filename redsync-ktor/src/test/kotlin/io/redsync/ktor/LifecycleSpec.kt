package io.redsync.ktor

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.ktor.client.request.post
import io.ktor.http.HttpStatusCode
import io.ktor.server.application.ApplicationCallPipeline
import io.ktor.server.application.call
import io.ktor.server.application.install
import io.ktor.server.cio.CIO
import io.ktor.server.engine.embeddedServer
import io.ktor.server.http.HttpRequestLifecycle
import io.ktor.server.request.uri
import io.ktor.server.response.respondText
import io.ktor.server.routing.post
import io.ktor.server.routing.routing
import io.ktor.server.testing.testApplication
import io.lettuce.core.event.connection.ConnectedEvent
import io.lettuce.core.resource.DefaultClientResources
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.clientCount
import io.redsync.testkit.fixtures.nodesPerSpec
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.future.await
import kotlinx.coroutines.selects.select
import kotlinx.coroutines.withContext
import java.net.InetSocketAddress
import java.net.Socket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.seconds

class LifecycleSpec : FunSpec({
    val nodes = nodesPerSpec(3, RedisNodes::flushAll)

    test("stopping the application closes the Redsync instance: connections and subscriptions back to the baseline") {
        val baseline = nodes.nodes().map { it.clientCount() }
        val entered = CompletableDeferred<Unit>()
        val finish = CompletableDeferred<Unit>()
        testApplication {
            application {
                installRedsync(nodes)
                routing {
                    withLock("shutdown", LockMode.Wait(20.seconds)) {
                        post("/work/{who}") {
                            if (call.parameters["who"] == "a") {
                                entered.complete(Unit)
                                finish.await()
                            }
                            call.respondText("done")
                        }
                    }
                }
            }
            coroutineScope {
                val a = async { client.post("/work/a") }
                entered.awaitEnteredBy(a)
                val b = async { client.post("/work/b") }
                awaitUntil("b waits, subscribed to release announcements") { nodes.someoneWaits() }
                // The instance is connected: a command connection and a subscription connection per node.
                nodes.nodes().forEachIndexed { i, node -> node.clientCount() shouldBeGreaterThan baseline[i] }
                finish.complete(Unit)
                a.await().status shouldBe HttpStatusCode.OK
                b.await().status shouldBe HttpStatusCode.OK
            }
        }
        // testApplication has stopped the application: ApplicationStopped closed the instance.
        awaitUntil("every node is back to ${baseline} clients, none subscribed") {
            nodes.nodes().map { it.clientCount() } == baseline && !nodes.someoneWaits()
        }
        nodes.awaitNoKeys()
    }

    test("the application's Lettuce resources are used for the nodes and survive the application's stop") {
        val resources = DefaultClientResources.create()
        val connected = ConcurrentLinkedQueue<Int>()
        val events = resources.eventBus().get().ofType(ConnectedEvent::class.java)
            .subscribe { connected += (it.remoteAddress() as InetSocketAddress).port }
        try {
            testApplication {
                application {
                    installRedsync(nodes) { clientResources = resources }
                    routing { withLock({ "resources" }) { post("/r") { call.respondText("done") } } }
                }
                client.post("/r").status shouldBe HttpStatusCode.OK
            }
            awaitUntil("the resources' event bus saw the plugin's connections") {
                connected.containsAll(nodes.nodes().map { it.port() })
            }
            resources.eventExecutorGroup().isShuttingDown shouldBe false
        } finally {
            events.dispose()
            resources.shutdown()
        }
    }

    test("a client that disconnects while waiting stops the wait at once and leaves no keys (CIO engine)") {
        val entered = CompletableDeferred<Unit>()
        val finish = CompletableDeferred<Unit>()
        val handlerRuns = AtomicInteger()
        val cancelledCalls = ConcurrentLinkedQueue<String>()
        val server = embeddedServer(CIO, port = 0) {
            // Without it Ktor lets a call run on after its client has gone.
            install(HttpRequestLifecycle) { cancelCallOnClose = true }
            installRedsync(nodes)
            intercept(ApplicationCallPipeline.Monitoring) {
                try {
                    proceed()
                } catch (e: CancellationException) {
                    cancelledCalls += call.request.uri
                    throw e
                }
            }
            routing {
                withLock("disconnect", LockMode.Wait(20.seconds)) {
                    post("/work/{who}") {
                        handlerRuns.incrementAndGet()
                        if (call.parameters["who"] == "a") {
                            entered.complete(Unit)
                            finish.await()
                        }
                        call.respondText("done")
                    }
                }
            }
        }.start(wait = false)
        try {
            val port = server.engine.resolvedConnectors().first().port
            val http = HttpClient.newHttpClient()
            coroutineScope {
                val a = async {
                    http.sendAsync(
                        HttpRequest.newBuilder(URI("http://127.0.0.1:$port/work/a")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString(),
                    ).await()
                }
                select {
                    entered.onAwait {}
                    a.onAwait { throw AssertionError("a finished without entering its handler: ${it.statusCode()} ${it.body()}") }
                }
                withContext(Dispatchers.IO) {
                    Socket("127.0.0.1", port).use { socket ->
                        socket.getOutputStream().apply {
                            write("POST /work/b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n".toByteArray())
                            flush()
                        }
                        awaitUntil("b waits, subscribed to release announcements") { nodes.someoneWaits() }
                    } // the client goes away
                }
                awaitUntil("the server cancelled b's call") { "/work/b" in cancelledCalls }
                // The lock future was cancelled: the waiter unsubscribed while a still holds the lock.
                awaitUntil("b's wait stopped") { !nodes.someoneWaits() }
                (nodes.holding("disconnect") >= nodes.quorum) shouldBe true // a still holds it

                finish.complete(Unit)
                a.await().statusCode() shouldBe 200
            }
            nodes.awaitNoKeys()
            handlerRuns.get() shouldBe 1
        } finally {
            server.stop(0, 2_000)
        }
    }
})
