package consumer

import io.ktor.server.application.Application
import io.ktor.server.application.install
import io.ktor.server.response.respondText
import io.ktor.server.routing.get
import io.ktor.server.routing.post
import io.ktor.server.routing.routing
import io.redsync.ktor.LockMode
import io.redsync.ktor.Redsync
import io.redsync.ktor.withLock
import kotlin.time.Duration.Companion.seconds

/** The README's Ktor section, as a user compiles it. */
fun Application.ktorUse(uris: List<String>) {
    install(Redsync) {
        nodes = uris
        defaults { expiry = 10.seconds }
    }
    routing {
        withLock({ call -> "job:" + call.parameters["id"] }, mode = LockMode.Wait(5.seconds)) {
            post("/jobs/{id}/run") { call.respondText("ran") }
        }
        get("/orders/{id}") {
            call.withLock("order:${call.parameters["id"]}") { lease -> call.respondText(lease.value) }
        }
    }
}
