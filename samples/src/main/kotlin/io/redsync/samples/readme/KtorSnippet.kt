package io.redsync.samples.readme

// region README ktor
import io.ktor.server.application.Application
import io.ktor.server.application.install
import io.ktor.server.response.respond
import io.ktor.server.response.respondText
import io.ktor.server.routing.get
import io.ktor.server.routing.post
import io.ktor.server.routing.routing
import io.redsync.ktor.LockMode
import io.redsync.ktor.Redsync
import io.redsync.ktor.withLock
import kotlin.time.Duration.Companion.seconds
// endregion

/** Stand for the application's own work in the README's Ktor example. */
internal fun runJob(): String = "job done"

internal fun loadOrder(): String = "order"

/** The README's Ktor example, compiled (KtorService is the runnable sample). */
fun Application.readmeKtorModule() {
    // region README ktor
    // In Application.module(); runJob() and loadOrder() stand for your own work.
    install(Redsync) {                                    // or a `redsync { nodes = [...] }` section in application.conf
        nodes = listOf("redis://10.0.0.1", "redis://10.0.0.2", "redis://10.0.0.3")
        defaults { expiry = 10.seconds }
    }
    routing {
        // Holds "job:<id>" for the whole handler. Busy: 409 (or 423) with Retry-After from the holder's TTL.
        // Lease lost mid-request: the handler is cancelled and the response is 503.
        withLock({ call -> "job:" + call.parameters["id"] }, mode = LockMode.Wait(5.seconds)) {
            post("/jobs/{id}/run") { call.respondText(runJob()) }
        }
        get("/orders/{id}") {
            call.withLock("order:${call.parameters["id"]}") { lease -> call.respond(loadOrder()) }
        }
    }
    // endregion
}
