package io.redsync.samples

import io.ktor.http.HttpStatusCode
import io.ktor.server.application.Application
import io.ktor.server.application.install
import io.ktor.server.cio.CIO
import io.ktor.server.engine.embeddedServer
import io.ktor.server.response.respondText
import io.ktor.server.routing.get
import io.ktor.server.routing.post
import io.ktor.server.routing.routing
import io.redsync.ktor.LockMode
import io.redsync.ktor.Redsync
import io.redsync.ktor.withLock
import kotlinx.coroutines.delay
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * A small Ktor service guarded by redsync locks:
 * - `POST /reports/{id}` renders a report at most once at a time per id; a second request while it runs is
 *   answered 409 with Retry-After (the route guard, TryOnce);
 * - `POST /invoices/{id}/pay` waits up to 5 s for the invoice's lock (the route guard, Wait mode);
 * - `GET /stock/{sku}` takes a lock inside the handler with `call.withLock`.
 *
 * Run it: `mvn -q -pl samples -am test-compile exec:java -Dexec.mainClass=io.redsync.samples.KtorServiceKt`, then
 * `curl -X POST localhost:8080/reports/7` twice at once.
 */
fun main() {
    LocalNodes.fromEnvironmentOrStart(3).use { nodes ->
        embeddedServer(CIO, port = 8080) { lockedService(nodes.uris()) }.start(wait = true)
    }
}

/** The service's module: the plugin, then routes guarded by locks. */
fun Application.lockedService(nodes: List<String>, renderTime: kotlin.time.Duration = 300.milliseconds) {
    install(Redsync) {
        this.nodes = nodes
        keyPrefix = "shop:"
        defaults { expiry = 10.seconds }
    }
    routing {
        withLock({ call -> "report:" + call.parameters["id"] }) {
            post("/reports/{id}") {
                delay(renderTime) // rendering
                call.respondText("report ${call.parameters["id"]} rendered")
            }
        }
        withLock({ call -> "invoice:" + call.parameters["id"] }, mode = LockMode.Wait(5.seconds)) {
            post("/invoices/{id}/pay") {
                call.respondText("invoice ${call.parameters["id"]} paid")
            }
        }
        get("/stock/{sku}") {
            val sku = call.parameters["sku"]!!
            val count = call.withLock("stock:$sku") { lease -> "12 in stock (counted under lock ${lease.name})" }
            call.respondText(count, status = HttpStatusCode.OK)
        }
    }
}
