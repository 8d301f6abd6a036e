package io.redsync.ktor

import io.redsync.testkit.fixtures.awaitUntil
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.ktor.client.request.post
import io.ktor.client.statement.bodyAsText
import io.ktor.server.response.respondText
import io.ktor.server.routing.post
import io.ktor.server.routing.routing
import io.ktor.server.testing.testApplication
import io.redsync.RedsyncListener
import io.redsync.testkit.RedisNodes
import java.util.concurrent.CopyOnWriteArrayList

class ListenerConfigSpec : FunSpec({
    val nodes = RedisNodes.start(3)
    afterSpec { nodes.close() }

    test("install(Redsync) { listener(...) }: a route guard's lock call and release reach the listener") {
        val seen = CopyOnWriteArrayList<String>()
        val listener = object : RedsyncListener {
            override fun acquired(event: RedsyncListener.Acquired) { seen += "acquired ${event.lockName()} ${event.outcome()}" }
            override fun released(event: RedsyncListener.Released) { seen += "released ${event.lockName()} ${event.outcome()}" }
        }
        testApplication {
            application {
                installRedsync(nodes) { listener(listener) }
                routing {
                    withLock("report") {
                        post("/report") { call.respondText("done") }
                    }
                }
            }
            client.post("/report").bodyAsText() shouldBe "done"
        }
        awaitUntil("the release is reported") { seen.size == 2 }
        seen shouldContainExactly listOf("acquired report GRANTED", "released report RELEASED")
    }
})
